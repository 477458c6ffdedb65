"""A buyer's statement PDFs, mounted under /buyer/statements/<year>/pdf/ by buyers.statement_urls.

The programme is named ``code``, not ``programme_code``: ScopeMiddleware would take the route for
a programme page and require a grant there (a buyer's statement reaches programmes where it may
read no report today)."""

from django.urls import path

from reporting import statement_views

urlpatterns = [
    path("", statement_views.statement_pdfs, name="pdf"),
    path("jobs/<int:pk>/download/", statement_views.statement_pdf_download, name="pdf_download"),
    path("<str:code>/<str:language>/", statement_views.statement_pdf_request, name="pdf_request"),
]
