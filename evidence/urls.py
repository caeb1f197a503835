"""Evidence: an item's evidence page and upload, the audited file view, and the preview preference."""

from django.urls import path

from evidence import views as evidence

urlpatterns = [
    path("items/<int:pk>/evidence/", evidence.item_evidence, name="item-evidence"),
    path("evidence/<int:pk>/file/", evidence.evidence_file, name="evidence-file"),
    path("me/preferences/", evidence.preferences, name="preferences"),
]
