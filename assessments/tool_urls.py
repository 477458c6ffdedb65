from django.urls import path

from assessments import tool_views

app_name = "tool"

urlpatterns = [
    path("", tool_views.tool_list, name="list"),
    path("<int:pk>/", tool_views.tool_detail, name="detail"),
    path("<int:pk>/export/", tool_views.tool_export, name="export"),
    path("<int:pk>/copy/", tool_views.tool_copy, name="copy"),
    path("<int:pk>/questions/<int:question_id>/", tool_views.tool_question_edit, name="question"),
    path("<int:pk>/<str:action>/", tool_views.tool_action, name="action"),
]
