from django.urls import path

from reporting import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.programme_dashboard, name="programme"),
    path("questions/", dashboard_views.all_questions, name="questions"),
    path("factories/", dashboard_views.factories_behind, name="factories"),
]
