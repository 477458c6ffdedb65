"""The public, read-only API (no sign-in), under /api/v1/public/. The programme is named ``code``
(not ``programme_code``) for the reason given in reporting/public_urls.py."""

from django.urls import path

from reporting import synthesis_api, transparency_api

urlpatterns = [
    path(
        "<str:code>/transparency/",
        transparency_api.PublicTransparencyList.as_view(),
        name="api-public-transparency",
    ),
    path(
        "<str:code>/synthesis/", synthesis_api.PublicSynthesisList.as_view(), name="api-public-synthesis-list"
    ),
    path(
        "<str:code>/synthesis/<int:pk>/",
        synthesis_api.PublicSynthesisDetail.as_view(),
        name="api-public-synthesis",
    ),
]
