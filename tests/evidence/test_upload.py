"""Attaching files to an item: hashes, PDQ, sniffed types, limits, bombs, seen-before flags, nothing half-written."""

import hashlib

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, InvalidInput
from evidence import actions as service
from evidence.models import Evidence
from tests.evidence.conftest import EXE, HTML, MP4, PDF, jpeg, png, png_declaring, stored_files, upload


def add(analyst, item, name, content):
    return service.evidence_add(actor=analyst, item_id=item.pk, upload=upload(name, content))


def test_upload_computes_sha256_md5_and_stores_under_the_hash(analyst, item, media_root):
    data = png(1)
    added = add(analyst, item, "../../screenshot of post.PNG", data)
    ev = Evidence.objects.get(pk=added.evidence.pk)
    assert ev.sha256 == hashlib.sha256(data).hexdigest()
    assert ev.md5 == hashlib.md5(data).hexdigest()  # noqa: S324 - comparing with the stored MD5
    assert (ev.mime, ev.size, ev.item_id, ev.uploaded_by_id) == ("image/png", len(data), item.pk, analyst.pk)
    assert ev.original_name == "screenshot of post.PNG"
    # Stored under the hash, never the user's name, in evidence/YYYY/MM/.
    assert ev.file.name.startswith("evidence/") and ev.file.name.endswith(f"/{ev.sha256}.png")
    files = stored_files(media_root)
    assert len(files) == 1 and files[0].read_bytes() == data


def test_upload_writes_an_evidence_added_audit_event(analyst, item):
    data = PDF
    ev = add(analyst, item, "report.pdf", data).evidence
    event = AuditEvent.objects.filter(verb="evidence.added").get()
    assert (event.actor_id, event.object_type, event.object_id) == (analyst.pk, "evidence", str(ev.pk))
    assert event.after == {"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest(),  # noqa: S324
                           "mime": "application/pdf", "size": len(data), "item": item.pk}


def test_pdq_is_stored_for_images_and_absent_for_pdf(analyst, item):
    image = add(analyst, item, "a.png", png(1)).evidence
    assert len(image.pdq) == 64 and int(image.pdq, 16) > 0
    assert image.pdq_quality == 100
    pdf = add(analyst, item, "a.pdf", PDF).evidence
    assert pdf.pdq == "" and pdf.pdq_quality is None


@pytest.mark.parametrize("name, content, mime", [
    ("photo.jpg", jpeg(3), "image/jpeg"),
    ("photo.JPEG", jpeg(4), "image/jpeg"),
    ("clip.mp4", MP4, "video/mp4"),
    ("page.html", HTML, "text/html"),
    ("page.htm", b"<html lang=en><body>x</body></html>", "text/html"),
    ("saved.html", b"<!-- saved from url=(0022)https://x.example/ -->\n<!doctype html><p>x", "text/html"),
])
def test_accepted_types(analyst, item, name, content, mime):
    ev = add(analyst, item, name, content).evidence
    assert ev.mime == mime
    assert (ev.pdq != "") == mime.startswith("image/")


def test_same_file_on_another_item_is_flagged_by_sha256(analyst, item, other_item):
    data = PDF
    first = add(analyst, other_item, "orig.pdf", data).evidence
    added = add(analyst, item, "copy.pdf", data)
    assert [m.as_dict() for m in added.seen_before] == [
        {"evidence": first.pk, "item": other_item.pk, "case": other_item.case_id, "match": "sha256", "distance": 0}
    ]


def test_same_image_on_another_item_is_flagged_once_by_sha256_not_again_by_pdq(analyst, item, other_item):
    add(analyst, other_item, "orig.png", png(1))
    added = add(analyst, item, "copy.png", png(1))
    assert [m.match for m in added.seen_before] == ["sha256"]


@pytest.mark.parametrize("variant", ["re-encoded as JPEG", "one pixel changed"])
def test_slightly_changed_image_is_flagged_by_pdq(analyst, item, other_item, variant):
    from tests.evidence.conftest import encode, picture

    first = add(analyst, other_item, "orig.png", png(7)).evidence
    if variant == "re-encoded as JPEG":
        name, data = "copy.jpg", encode(picture(7), "JPEG", quality=60)
    else:
        changed = picture(7)
        changed.putpixel((10, 10), (0, 0, 0))
        name, data = "copy.png", encode(changed, "PNG")
    added = add(analyst, item, name, data)
    assert len(added.seen_before) == 1
    match = added.seen_before[0]
    assert (match.evidence, match.item, match.case, match.match) == (first.pk, other_item.pk, other_item.case_id, "pdq")
    assert match.distance <= 31


