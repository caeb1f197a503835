from django.apps import AppConfig


class CoreConfig(AppConfig):
    """No models: the exception family, role sets, paging and the commands every deployment runs."""

    name = "core"
