from django.urls import path

from training import api

urlpatterns = [
    path("courses/", api.CourseListCreate.as_view(), name="api-training-courses"),
    path("courses/<int:pk>/", api.CourseDetail.as_view(), name="api-training-course"),
    path("sessions/", api.SessionListCreate.as_view(), name="api-training-sessions"),
    path("sessions/<int:pk>/", api.SessionDetail.as_view(), name="api-training-session"),
    path("sessions/<int:pk>/cancel/", api.SessionCancel.as_view(), name="api-training-session-cancel"),
    path(
        "sessions/<int:pk>/participants/",
        api.ParticipantListCreate.as_view(),
        name="api-training-participants",
    ),
    path(
        "sessions/<int:pk>/participants/<int:participant_id>/",
        api.ParticipantDetail.as_view(),
        name="api-training-participant",
    ),
    path(
        "sessions/<int:pk>/participants/<int:participant_id>/evaluation/",
        api.ParticipantEvaluation.as_view(),
        name="api-training-evaluation",
    ),
    path("sessions/<int:pk>/attendance/", api.SessionAttendance.as_view(), name="api-training-attendance"),
    path("entitlements/", api.EntitlementList.as_view(), name="api-training-entitlements"),
    path(
        "entitlements/<int:factory_id>/<int:cycle>/",
        api.EntitlementSet.as_view(),
        name="api-training-entitlement",
    ),
    path("figures/", api.Figures.as_view(), name="api-training-figures"),
    path(
        "factories/<int:factory_id>/training/",
        api.FactoryTraining.as_view(),
        name="api-training-factory",
    ),
]
