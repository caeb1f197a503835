"""API v1 paths of cases and items (included by config/api_urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("cases/", api.CaseListCreate.as_view(), name="case-list"),
    path("cases/<int:pk>/", api.CaseDetail.as_view(), name="case-detail"),
    path("items/", api.ItemListCreate.as_view(), name="item-list"),
    path("items/<int:pk>/", api.ItemDetail.as_view(), name="item-detail"),
    path("items/<int:pk>/propose/", api.ItemPropose.as_view(), name="item-propose"),
    path("items/<int:pk>/assess/", api.ItemAssess.as_view(), name="item-assess"),
]
