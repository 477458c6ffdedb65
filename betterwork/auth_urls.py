from django.contrib.auth import views as auth_views
from django.urls import include, path

from betterwork.auth_forms import EmailPasswordResetForm

urlpatterns = [
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=EmailPasswordResetForm, subject_template_name="registration/password_reset_subject.txt"
        ),
        name="password_reset",
    ),
    path("", include("django.contrib.auth.urls")),
]
