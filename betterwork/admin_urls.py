from django.urls import path

from betterwork import admin_views

app_name = "people"

urlpatterns = [
    path("p/<str:programme_code>/users/", admin_views.user_list, name="list"),
    path("p/<str:programme_code>/users/invite/", admin_views.user_invite, name="invite"),
    path("p/<str:programme_code>/users/<int:user_id>/", admin_views.user_detail, name="detail"),
    path(
        "p/<str:programme_code>/users/<int:user_id>/revoke/<int:grant_id>/",
        admin_views.grant_revoke,
        name="revoke",
    ),
    path(
        "p/<str:programme_code>/users/<int:user_id>/training/<int:grant_id>/",
        admin_views.grant_training,
        name="training",
    ),
    path("p/<str:programme_code>/users/<int:user_id>/active/", admin_views.user_active, name="active"),
    path("p/<str:programme_code>/audit/", admin_views.audit_list, name="audit"),
    path("programmes/", admin_views.programme_list, name="programmes"),
    path("programmes/new/", admin_views.programme_edit, name="programme_create"),
    path("programmes/<int:pk>/edit/", admin_views.programme_edit, name="programme_edit"),
]
