"""API v1 path of the search (included by config/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("search/", api.Search.as_view(), name="search"),
]