def test_unrelated_image_is_not_flagged(analyst, item, other_item):
    add(analyst, other_item, "orig.png", png(1))
    assert add(analyst, item, "other.png", png(2)).seen_before == []


def test_evidence_on_the_same_item_is_not_seen_before(analyst, item):
    add(analyst, item, "a.png", png(7))
    assert add(analyst, item, "b.jpg", jpeg(7, quality=60)).seen_before == []


def test_the_same_file_twice_on_one_item_is_refused(analyst, item, media_root):
    add(analyst, item, "a.pdf", PDF)
    with pytest.raises(Conflict, match="already attached"):
        add(analyst, item, "again.pdf", PDF)
    assert Evidence.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_flat_images_are_hashed_but_not_matched(analyst, item, other_item):
    """A blank screenshot has PDQ quality 0: its hash says nothing, so it matches nothing."""
    from PIL import Image

    from tests.evidence.conftest import encode

    add(analyst, other_item, "white.png", encode(Image.new("RGB", (200, 200), "white"), "PNG"))
    added = add(analyst, item, "white2.png", encode(Image.new("RGB", (210, 200), "white"), "PNG"))
    assert added.evidence.pdq_quality == 0 and added.seen_before == []


@pytest.mark.parametrize("name, content, says", [
    ("report.pdf", png(1), "contains image/png but its name ends in “.pdf”"),
    ("cute.png", EXE, "application/x-msdownload, which is not accepted"),
    ("photo.jpg", HTML, "contains text/html but its name ends in “.jpg”"),
    ("notes.pdf", b"just some text, no magic number at all", "could not be recognised"),
    ("noextension", PDF, "(no extension)"),
])
def test_a_file_that_lies_about_its_type_is_refused_and_nothing_is_stored(analyst, item, media_root, name,
                                                                          content, says):
    with pytest.raises(service.UnsupportedType) as exc:
        add(analyst, item, name, content)
    assert exc.value.status_code == 415 and says in exc.value.message
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []
    assert not AuditEvent.objects.filter(verb="evidence.added").exists()


def test_a_type_not_in_the_allowed_list_is_refused(analyst, item, settings):
    settings.EVIDENCE_ALLOWED_TYPES = ["image/png"]
    with pytest.raises(service.UnsupportedType, match="not accepted"):
        add(analyst, item, "report.pdf", PDF)


def test_over_the_size_limit_is_refused(analyst, item, media_root, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    with pytest.raises(service.UploadTooLarge) as exc:
        add(analyst, item, "big.pdf", PDF + b"%" * 2000)
    assert exc.value.status_code == 413 and "limit" in exc.value.message
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


def test_empty_file_is_refused(analyst, item):
    with pytest.raises(InvalidInput, match="empty"):
        add(analyst, item, "empty.pdf", b"")


def test_png_declaring_100000_by_100000_pixels_is_refused_without_decoding(analyst, item, media_root):
    bomb = png_declaring(100_000, 100_000)
    assert len(bomb) < 200
    with pytest.raises(service.UploadTooLarge) as exc:
        add(analyst, item, "bomb.png", bomb)
    assert "pixels" in exc.value.message
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


@pytest.mark.parametrize("side", [110, 300])  # just over the limit (Pillow's warning), far over (its error)
def test_image_over_a_lowered_pixel_limit_is_refused(analyst, item, media_root, settings, side):
    settings.EVIDENCE_MAX_PIXELS = 10_000
    with pytest.raises(service.UploadTooLarge, match="pixels"):
        add(analyst, item, "big.png", png(1, size=side))
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


def test_truncated_image_is_refused_as_bad_input(analyst, item, media_root):
    data = png(1)
    with pytest.raises(InvalidInput, match="could not be read"):
        add(analyst, item, "cut.png", data[: len(data) // 2])
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


def test_when_the_database_write_fails_the_stored_file_is_deleted(analyst, item, media_root, monkeypatch):
    """Fault injection: the audit write fails after the file reached storage."""

    def broken_record(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(service.audit, "record", broken_record)
    with pytest.raises(RuntimeError):
        add(analyst, item, "a.png", png(1))
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []
