from django.urls import path

from reporting import dashboard_views

app_name = "compare"

urlpatterns = [
    path("", dashboard_views.compare, name="programmes"),
]
