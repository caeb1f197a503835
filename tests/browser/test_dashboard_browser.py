"""The dashboard in real Chromium: the charts drawn by Chart.js from the tables (no CSP violation), filtered by
platform through the form, the per-day CSV downloaded and equal to the referrals in SQL; an operation's board
showing a removal without a reload. Screenshots dashboard.png and operation-board.png (docs/screenshots/ with
`make screenshots`)."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from playwright.sync_api import expect

from referral.actions import outcomes
from referral.models import Referral
from reports import stats
from tests.browser.conftest import login
from tests.reports.conftest import Clock, seed_fortnight

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fortnight(settings, analyst, supervisor, liaison_a, liaison_b, platform_a, platform_b):
    settings.UNIT_AUTHORITY_NAME, settings.UNIT_AUTHORITY_TYPE = "Test IRU", "Law enforcement authority"
    settings.UNIT_MEMBER_STATE, settings.UNIT_CONTACT_EMAIL = "NL", "iru@example.org"
    clock = Clock()
    with mock.patch("django.utils.timezone.now", side_effect=lambda: clock.now):  # only while seeding
        made = seed_fortnight(clock, analyst=analyst, supervisor=supervisor, liaison_a=liaison_a,
                              liaison_b=liaison_b, platform_a=platform_a, platform_b=platform_b)
    stats.rebuild()
    return made


def test_dashboard_filters_by_platform_and_downloads_its_csv(page, screenshot, analyst, platform_b, fortnight):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    login(page, analyst)
    page.goto("/dashboard/?from=2026-11-01&to=2026-11-30")
    expect(page.locator("body[data-charts-ready='1']")).to_have_count(1)  # Chart.js loaded and drew
    expect(page.locator("#per-platform-table tbody tr")).to_have_count(3)  # two platforms and all of them

    filters = page.locator("#dashboard-filters")
    filters.get_by_label("Platform").select_option(label=platform_b.name)
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url(f"**platform={platform_b.pk}**")
    expect(page.locator("#per-platform-table tbody tr")).to_have_count(2)  # Chirp, and its total
    expect(page.locator("#per-platform-table tbody tr").first.locator("th")).to_have_text(platform_b.name)
    expect(page.locator("body[data-charts-ready='1']")).to_have_count(1)

    day_section = page.get_by_role("region", name="Referrals per day by outcome")
    with page.expect_download() as download_info:
        day_section.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    lines = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert len(lines) == 30
    assert sum(int(line["total"]) for line in lines) == Referral.objects.filter(platform=platform_b).count() == 32
    assert sum(int(line["withdrawn"]) for line in lines) == \
        Referral.objects.filter(platform=platform_b, status="withdrawn").count()
    screenshot(page, "dashboard.png")
    assert violations == []


def test_operation_board_updates_by_itself_when_a_referral_is_removed(page, screenshot, analyst, supervisor,
                                                                       liaison_a, liaison_b, fortnight):
    from reports import actions
    from reports import operations as board_selectors

    start = fortnight["start"]
    operation = actions.operation_create(actor=supervisor, name="RAD November", starts_at=start,
                                         ends_at=start + timedelta(days=5), case_ids=[fortnight["cases"][0].pk],
                                         units="NL IRU")
    removed = board_selectors.board(analyst, operation)["total"]["removed"]
    login(page, analyst)
    page.goto(f"/operations/{operation.pk}/")
    expect(page.locator("#operation-removed")).to_have_text(str(removed))
    waiting = Referral.objects.filter(item__case=fortnight["cases"][0], created_at__lt=operation.ends_at,
                                      status__in=["sent", "acknowledged"]).first()
    liaison = liaison_a if waiting.platform_id == liaison_a.platform_id else liaison_b
    outcomes.referral_record_status(actor=liaison, referral_id=waiting.pk, status="removed")
    # No reload: htmx asks for the rows every 10 s.
    expect(page.locator("#operation-removed")).to_have_text(str(removed + 1), timeout=25_000)
    screenshot(page, "operation-board.png")


def test_the_period_report_reads_as_a_printable_page(page, screenshot, analyst, fortnight):
    """The unit's period report for the seeded month: its headline, its tables, and the CSV/JSON beside them."""
    login(page, analyst)
    page.goto("/reports/referrals/?from=2026-11-01&to=2026-11-30")
    expect(page.get_by_role("heading", level=1)).to_contain_text("report")
    expect(page.locator("table").first).to_be_visible()
    expect(page.get_by_role("link", name="CSV").first).to_be_visible()
    screenshot(page, "period-report.png")
