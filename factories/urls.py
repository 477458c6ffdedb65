from django.urls import path

from factories import views

app_name = "factories"

urlpatterns = [
    path("", views.factory_list, name="list"),
    path("new/", views.factory_create, name="create"),
    path("import/", views.factory_import, name="import"),
    path("export/", views.factory_export, name="export"),
    path("<int:pk>/", views.factory_detail, name="detail"),
    path("<int:pk>/edit/", views.factory_edit, name="edit"),
    path("<int:pk>/status/", views.factory_status, name="status"),
    path("<int:pk>/staff/", views.factory_staff, name="staff"),
    path("<int:pk>/staff/<int:grant_id>/revoke/", views.factory_staff_revoke, name="staff_revoke"),
]
