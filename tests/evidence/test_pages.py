"""The evidence panel and page: blurred previews by default, the preference, uploading through the form."""

import re

import pytest
from django.test import Client

from evidence import actions as service
from evidence.models import Evidence
from tests.conftest import signed_in
from tests.evidence.conftest import EXE, MP4, PDF, png, stored_files, upload


def attach(analyst, item, name, content):
    return service.evidence_add(actor=analyst, item_id=item.pk, upload=upload(name, content)).evidence


def page(user, item, query="") -> str:
    res = signed_in(user).get(f"/items/{item.pk}/evidence/{query}")
    assert res.status_code == 200
    return res.content.decode()


def blurred_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(
        r'<li class="evidence" id="evidence-file-(\d+)">\s*<figure class="evidence-preview is-blurred"', html)}


def shown(html: str) -> str:
    """The page without its <template> elements: what the browser loads and shows."""
    return re.sub(r"<template\b.*?</template>", "", html, flags=re.DOTALL)


def test_panel_lists_the_evidence_with_hashes_and_blurred_previews(analyst, item):
    image = attach(analyst, item, "shot.png", png(1))
    video = attach(analyst, item, "clip.mp4", MP4)
    pdf = attach(analyst, item, "report.pdf", PDF)
    html = page(analyst, item)
    assert "shot.png" in html and "report.pdf" in html and "clip.mp4" in html
    assert image.sha256[:16] in html and image.md5 in html and pdf.md5 in html
    assert blurred_ids(html) == {image.pk, video.pk}
    # Blurred: the image as the server blurred it, the video not at all; the files only in the Reveal templates.
    assert f'<img src="/evidence/{image.pk}/preview/"' in shown(html)
    assert f'src="/evidence/{image.pk}/file/"' not in shown(html) and "<video" not in shown(html)
    assert f'<template data-media="clear"><img src="/evidence/{image.pk}/file/"' in html
    video_tag = re.search(r"<video[^>]*>", html).group(0)
    assert 'controls' in video_tag and 'preload="none"' in video_tag and "autoplay" not in video_tag
    assert f'<img src="/evidence/{pdf.pk}/file/"' not in html  # documents are never previewed
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert "css/evidence.css" in html and "js/evidence.js" in html


def test_preference_on_shows_previews_unblurred(analyst, item):
    image = attach(analyst, item, "shot.png", png(1))
    analyst.reveal_previews = True
    analyst.save(update_fields=["reveal_previews"])
    html = page(analyst, item)
    assert blurred_ids(html) == set()
    assert re.search(rf'id="evidence-file-{image.pk}">\s*<figure class="evidence-preview" data-evidence-preview>', html)
    assert f'<img src="/evidence/{image.pk}/file/"' in shown(html)
    assert f'src="/evidence/{image.pk}/preview/"' not in shown(html)


def test_reveal_without_javascript_reveals_one_preview(analyst, item):
    first = attach(analyst, item, "one.png", png(1))
    second = attach(analyst, item, "two.png", png(2))
    html = page(analyst, item, f"?reveal={first.pk}")
    assert blurred_ids(html) == {second.pk}
    assert f'<img src="/evidence/{first.pk}/file/"' in shown(html)
    assert f'<img src="/evidence/{second.pk}/preview/"' in shown(html)
    assert blurred_ids(page(analyst, item)) == {first.pk, second.pk}


def test_seen_before_links_to_the_other_case_and_item(analyst, item, other_item):
    attach(analyst, other_item, "orig.png", png(1))
    attach(analyst, item, "copy.png", png(1))
    html = page(analyst, item)
    assert f'href="/cases/{other_item.case_id}/#item-{other_item.pk}"' in html
    assert "Seen before in" in html and "same file, SHA-256" in html


def test_preferences_page_toggles_the_default(analyst, item):
    client = signed_in(analyst)
    res = client.get("/me/preferences/")
    assert res.status_code == 200 and 'name="reveal_previews"' in res.content.decode()
    res = client.post("/me/preferences/", {"reveal_previews": "on"}, follow=True)
    analyst.refresh_from_db()
    assert analyst.reveal_previews is True and "unblurred" in res.content.decode()
    client.post("/me/preferences/", {})
    analyst.refresh_from_db()
    assert analyst.reveal_previews is False


