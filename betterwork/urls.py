from django.urls import include, path

from betterwork import api, health, views

urlpatterns = [
    path("", include("reporting.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.web_manifest, name="web_manifest"),
    path("offline/", views.offline_page, name="offline"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_read, name="inbox_read"),
    path("p/<str:programme_code>/", include("reporting.archive_urls")),
    path("accounts/", include("betterwork.auth_urls")),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("p/<str:programme_code>/factories/", include("factories.urls")),
    path("p/<str:programme_code>/factories/<int:factory_id>/buyers/", include("buyers.consent_urls")),
    path(
        "p/<str:programme_code>/factories/<int:factory_id>/transparency/",
        include("reporting.transparency_urls"),
    ),
    path("p/<str:programme_code>/assessments/", include("assessments.urls")),
    path("p/<str:programme_code>/reports/", include("reporting.report_urls")),
    path("p/<str:programme_code>/dashboard/", include("reporting.dashboard_urls")),
    path("p/<str:programme_code>/synthesis/", include("reporting.synthesis_urls")),
    path("compare/", include("reporting.compare_urls")),
    path("p/<str:programme_code>/training/", include("training.urls")),
    path("p/<str:programme_code>/advisory/", include("advisory.urls")),
    path("p/<str:programme_code>/advisory/", include("advisory.committee_urls")),
    path("p/<str:programme_code>/advisory/", include("advisory.visit_urls")),
    path("training-templates/", include("training.template_urls")),
    path("tool/", include("assessments.tool_urls")),
    path("buyer/", include("buyers.urls")),
    path("buyers/", include("buyers.org_urls")),
    path("p/<str:programme_code>/buyer-prices/", include("buyers.price_urls")),
    path("p/<str:programme_code>/buyers/", include("buyers.subscription_urls")),
    path("buyer/statements/", include("buyers.statement_urls")),
    path("public/", include("reporting.public_urls")),
    path("", include("betterwork.admin_urls")),
    path("api/", include("betterwork.api_urls")),
]
# The API answers its 404s in JSON, whatever raised them (the route, the programme scope).
handler404 = api.not_found
