from django.apps import AppConfig


class FactoriesConfig(AppConfig):
    name = "factories"