def test_preferences_need_csrf(analyst):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert client.post("/me/preferences/", {"reveal_previews": "on"}).status_code == 403
    analyst.refresh_from_db()
    assert analyst.reveal_previews is False


def test_upload_through_the_form_goes_back_to_the_referer(analyst, item):
    client = signed_in(analyst)
    referer = f"http://testserver/items/{item.pk}/evidence/"
    res = client.post(f"/items/{item.pk}/evidence/", {"file": upload("shot.png", png(1))}, HTTP_REFERER=referer)
    assert res.status_code == 302 and res["Location"] == f"{referer}#evidence-{item.pk}"
    assert Evidence.objects.filter(item=item).count() == 1
    html = client.get(res["Location"]).content.decode()
    assert "Evidence" in html and "added to item" in html


def test_upload_without_a_safe_referer_goes_to_the_item_in_its_case(analyst, item):
    client = signed_in(analyst)
    res = client.post(f"/items/{item.pk}/evidence/", {"file": upload("shot.png", png(1))},
                      HTTP_REFERER="https://evil.example/")
    assert res["Location"] == f"/cases/{item.case_id}/#item-{item.pk}"


def test_upload_errors_are_shown_as_messages_and_store_nothing(analyst, item, media_root):
    client = signed_in(analyst)
    res = client.post(f"/items/{item.pk}/evidence/", {"file": upload("cute.png", EXE)}, follow=True)
    text = res.content.decode()
    assert "Error:" in text and "not accepted as evidence" in text
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []
    res = client.post(f"/items/{item.pk}/evidence/", {}, follow=True)
    assert "Choose a file" in res.content.decode()


def test_upload_warns_when_seen_before(analyst, item, other_item):
    attach(analyst, other_item, "orig.png", png(1))
    res = signed_in(analyst).post(f"/items/{item.pk}/evidence/", {"file": upload("c.png", png(1))}, follow=True)
    assert f"Seen before in case {other_item.case_id}, item {other_item.pk}" in res.content.decode()


@pytest.mark.parametrize("who, status", [("liaison_a", 403), ("admin_user", 403)])
def test_who_may_not_upload(request, item, media_root, who, status):
    res = signed_in(request.getfixturevalue(who)).post(f"/items/{item.pk}/evidence/",
                                                       {"file": upload("a.png", png(1))})
    assert res.status_code == status
    assert Evidence.objects.count() == 0 and stored_files(media_root) == []


def test_liaison_cannot_see_the_evidence_page(liaison_a, item):
    assert signed_in(liaison_a).get(f"/items/{item.pk}/evidence/").status_code == 403


def test_anonymous_is_sent_to_login(client, item):
    res = client.get(f"/items/{item.pk}/evidence/")
    assert res.status_code == 302 and res["Location"].startswith("/login/")


def test_admin_sees_the_panel_without_the_upload_form(admin_user, analyst, item):
    attach(analyst, item, "a.png", png(1))
    html = page(admin_user, item)
    assert "a.png" in html and 'enctype="multipart/form-data"' not in html


def test_panel_costs_a_fixed_number_of_queries(analyst, item, django_assert_max_num_queries):
    for seed in range(4):
        attach(analyst, item, f"{seed}.png", png(seed + 10))
    client = signed_in(analyst)
    client.get(f"/items/{item.pk}/evidence/")
    with django_assert_max_num_queries(8):
        client.get(f"/items/{item.pk}/evidence/")


def test_the_item_page_carries_the_panel_blurred(analyst, item):
    image = attach(analyst, item, "shot.png", png(1))
    res = signed_in(analyst).get(f"/items/{item.pk}/")
    assert res.status_code == 200
    html = res.content.decode()
    assert blurred_ids(html) == {image.pk}
    assert f'action="/items/{item.pk}/evidence/"' in html
