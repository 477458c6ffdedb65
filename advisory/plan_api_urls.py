from django.urls import path

from advisory import api

urlpatterns = [
    path("factories/<int:factory_id>/plans/", api.FactoryPlans.as_view(), name="api-factory-plans"),
    path("plans/<int:pk>/", api.PlanDetail.as_view(), name="api-plan"),
    path("plans/<int:pk>/items/", api.PlanItems.as_view(), name="api-plan-items"),
    path("plans/<int:pk>/findings/", api.PlanFindings.as_view(), name="api-plan-findings"),
    path("items/<int:pk>/", api.ItemDetail.as_view(), name="api-plan-item"),
    path("items/<int:pk>/verify/", api.ItemVerify.as_view(), name="api-plan-item-verify"),
    path("items/<int:pk>/reopen/", api.ItemReopen.as_view(), name="api-plan-item-reopen"),
    path("items/<int:pk>/comments/", api.ItemComments.as_view(), name="api-plan-item-comments"),
    path("progress-reports/<int:pk>/", api.ProgressDetail.as_view(), name="api-progress-report"),
    path(
        "progress-reports/<int:pk>/submit/", api.ProgressSubmit.as_view(), name="api-progress-report-submit"
    ),
]
