from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated


class SwaggerUI(SpectacularSwaggerView):
    """The Swagger UI, for a signed-in user (or an API key) unless API_SCHEMA_PUBLIC (SPECTACULAR_SETTINGS's
    SERVE_PERMISSIONS): a browser without either is sent to the login page, and back here after it."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


urlpatterns = [
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerUI.as_view(url_name="schema"), name="swagger-ui"),
    # The admin signs in through the desk's own form: the password, then the second factor (accounts/views.py).
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    # The pages, app by app. Every view checks the role on the server (core/access.py).
    path("", include("accounts.urls")),
    path("", include("cases.urls")),
    path("", include("referral.urls")),
    path("", include("liveness.urls")),
    path("", include("reports.urls")),
    path("", include("alerts.urls")),
    path("", include("intake.urls")),
    path("", include("evidence.urls")),
    path("", include("search.urls")),
    path("", include("notifications.urls")),
]
