from django.urls import path

from buyers import org_views, views

app_name = "buyer"

urlpatterns = [
    path("", views.portal, name="portal"),
    path("factories/<int:factory_id>/", views.factory, name="factory"),
    path("supply-base/", views.supply_base, name="supply_base"),
    path("people/", org_views.colleagues, name="people"),
]
