from django.urls import path

from reporting import views

app_name = "reports"

urlpatterns = [
    path("jobs/<int:pk>/", views.job_status, name="job"),
    path("jobs/<int:pk>/download/", views.job_download, name="download"),
    path("<str:kind_name>/<int:target_id>/", views.report_panel, name="panel"),
    path("<str:kind_name>/<int:target_id>/<str:language>/", views.report_request, name="request"),
]
