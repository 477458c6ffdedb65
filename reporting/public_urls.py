"""The public site: no sign-in. The programme is named ``code``, not ``programme_code``: the scope
middleware would take the route for a programme page and ask for a grant there."""

from django.urls import path

from reporting import transparency_views

app_name = "public"

urlpatterns = [
    path("", transparency_views.public_index, name="index"),
    path("language/", transparency_views.public_language, name="language"),
    path("<str:code>/transparency/", transparency_views.public_transparency, name="transparency"),
    path("<str:code>/transparency.csv", transparency_views.public_transparency_csv, name="transparency_csv"),
]
