from django.urls import path

from buyers import api

urlpatterns = [
    path("factories/", api.BuyerFactoryList.as_view(), name="api-buyer-factories"),
    path(
        "factories/<int:factory_id>/reports/",
        api.BuyerFactoryReports.as_view(),
        name="api-buyer-factory-reports",
    ),
]
