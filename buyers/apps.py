from django.apps import AppConfig


class BuyersConfig(AppConfig):
    name = "buyers"

    def ready(self) -> None:
        from buyers import signals  # noqa: F401 - connects the receivers
