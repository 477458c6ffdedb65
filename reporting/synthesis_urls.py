from django.urls import path

from reporting import synthesis_views

app_name = "synthesis"

urlpatterns = [
    path("", synthesis_views.synthesis_list, name="list"),
    path("new/", synthesis_views.synthesis_create, name="create"),
    path("<int:pk>/", synthesis_views.synthesis_preview, name="preview"),
    path("<int:pk>/edit/", synthesis_views.synthesis_edit, name="edit"),
    path("<int:pk>/publish/", synthesis_views.synthesis_publish, name="publish"),
    path("<int:pk>/withdraw/", synthesis_views.synthesis_withdraw, name="withdraw"),
    path("<int:pk>/new-version/", synthesis_views.synthesis_new_version, name="new_version"),
    path("<int:pk>/delete/", synthesis_views.synthesis_delete, name="delete"),
]
