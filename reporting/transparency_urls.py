"""A factory's transparency entry and its response, under /p/<code>/factories/<id>/transparency/."""

from django.urls import path

from reporting import transparency_views

app_name = "transparency"

urlpatterns = [
    path("", transparency_views.factory_transparency, name="factory"),
]
