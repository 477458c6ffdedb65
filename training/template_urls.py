from django.urls import path

from training import views

app_name = "training_templates"

urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_edit, name="create"),
    path("<int:pk>/edit/", views.template_edit, name="edit"),
]
