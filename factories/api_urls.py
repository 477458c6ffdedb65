from django.urls import path

from betterwork import permissions
from betterwork.imports_api import import_urls
from factories import api
from factories.imports import FactoryImporter

urlpatterns = [
    path("", api.FactoryListCreate.as_view(), name="api-factory-list"),
    path("<int:pk>/", api.FactoryDetail.as_view(), name="api-factory-detail"),
    *import_urls(
        lambda programme, decisions: FactoryImporter(programme, decisions=decisions),
        permissions.can_import_factories,
        "factory",
    ),
]
