"""The global team's buyer organisations (/buyers/; the buyer portal is /buyer/)."""

from django.urls import path

from buyers import org_views

app_name = "buyer_orgs"

urlpatterns = [
    path("", org_views.buyer_list, name="list"),
    path("new/", org_views.buyer_create, name="create"),
    path("<int:buyer_id>/", org_views.buyer_detail, name="detail"),
    path("<int:buyer_id>/invite/", org_views.buyer_invite, name="invite"),
]
