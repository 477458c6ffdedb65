"""Pages of advisory visits and of the factory's self-diagnosis, under /p/<code>/advisory/."""

from django.urls import path

from advisory import diagnosis_views, visit_views

app_name = "visits"

urlpatterns = [
    # Advisory visits
    path("visits/", visit_views.programme_visits, name="list"),
    path("visits/new/", visit_views.visit_new, name="new"),
    path("visits/<int:pk>/edit/", visit_views.visit_edit, name="edit"),
    path("visits/<int:pk>/delete/", visit_views.visit_delete, name="delete"),
    path("factories/<int:factory_id>/visits/", visit_views.factory_visits, name="factory"),
    path("factories/<int:factory_id>/visits/new/", visit_views.visit_create, name="create"),
    # Self-diagnosis
    path("factories/<int:factory_id>/self-diagnosis/", diagnosis_views.overview, name="diagnosis"),
    path("factories/<int:factory_id>/self-diagnosis/start/", diagnosis_views.start, name="diagnosis_start"),
    path(
        "factories/<int:factory_id>/self-diagnosis/<int:pk>/",
        diagnosis_views.results,
        name="diagnosis_results",
    ),
    path(
        "factories/<int:factory_id>/self-diagnosis/<int:pk>/submit/",
        diagnosis_views.submit,
        name="diagnosis_submit",
    ),
    path(
        "factories/<int:factory_id>/self-diagnosis/<int:pk>/<str:cluster_code>/",
        diagnosis_views.cluster,
        name="diagnosis_cluster",
    ),
]
