from django.urls import path

from factories import api

urlpatterns = [
    path("", api.FactoryListCreate.as_view(), name="api-factory-list"),
    path("<int:pk>/", api.FactoryDetail.as_view(), name="api-factory-detail"),
]
