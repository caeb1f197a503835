"""The import pages and the item form's live URL preview."""

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Item
from intake import actions as intake_actions
from intake.models import ImportJob
from referral.actions import outcomes
from tests.conftest import sign_in


def signed_in(client, user):
    return sign_in(client, user)  # the second factor passed where the user has one (a supervisor)


def test_paste_creates_a_job_and_redirects_to_its_progress_page(client, analyst, case, platform_a,
                                                                django_capture_on_commit_callbacks):
    signed_in(client, analyst)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        res = client.post(f"/cases/{case.pk}/import/", {"form": "paste", "kind": "account",
                                                        "urls": "https://tube.example/a\n\nhttps://tube.example/b"})
    job = ImportJob.objects.get()
    assert res.status_code == 302 and res["Location"] == f"/imports/{job.pk}/"
    assert len(queued) == 1 and job.source == "paste" and job.total == 2
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page and "Start</button>" in page
    intake_actions.run_import(job.pk)
    partial = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in partial  # finished: the polling stops
    assert "Download the full report" in partial
    assert Item.objects.filter(kind="account").count() == 2
    report = client.get(f"/imports/{job.pk}/report.csv")
    assert report.status_code == 200 and b"accepted" in b"".join(report.streaming_content)


def test_csv_upload_page(client, supervisor, case, platform_a):
    signed_in(client, supervisor)
    res = client.post(f"/cases/{case.pk}/import/", {
        "form": "csv", "file": SimpleUploadedFile("x.csv", b"url\nhttps://tube.example/a\nbad\n", "text/csv")})
    job = ImportJob.objects.get()
    assert res.status_code == 302
    intake_actions.run_import(job.pk)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Rejected lines" in page and "Enter" not in page.split("Rejected lines")[0][-50:]
    assert (job.__class__.objects.get().accepted, job.__class__.objects.get().rejected) == (1, 1)


def test_import_page_shows_the_limit_when_the_file_is_too_big(client, analyst, case, settings):
    signed_in(client, analyst)
    settings.IMPORT_MAX_BYTES = 10
    res = client.post(f"/cases/{case.pk}/import/", {
        "form": "csv", "file": SimpleUploadedFile("x.csv", b"url\nhttps://tube.example/a\n", "text/csv")})
    assert res.status_code == 413 and "import limit of 10 bytes" in res.content.decode()
    assert not ImportJob.objects.exists()


def test_liaison_cannot_open_the_import_pages(client, liaison_a, analyst, case):
    job = intake_actions.create_import(actor=analyst, case=case,
                                       fileobj=intake_actions.paste_as_csv("https://a.example/", "post"),
                               queue=False)
    signed_in(client, liaison_a)
    assert client.get(f"/cases/{case.pk}/import/").status_code == 403
    assert client.get(f"/imports/{job.pk}/").status_code == 403
    assert client.get(f"/intake/preview/?url=https://a.example/&case={case.pk}").status_code == 403


def test_preview_shows_canonical_form_and_platform(client, analyst, case, platform_a):
    signed_in(client, analyst)
    html = client.get("/intake/preview/", {"url": "https://www.tube.example/watch?v=9&utm_source=x",
                                           "case": case.pk}).content.decode()
    assert "https://tube.example/watch?v=9" in html and "Tube (tube)" in html and "Not logged before" in html
    html = client.get("/intake/preview/", {"url": "https://nowhere.example/x"}).content.decode()
    assert "No platform matched" in html
    html = client.get("/intake/preview/", {"url": "javascript:alert(1)"}).content.decode()
    assert "Only http and https URLs can be referred." in html


def test_preview_shows_existing_item_and_removed_referral(client, analyst, supervisor, case, approved_referral,
                                                          liaison_a):
    outcomes.referral_record_status(actor=liaison_a, referral_id=approved_referral.pk, status="removed")
    signed_in(client, analyst)
    html = client.get("/intake/preview/", {"url": "https://m.tube.example/watch?v=abc123",
                                           "case": case.pk}).content.decode()
    item = approved_referral.item
    assert f"Item {item.pk}" in html and f"in case {case.pk} (this case)" in html
    assert "Approved" in html and "Removed" in html
    assert "Already removed: it will not be referred again." in html


def test_preview_warns_about_homoglyph_hosts(client, analyst, platform_a):
    signed_in(client, analyst)
    html = client.get("/intake/preview/", {"url": "https://tubе.example/watch?v=1"}).content.decode()
    assert "xn--" in html and "look like Latin" in html


def test_item_form_has_the_live_preview_wiring(client, analyst, case):
    signed_in(client, analyst)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'hx-get="/intake/preview/?case={case.pk}"' in html
    assert 'hx-trigger="input changed delay:300ms"' in html and 'id="url-preview"' in html
