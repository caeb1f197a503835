"""Tells drf-spectacular how API keys are sent, so the schema and Swagger UI show the Bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerAPIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key from `manage.py issue_api_key`."}
