from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import key_cache, schema, sessions  # noqa: F401  (schema registers the OpenAPI extension)

        key_cache.connect()
        sessions.connect()
