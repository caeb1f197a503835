from django.apps import AppConfig


class CoreConfig(AppConfig):
    """No models: the exception family, role sets, paging and the commands every deployment runs."""

    name = "core"

    def ready(self):
        from core import checks  # noqa: F401  (registers the system checks)
