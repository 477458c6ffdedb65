from django.urls import path

from assessments import api

urlpatterns = [
    path("", api.ToolVersionList.as_view(), name="api-tool-versions"),
    path("<int:pk>/", api.ToolVersionDetail.as_view(), name="api-tool-version"),
]
