"""Bulk intake in real Chromium with a real Celery worker: the item form's live preview, a pasted batch of 200
URLs and a CSV upload, each watched through the progress bar to the report."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from cases.models import Item
from intake.models import ImportJob
from tests.browser.conftest import login
from tests.conftest import make_platform
from tests.processes import database_url, start_worker

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def htmx_in_base(settings, tmp_path):
    """base.html is to load htmx (the lead adds the tag); until it does, these tests use a copy that does."""
    base = (ROOT / "templates" / "base.html").read_text()
    if "htmx" in base:
        return
    shim = tmp_path / "templates"
    shim.mkdir()
    (shim / "base.html").write_text(base.replace(
        "</head>", "  <script src=\"{% static 'vendor/htmx.min.js' %}\" defer></script>\n</head>"))
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [shim, *settings.TEMPLATES[0]["DIRS"]]}]


@pytest.fixture
def worker(processes, settings, tmp_path):
    """A real worker sharing this test's database and media directory (it reads the uploaded files)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return start_worker(processes, {"DATABASE_URL": database_url(), "ALLOW_PRIVATE_ENDPOINTS": "1",
                                    "MEDIA_ROOT": str(settings.MEDIA_ROOT)})


def test_item_form_shows_the_canonical_url_as_you_type(page, analyst, case):
    make_platform("tube", ["tube.example"])
    login(page, analyst)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_label("URL").press_sequentially("https://www.tube.example/watch?v=live1&utm_source=share")
    preview = page.locator("#url-preview")
    expect(preview).to_contain_text("https://tube.example/watch?v=live1")
    expect(preview).to_contain_text("Tube (tube)")
    expect(preview).to_contain_text("Not logged before")
    page.get_by_label("URL").fill("ftp://tube.example/x")
    expect(preview).to_contain_text("Only http and https URLs can be referred.")


def test_paste_200_urls_and_watch_the_progress_reach_the_report(page, worker, processes, analyst, case):
    make_platform("tube", ["tube.example"])
    login(page, analyst)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Import many URLs (paste or CSV)").click()
    urls = "\n".join(f"https://tube.example/watch?v=b{i}" for i in range(198))
    urls += "\nnot a url\nhttps://tube.example/watch?v=b0&utm_source=x\n"
    page.get_by_label("URLs, one a line").fill(urls)
    page.get_by_label("Kind of every pasted URL").select_option("account")
    page.get_by_role("button", name="Import pasted URLs").click()
    page.wait_for_url("**/imports/*/")
    expect(page.locator("progress")).to_be_visible()
    section = page.locator("#import-progress")
    try:
        expect(section).to_contain_text("Download the full report", timeout=30_000)
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    expect(section).to_contain_text("200 of 200 lines processed")
    expect(section.get_by_role("row", name="Accepted (new items)")).to_contain_text("198")
    expect(section.get_by_role("row", name="Duplicates (already in this case)")).to_contain_text("1")
    expect(section.get_by_role("row", name="Rejected")).to_contain_text("1")
    assert Item.objects.filter(case=case, kind="account").count() == 198


def test_upload_a_csv_and_read_the_report(page, screenshot, worker, processes, analyst, case):
    make_platform("tube", ["tube.example"])
    login(page, analyst)
    page.goto(f"/cases/{case.pk}/import/")
    body = ("url;kind;categories;notes\n"
            "https://tube.example/watch?v=c1;post;incitement;first\n"
            "https://tubе.example/watch?v=c2;account;threat;homoglyph host\n"
            "javascript:alert(1);post;;\n"
            "https://tube.example/watch?v=c3;video;;\n")
    page.get_by_label("CSV file:", exact=True).set_input_files(
        files=[{"name": "action-day.csv", "mimeType": "text/csv", "buffer": body.encode()}])
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/imports/*/")
    section = page.locator("#import-progress")
    try:
        expect(section).to_contain_text("Download the full report", timeout=30_000)
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    expect(section.get_by_role("row", name="Accepted (new items)")).to_contain_text("2")
    expect(section.get_by_role("row", name="Rejected")).to_contain_text("2")
    errors = page.locator("table.import-errors")
    expect(errors).to_contain_text("Only http and https URLs can be referred.")
    expect(errors).to_contain_text("Unknown kind 'video'")
    job = ImportJob.objects.get()
    assert job.status == "done" and job.original_name == "action-day.csv"
    screenshot(page, "import-report.png")
