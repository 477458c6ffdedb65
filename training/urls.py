from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("", views.session_list, name="sessions"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/participants/", views.participant_add, name="participant_add"),
    path(
        "sessions/<int:pk>/participants/<int:participant_id>/remove/",
        views.participant_remove,
        name="participant_remove",
    ),
    path("sessions/<int:pk>/attendance/", views.attendance_save, name="attendance"),
    path("sessions/<int:pk>/attendance/import/", views.attendance_import, name="attendance_import"),
    path("sessions/<int:pk>/attendance/export/", views.attendance_export, name="attendance_export"),
    path("sessions/<int:pk>/evaluations/", views.evaluations, name="evaluations"),
    path("courses/", views.course_list, name="courses"),
    path("courses/new/", views.course_edit, name="course_create"),
    path("courses/copy/", views.course_copy, name="course_copy"),
    path("courses/<int:pk>/edit/", views.course_edit, name="course_edit"),
    path("entitlements/", views.entitlement_list, name="entitlements"),
    path("entitlements/set/", views.entitlement_edit, name="entitlement_edit"),
    path("entitlements/import/", views.entitlement_import, name="entitlement_import"),
    path("entitlements/export/", views.entitlement_export, name="entitlement_export"),
    path("factories/<int:factory_id>/", views.factory_training, name="factory"),
    path("figures/", views.figures, name="figures"),
    path("export/", views.programme_export, name="export"),
]
