from django.urls import path

from assessments import api

urlpatterns = [
    path("", api.AssessmentListCreate.as_view(), name="api-assessment-list"),
    path("<int:pk>/", api.AssessmentDetail.as_view(), name="api-assessment-detail"),
    path("<int:pk>/transition/", api.AssessmentTransition.as_view(), name="api-assessment-transition"),
    path("<int:pk>/answers/", api.AssessmentAnswers.as_view(), name="api-assessment-answers"),
    path("<int:pk>/attachments/", api.AssessmentAttachments.as_view(), name="api-assessment-attachments"),
]
