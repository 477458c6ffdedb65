from django.urls import include, path

urlpatterns = [
    path("", include("advisory.plan_api_urls")),
    path("", include("advisory.committee_api_urls")),
    path("", include("advisory.visit_api_urls")),
]
