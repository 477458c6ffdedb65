from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BetterworkConfig(AppConfig):
    name = "betterwork"
    verbose_name = _("Betterwork")

    def ready(self) -> None:
        from django.core.cache import cache
        from django.db.models.signals import post_delete, post_save

        from betterwork.models import Programme
        from betterwork.selectors import programme_cache_key

        def forget(sender: type, instance: Programme, **kwargs: object) -> None:
            cache.delete(programme_cache_key(instance.code))

        post_save.connect(forget, sender=Programme, weak=False, dispatch_uid="programme-cache")
        post_delete.connect(forget, sender=Programme, weak=False, dispatch_uid="programme-cache-delete")
