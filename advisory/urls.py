from django.urls import path

from advisory import views

app_name = "advisory"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("factories/<int:factory_id>/plan/", views.factory_plan, name="factory_plan"),
    path("factories/<int:factory_id>/plan/start/", views.plan_start, name="plan_start"),
    path("plans/export/", views.plans_export, name="plans_export"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/findings/", views.plan_add_findings, name="plan_findings"),
    path("plans/<int:pk>/self-diagnosis/", views.plan_add_diagnosis, name="plan_diagnosis"),
    path("plans/<int:pk>/items/", views.plan_add_item, name="plan_add_item"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/row/", views.item_row, name="item_row"),
    path("items/<int:pk>/comments/", views.item_comment, name="item_comment"),
    path("items/<int:pk>/evidence/", views.item_evidence, name="item_evidence"),
    path("items/<int:pk>/evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("items/<int:pk>/verify/", views.item_verify, name="item_verify"),
    path("items/<int:pk>/reopen/", views.item_reopen, name="item_reopen"),
    path("progress/<int:pk>/", views.progress_detail, name="progress"),
]
