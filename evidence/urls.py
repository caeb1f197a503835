"""Evidence: an item's evidence page and upload, the audited file view, the blurred preview, the preference."""

from django.urls import path

from evidence import preview_views
from evidence import views as evidence

urlpatterns = [
    path("items/<int:pk>/evidence/", evidence.item_evidence, name="item-evidence"),
    path("evidence/<int:pk>/file/", evidence.evidence_file, name="evidence-file"),
    path("evidence/<int:pk>/preview/", preview_views.evidence_preview, name="evidence-preview"),
    path("me/preferences/", evidence.preferences, name="preferences"),
]
