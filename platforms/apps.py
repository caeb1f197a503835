from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "platforms"

    def ready(self):
        from platforms import directory

        directory.connect()
