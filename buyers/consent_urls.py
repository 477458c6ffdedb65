from django.urls import path

from buyers import consent_views

app_name = "factory_buyers"

urlpatterns = [
    path("", consent_views.factory_buyers, name="list"),
    path("<int:buyer_id>/consent/", consent_views.consent_change, name="consent"),
    path("subscriptions/", consent_views.subscriptions, name="subscriptions"),
    path(
        "subscriptions/<int:subscription_id>/activate/", consent_views.subscription_activate, name="activate"
    ),
    path("subscriptions/<int:subscription_id>/cancel/", consent_views.subscription_cancel, name="cancel"),
]
