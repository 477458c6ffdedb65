from django.urls import path

from reporting import api

urlpatterns = [
    path("", api.ReportRequest.as_view(), name="api-report-request"),
    path("<int:pk>/", api.ReportJobDetail.as_view(), name="api-report-job"),
    path("<int:pk>/download/", api.ReportDownload.as_view(), name="api-report-download"),
]
