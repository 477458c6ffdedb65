from django.contrib.auth import views as auth_views
from django.urls import include, path

from betterwork import views
from betterwork.auth_forms import EmailPasswordResetForm

urlpatterns = [
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=EmailPasswordResetForm, subject_template_name="registration/password_reset_subject.txt"
        ),
        name="password_reset",
    ),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("two-step/", views.two_factor_setup, name="two_factor_setup"),
    path("two-step/code/", views.two_factor_verify, name="two_factor_verify"),
    path("", include("django.contrib.auth.urls")),
]
