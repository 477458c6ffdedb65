"""The programme's buyer subscriptions, under /p/<code>/buyers/ (a factory's own are under its page)."""

from django.urls import path

from buyers import export_views

app_name = "subscriptions"

urlpatterns = [
    path("subscriptions/export/", export_views.subscriptions_export, name="export"),
]
