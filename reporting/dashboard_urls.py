from django.urls import path

from reporting import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.programme_dashboard, name="programme"),
    path("factories/", dashboard_views.factories_behind, name="factories"),
]
