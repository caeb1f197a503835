"""The HTML lists, walked page by page with their filters: the cases, the review queue, the referrals (every status,
for the unit and for a liaison) and the alerts. The triage queue is walked in tests/cases/test_queue.py, a case's
items and timeline in tests/cases, the delivery lists in tests/referral/test_delivery_pages.py.

On SQLite too (the embedded database of `make run`): `make test` runs these on both databases."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from alerts.models import Alert
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Case, Item
from referral.actions import approval
from referral.forms import ReferralFilterForm
from referral.models import Referral, ReferralStatus

pytestmark = pytest.mark.both_databases

ROWS = {
    "/cases/": re.compile(r'<td><a href="/cases/(\d+)/">Case \d+</a></td>'),
    "/review/": re.compile(r'<tr id="r-item-(\d+)" class="review-row'),
    "/referrals/": re.compile(r'<th scope="row"><a href="/referrals/(\d+)/">Referral \d+</a></th>'),
    "/alerts/": re.compile(r'<tr id="alert-(\d+)">'),
}
NEXT_PAGE = re.compile(r'<a href="\?([^"]*)" rel="next">')


def walk(client, path: str, query: str = "") -> tuple[list[int], int]:
    """(every row id the list shows, in order, page after page; how many pages), each page answered 200."""
    seen, pages, url = [], 0, f"{path}?{query}"
    while url:
        res = client.get(url)
        assert res.status_code == 200, url
        text = res.content.decode()
        seen += [int(pk) for pk in ROWS[path].findall(text)]
        pages += 1
        assert pages <= 20, f"{url}: too many pages"
        found = NEXT_PAGE.search(text)
        url = f"{path}?{found.group(1).replace('&amp;', '&')}" if found else None
    assert len(seen) == len(set(seen)), f"{path}?{query}: a row on two pages"
    return seen, pages


def test_case_list_pages_newest_first(browser, analyst, admin_user, case):
    for n in range(52):
        case_actions.case_create(actor=analyst, title=f"Op {n}")
    expected = sorted(Case.objects.values_list("id", flat=True), reverse=True)
    for user in (analyst, admin_user):
        shown, pages = walk(browser(user), "/cases/")
        assert (shown, pages) == (expected, 2)
    shown, _ = walk(browser(analyst), "/cases/", "before=not-a-number")  # a bad cursor is the first page
    assert shown == expected


def test_review_queue_pages_oldest_first_and_shows_only_proposals(browser, analyst, supervisor, case, platform_a):
    for n in range(70):
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=r{n}", kind="post",
                                     categories=["threat"] if n % 2 else ["incitement"])
        if n % 10:
            item_actions.item_propose(actor=analyst, item_id=item.pk)
        if n % 10 == 1:
            approval.item_approve(actor=supervisor, item_id=item.pk)
    expected = sorted(Item.objects.filter(status="proposed").values_list("id", flat=True))
    shown, pages = walk(browser(supervisor), "/review/")
    assert (shown, pages) == (expected, 2)
    assert len(expected) == 56 and Item.objects.exclude(status="proposed").exists()


@pytest.fixture
def many_referrals(analyst, supervisor, case, platform_a, platform_b):
    """60 referrals, every other one to each platform: 52 queued, one in each other status."""
    for n in range(60):
        host = "tube.example/watch?v=" if n % 2 else "chirp.example/u/x/status/"
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://{host}{n}", kind="post",
                                     categories=["threat"])
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        approval.item_approve(actor=supervisor, item_id=item.pk)
    others = [s for s in ReferralStatus.values if s != ReferralStatus.QUEUED]
    for status, pk in zip(others, Referral.objects.order_by("id").values_list("id", flat=True)[::6], strict=False):
        Referral.objects.filter(pk=pk).update(status=status)
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)


@pytest.mark.parametrize("persona", ["supervisor", "analyst", "liaison_a"])
def test_referral_list_every_status_and_every_page(request, browser, many_referrals, persona):
    user = request.getfixturevalue(persona)
    client = browser(user)
    statuses = [value for value, _ in ReferralFilterForm().fields["status"].choices]
    walked_two_pages = False
    for status in statuses:
        shown, pages = walk(client, "/referrals/", urlencode({"status": status}))
        expected = sorted((r.pk for r in Referral.objects.all()
                           if (not status or r.status == status)
                           and (user.platform_id is None or r.platform_id == user.platform_id)), reverse=True)
        assert shown == expected, status
        walked_two_pages |= pages > 1
    assert walked_two_pages is (user.platform_id is None)  # a liaison's 30 fit on one page
    res = client.get("/referrals/?status=bogus")
    assert res.status_code == 200 and "Select a valid choice" in res.content.decode()


def test_alert_list_pages_newest_first_and_only_unresolved(browser, supervisor, admin_user):
    now = timezone.now()
    Alert.objects.bulk_create(
        Alert(kind=["delivery_stopped", "delivery_failed", "threat_to_life"][n % 3], message=f"Alert {n}")
        for n in range(66)
    )
    Alert.objects.filter(pk__in=Alert.objects.order_by("id").values_list("id", flat=True)[::6]).update(
        resolved_at=now - timedelta(minutes=1), resolved_by=supervisor)
    expected = sorted(Alert.objects.filter(resolved_at__isnull=True).values_list("id", flat=True), reverse=True)
    assert len(expected) == 55
    for user in (supervisor, admin_user):
        shown, pages = walk(browser(user), "/alerts/")
        assert (shown, pages) == (expected, 2)
    text = browser(supervisor).get("/cases/").content.decode()  # the banner counts them (a window function)
    assert f"{len(expected)} unresolved alerts" in text
