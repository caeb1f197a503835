"""`/api/v1/items/{id}/evidence/`: multipart upload for analysts and supervisors, list for the unit's staff."""

import hashlib

import pytest

from evidence.models import Evidence
from tests.conftest import api_for
from tests.evidence.conftest import EXE, HTML, PDF, png, stored_files, upload


def url(item) -> str:
    return f"/api/v1/items/{item.pk}/evidence/"


def post(user, item, name, content):
    return api_for(user).post(url(item), {"file": upload(name, content)}, format="multipart")


@pytest.mark.parametrize("who", ["analyst", "supervisor"])
def test_analyst_and_supervisor_upload_an_image(request, item, who):
    data = png(1)
    res = post(request.getfixturevalue(who), item, "shot.png", data)
    assert res.status_code == 201, res.content
    body = res.json()
    ev = Evidence.objects.get()
    assert set(body) == {"id", "item", "original_name", "mime", "size", "sha256", "md5", "pdq", "pdq_quality",
                         "seen_before", "uploaded_at"}
    assert body["id"] == ev.pk and body["item"] == item.pk and body["original_name"] == "shot.png"
    assert (body["mime"], body["size"]) == ("image/png", len(data))
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - the value under test
    assert len(body["pdq"]) == 64 and body["pdq_quality"] == 100
    assert body["seen_before"] == []


def test_pdf_has_no_pdq(analyst, item):
    body = post(analyst, item, "r.pdf", PDF).json()
    assert body["pdq"] is None and body["pdq_quality"] is None


def test_upload_reports_where_the_file_was_seen_before(analyst, item, other_item):
    first = post(analyst, other_item, "orig.png", png(5)).json()
    body = post(analyst, item, "again.png", png(5)).json()
    assert body["seen_before"] == [
        {"evidence": first["id"], "item": other_item.pk, "case": other_item.case_id, "match": "sha256", "distance": 0}
    ]
    listed = api_for(analyst).get(url(item)).json()
    assert listed["results"][0]["seen_before"] == body["seen_before"]


def test_list_is_for_unit_staff_newest_first(analyst, admin_user, item):
    post(analyst, item, "a.pdf", PDF)
    post(analyst, item, "b.png", png(2))
    res = api_for(admin_user).get(url(item))
    assert res.status_code == 200
    assert [row["original_name"] for row in res.json()["results"]] == ["b.png", "a.pdf"]


def test_liaison_gets_403_on_list_and_upload(liaison_a, item, media_root):
    client = api_for(liaison_a)
    assert client.get(url(item)).status_code == 403
    res = client.post(url(item), {"file": upload("a.png", png(1))}, format="multipart")
    assert res.status_code == 403
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


def test_admin_may_list_but_not_upload(admin_user, item):
    assert post(admin_user, item, "a.png", png(1)).status_code == 403


def test_anonymous_gets_401(client, item):
    assert client.get(url(item)).status_code in (401, 403)
    from rest_framework.test import APIClient

    assert APIClient().post(url(item), {"file": upload("a.png", png(1))}, format="multipart").status_code in (401, 403)


def test_unknown_item_is_404(analyst):
    class Missing:
        pk = 987654

    assert post(analyst, Missing, "a.png", png(1)).status_code == 404


@pytest.mark.parametrize("name, content", [("report.pdf", png(1)), ("cute.png", EXE), ("photo.jpg", HTML)])
def test_lying_type_is_415_and_nothing_is_stored(analyst, item, media_root, name, content):
    res = post(analyst, item, name, content)
    assert res.status_code == 415
    assert res.json()["detail"] and res.json()["errors"] == {}
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


@pytest.mark.parametrize("size", [3000, 200_000])  # under the multipart slack (checked on the file), and over it
def test_over_the_size_limit_is_413(analyst, item, media_root, settings, size):
    settings.EVIDENCE_MAX_BYTES = 1000
    res = post(analyst, item, "big.pdf", PDF + b"%" * size)
    assert res.status_code == 413
    assert "limit" in res.json()["detail"]
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


def test_decompression_bomb_is_refused(analyst, item, media_root):
    from tests.evidence.conftest import png_declaring

    res = post(analyst, item, "bomb.png", png_declaring(100_000, 100_000))
    assert res.status_code == 413 and "pixels" in res.json()["detail"]
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


def test_missing_file_is_400(analyst, item):
    res = api_for(analyst).post(url(item), {}, format="multipart")
    assert res.status_code == 400
    assert "file" in res.json()["errors"]


def test_empty_file_is_400(analyst, item):
    res = post(analyst, item, "empty.pdf", b"")
    assert res.status_code == 400 and "file" in res.json()["errors"]


def test_json_body_is_415(analyst, item):
    assert api_for(analyst).post(url(item), {"file": "x"}, format="json").status_code == 415
