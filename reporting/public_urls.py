"""The public site: no sign-in. The programme is named ``code``, not ``programme_code``: the scope
middleware would take the route for a programme page and ask for a grant there."""

from django.urls import path

from reporting import public_views, transparency_views

app_name = "public"

urlpatterns = [
    path("", transparency_views.public_index, name="index"),
    path("language/", transparency_views.public_language, name="language"),
    path("<str:code>/", public_views.public_programme, name="programme"),
    path("<str:code>/transparency/", transparency_views.public_transparency, name="transparency"),
    path("<str:code>/transparency.csv", transparency_views.public_transparency_csv, name="transparency_csv"),
    path("<str:code>/synthesis/<int:pk>/", public_views.public_synthesis, name="synthesis"),
    path("<str:code>/synthesis/<int:pk>.csv", public_views.public_synthesis_csv, name="synthesis_csv"),
    path(
        "<str:code>/synthesis/<int:pk>/pdf/<str:language>/",
        public_views.public_synthesis_pdf,
        name="synthesis_pdf",
    ),
]
