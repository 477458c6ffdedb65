from django.urls import path

from advisory import visit_api

urlpatterns = [
    path("visits/", visit_api.VisitListCreate.as_view(), name="api-advisory-visits"),
    path("visits/figures/", visit_api.VisitFigures.as_view(), name="api-advisory-visit-figures"),
    path("visits/<int:pk>/", visit_api.VisitDetail.as_view(), name="api-advisory-visit"),
    path(
        "factories/<int:factory_id>/visits/",
        visit_api.FactoryVisits.as_view(),
        name="api-advisory-factory-visits",
    ),
    path(
        "factories/<int:factory_id>/self-diagnoses/",
        visit_api.FactoryDiagnoses.as_view(),
        name="api-self-diagnoses",
    ),
    path("self-diagnoses/<int:pk>/", visit_api.DiagnosisDetail.as_view(), name="api-self-diagnosis"),
    path(
        "self-diagnoses/<int:pk>/answers/",
        visit_api.DiagnosisAnswers.as_view(),
        name="api-self-diagnosis-answers",
    ),
    path(
        "self-diagnoses/<int:pk>/submit/",
        visit_api.DiagnosisSubmit.as_view(),
        name="api-self-diagnosis-submit",
    ),
]
