from django.urls import path

from reporting import archive_views

urlpatterns = [
    path("export/", archive_views.programme_export, name="programme_export"),
    path("archive/", archive_views.archive_request, name="programme_archive_request"),
    path("archive/<int:pk>/download/", archive_views.archive_download, name="programme_archive_download"),
]
