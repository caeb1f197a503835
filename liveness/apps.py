from django.apps import AppConfig


class LivenessConfig(AppConfig):
    name = "liveness"
    verbose_name = "Liveness checks"
