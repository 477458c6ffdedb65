from django.urls import include, path

from buyers import statement_views

app_name = "buyer_statements"

urlpatterns = [
    path("", statement_views.statement_latest, name="latest"),
    path("<int:year>/", statement_views.statement_year, name="year"),
    # The statement PDFs are report jobs: reporting's pages, named by string (the arrows point one way).
    path("<int:year>/pdf/", include("reporting.statement_urls")),
]
