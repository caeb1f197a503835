"""`/evidence/<id>/preview/`: the server's blurred, greyscale copy of an image, shown until a person reveals it.

It must be blurred by itself (no stylesheet needed), for the unit's staff only, and it is not a consultation:
only the file itself (`/evidence/<id>/file/`, what Reveal loads) writes "evidence.viewed".
"""

import numpy as np
import pytest

from audit.models import AuditEvent
from evidence import actions as service
from tests.conftest import signed_in
from tests.evidence.conftest import MP4, PDF, encode, picture, png, upload
from tests.pictures import colourfulness, load, sharpness


def attach(analyst, item, name, content):
    return service.evidence_add(actor=analyst, item_id=item.pk, upload=upload(name, content)).evidence


def preview_url(ev) -> str:
    return f"/evidence/{ev.pk}/preview/"


def test_the_preview_is_a_blurred_greyscale_copy_of_the_image(analyst, item):
    original = picture(1)
    ev = attach(analyst, item, "shot.png", encode(original, "PNG"))
    res = signed_in(analyst).get(preview_url(ev))
    assert res.status_code == 200
    assert res["Content-Type"] == "image/jpeg" and res["Content-Disposition"] == "inline"
    assert res["X-Content-Type-Options"] == "nosniff" and res["Content-Security-Policy"] == "sandbox"
    assert res["Cache-Control"] == "private, no-store"
    shown = load(res.content)
    assert shown.mode == "L" and shown.size == original.size
    assert colourfulness(original) > 100 and colourfulness(shown) == 0
    assert sharpness(shown) < sharpness(original) / 10
    # Still a picture of this image (its overall brightness), not a blank.
    assert abs(np.asarray(shown).mean() - np.asarray(original.convert("L")).mean()) < 15


@pytest.mark.parametrize("name, fmt, options", [
    ("a.jpg", "JPEG", {"quality": 90}), ("a.gif", "GIF", {}), ("a.webp", "WEBP", {}), ("a.png", "PNG", {}),
])
def test_every_image_type_gets_a_blurred_greyscale_preview(analyst, item, name, fmt, options):
    image = picture(3, size=1200)
    if fmt == "PNG":
        image = image.convert("RGBA")
        image.putalpha(128)  # half transparent
    ev = attach(analyst, item, name, encode(image, fmt, **options))
    res = signed_in(analyst).get(preview_url(ev))
    assert res.status_code == 200
    shown = load(res.content)
    assert shown.mode == "L" and shown.size == (512, 512)  # scaled down: the panel shows at most 16rem
    assert sharpness(shown) < sharpness(image.resize((512, 512))) / 10


def test_the_preview_is_not_a_consultation_but_revealing_is(analyst, supervisor, item):
    ev = attach(analyst, item, "shot.png", png(1))
    client = signed_in(supervisor)
    assert client.get(preview_url(ev)).status_code == 200
    assert not AuditEvent.objects.filter(verb="evidence.viewed").exists()
    client.get(f"/evidence/{ev.pk}/file/")
    assert AuditEvent.objects.filter(verb="evidence.viewed", actor=supervisor, object_id=str(ev.pk)).count() == 1


def test_anonymous_is_sent_to_login_and_liaisons_get_403(client, analyst, liaison_a, admin_user, item):
    ev = attach(analyst, item, "shot.png", png(1))
    res = client.get(preview_url(ev))
    assert res.status_code == 302 and res["Location"].startswith("/login/?next=")
    assert signed_in(liaison_a).get(preview_url(ev)).status_code == 403
    assert signed_in(admin_user).get(preview_url(ev)).status_code == 200


@pytest.mark.parametrize("name, content", [("clip.mp4", MP4), ("report.pdf", PDF)])
def test_video_and_documents_have_no_preview(analyst, item, name, content):
    ev = attach(analyst, item, name, content)
    assert signed_in(analyst).get(preview_url(ev)).status_code == 404


def test_missing_or_unreadable_files_are_404(analyst, item, settings):
    ev = attach(analyst, item, "a.png", png(1))
    big = attach(analyst, item, "b.png", png(2, size=300))
    settings.EVIDENCE_MAX_PIXELS = 10_000  # lowered after the upload: the image is not decoded for a preview
    client = signed_in(analyst)
    assert client.get(preview_url(big)).status_code == 404
    ev.file.storage.delete(ev.file.name)
    assert client.get(preview_url(ev)).status_code == 404
    assert client.get("/evidence/987654/preview/").status_code == 404


def test_only_get_and_head(analyst, item):
    ev = attach(analyst, item, "a.png", png(1))
    client = signed_in(analyst)
    assert client.head(preview_url(ev)).status_code == 200
    assert client.post(preview_url(ev)).status_code == 405
