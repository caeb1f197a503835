from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The exception family, role sets, paging, the API's rate limits and Idempotency-Keys (its one table), and the
    commands every deployment runs."""

    name = "core"

    def ready(self):
        from core import checks  # noqa: F401  (registers the system checks)
