"""Evidence files go out only through the role-checked view: sandboxed, not sniffable, every view audited."""

import pytest

from audit.models import AuditEvent
from evidence import actions as service
from tests.conftest import signed_in
from tests.evidence.conftest import HTML, MP4, PDF, png, upload


def attach(analyst, item, name, content):
    return service.evidence_add(actor=analyst, item_id=item.pk, upload=upload(name, content)).evidence


def file_url(ev) -> str:
    return f"/evidence/{ev.pk}/file/"


def body(res) -> bytes:
    return b"".join(res.streaming_content)


def test_anonymous_is_sent_to_login(client, analyst, item):
    ev = attach(analyst, item, "a.png", png(1))
    res = client.get(file_url(ev))
    assert res.status_code == 302 and res["Location"].startswith("/login/?next=")
    assert not AuditEvent.objects.filter(verb="evidence.viewed").exists()


def test_liaison_gets_403(analyst, liaison_a, item):
    ev = attach(analyst, item, "a.png", png(1))
    assert signed_in(liaison_a).get(file_url(ev)).status_code == 403
    assert not AuditEvent.objects.filter(verb="evidence.viewed").exists()


@pytest.mark.parametrize("who", ["analyst", "supervisor", "admin_user"])
def test_unit_staff_get_the_image_inline_with_safe_headers(request, analyst, item, who):
    data = png(1)
    ev = attach(analyst, item, "a.png", data)
    res = signed_in(request.getfixturevalue(who)).get(file_url(ev))
    assert res.status_code == 200
    assert body(res) == data
    assert res["Content-Type"] == "image/png"
    assert res["Content-Disposition"].startswith("inline")
    assert res["X-Content-Type-Options"] == "nosniff"
    assert res["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize("name, content, mime", [("r.pdf", PDF, "application/pdf"), ("p.html", HTML, "text/html")])
def test_pdf_and_html_are_only_ever_attachments(analyst, item, name, content, mime):
    ev = attach(analyst, item, name, content)
    res = signed_in(analyst).get(file_url(ev))
    assert res.status_code == 200 and body(res) == content
    assert res["Content-Type"] == mime
    assert res["Content-Disposition"].startswith("attachment") and name in res["Content-Disposition"]
    assert res["X-Content-Type-Options"] == "nosniff"
    assert res["Content-Security-Policy"] == "sandbox"


def test_video_is_inline_and_download_forces_attachment(analyst, item):
    ev = attach(analyst, item, "clip.mp4", MP4)
    client = signed_in(analyst)
    assert client.get(file_url(ev))["Content-Disposition"].startswith("inline")
    assert client.get(file_url(ev) + "?download=1")["Content-Disposition"].startswith("attachment")


def test_every_view_is_an_audit_event(analyst, supervisor, item):
    ev = attach(analyst, item, "r.pdf", PDF)
    signed_in(supervisor).get(file_url(ev))
    signed_in(supervisor).get(file_url(ev))
    events = list(AuditEvent.objects.filter(verb="evidence.viewed"))
    assert len(events) == 2
    assert all(e.actor_id == supervisor.pk and e.object_type == "evidence" and e.object_id == str(ev.pk)
               for e in events)
    assert events[0].after == {"sha256": ev.sha256, "item": item.pk, "disposition": "attachment"}


def test_unknown_evidence_is_404(analyst):
    assert signed_in(analyst).get("/evidence/987654/file/").status_code == 404


def test_the_file_is_not_reachable_as_public_media(analyst, item, client):
    ev = attach(analyst, item, "a.png", png(1))
    assert signed_in(analyst).get("/media/" + ev.file.name).status_code == 404
