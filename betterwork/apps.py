from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BetterworkConfig(AppConfig):
    name = "betterwork"
    verbose_name = _("Betterwork")
