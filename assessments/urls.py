from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("", views.assessment_list, name="list"),
    path("plan/", views.assessment_plan, name="plan"),
    path("import/", views.history_import, name="import"),
    path("import/template/", views.history_template, name="import_template"),
    path("export/", views.history_export, name="export"),
    path("rounds/", views.round_list, name="rounds"),
    path("rounds/<int:pk>/", views.round_edit, name="round_edit"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/", views.assessment_detail, name="detail"),
    path("<int:pk>/transition/", views.assessment_transition, name="transition"),
    path("<int:pk>/visit/", views.visit_update, name="visit"),
    path("<int:pk>/draft/", views.draft_report, name="draft"),
    path("<int:pk>/comments/<int:comment_id>/respond/", views.comment_respond, name="comment_respond"),
    path("<int:pk>/clusters/<str:cluster_code>/", views.assessment_cluster, name="cluster"),
    path("<int:pk>/answers/<int:question_id>/", views.answer_save, name="answer"),
    path("<int:pk>/offline/", views.offline_changes, name="offline"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("<int:pk>/interviews/", views.interview_notes, name="interviews"),
    path("<int:pk>/interviews/<int:note_id>/", views.interview_note_edit, name="interview_edit"),
    path("<int:pk>/interviews/<int:note_id>/delete/", views.interview_note_delete, name="interview_delete"),
]
