from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"

    def ready(self) -> None:
        from reporting import signals  # noqa: F401 - connects the receivers
