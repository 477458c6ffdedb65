from django.urls import path

from buyers import price_views

app_name = "buyer_prices"

urlpatterns = [
    path("", price_views.price_bands, name="bands"),
    path("credits/", price_views.credits_page, name="credits"),
]
