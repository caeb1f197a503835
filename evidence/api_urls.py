"""Evidence of an item over the API: list it, upload a file (multipart)."""

from django.urls import path

from evidence import api as evidence

urlpatterns = [
    path("items/<int:pk>/evidence/", evidence.ItemEvidence.as_view(), name="item-evidence"),
]
