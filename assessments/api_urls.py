from django.urls import path

from assessments import api
from assessments.imports import HistoryImporter
from betterwork import permissions
from betterwork.imports_api import import_urls

urlpatterns = [
    path("", api.AssessmentListCreate.as_view(), name="api-assessment-list"),
    path("<int:pk>/", api.AssessmentDetail.as_view(), name="api-assessment-detail"),
    path("<int:pk>/transition/", api.AssessmentTransition.as_view(), name="api-assessment-transition"),
    path("<int:pk>/answers/", api.AssessmentAnswers.as_view(), name="api-assessment-answers"),
    path("<int:pk>/attachments/", api.AssessmentAttachments.as_view(), name="api-assessment-attachments"),
    *import_urls(
        lambda programme, _decisions: HistoryImporter(programme),
        permissions.can_import_assessments,
        "history",
    ),
]
