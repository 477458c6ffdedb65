from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from betterwork import api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api.docs, name="api-docs"),
    path("v1/me/", api.me, name="api-me"),
    path("v1/buyer/", include("buyers.api_urls")),
    path("v1/public/", include("reporting.public_api_urls")),
    path("v1/tool/versions/", include("assessments.tool_api_urls")),
    path("v1/p/<str:programme_code>/factories/", include("factories.api_urls")),
    path("v1/p/<str:programme_code>/assessments/", include("assessments.api_urls")),
    path("v1/p/<str:programme_code>/reports/", include("reporting.api_urls")),
    path("v1/p/<str:programme_code>/training/", include("training.api_urls")),
    path("v1/p/<str:programme_code>/advisory/", include("advisory.api_urls")),
]
