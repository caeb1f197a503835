"""API v1 paths of platforms and contact points (included by config/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("platforms/", api.PlatformListCreate.as_view(), name="platform-list"),
    path("platforms/<int:pk>/legal/", api.PlatformLegalSet.as_view(), name="platform-legal"),
    path("contact-points/<int:pk>/rotate-secret/", api.ContactPointRotateSecret.as_view(), name="cp-rotate"),
    path("contact-points/<int:pk>/enable/", api.ContactPointEnable.as_view(), name="cp-enable"),
]
