"""The case page: assessment summary, item links, the timeline with its older link, close and reopen."""

import re

import pytest

from audit.models import AuditEvent
from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.models import Case

pytestmark = pytest.mark.both_databases  # the summary and both keyset lists, on SQLite too


def text(res) -> str:
    return res.content.decode()


def test_summary_counts_by_status_category_and_platform(browser, analyst, case, log, platform_a):
    a = log("https://tube.example/watch?v=1", categories=["threat", "incitement"])
    log("https://tube.example/watch?v=2", categories=["threat"])
    log("https://unclaimed.example/x", categories=["instruction"])
    item_actions.item_discard(actor=analyst, item_id=a.pk, reason="Gone")
    page = text(browser(analyst).get(f"/cases/{case.pk}/"))
    section = page.split('id="summary"')[1].split("</section>")[0]
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "By status (3 items)" in cells
    assert "discarded 1" in cells and "logged 2" in cells
    assert "threat 2" in cells and "incitement 1" in cells and "instruction 1" in cells
    assert "Tube 2" in cells and "No platform 1" in cells
    assert f'href="/items/{a.pk}/"' in page


def test_timeline_newest_first_with_an_older_link(browser, analyst, case, log):
    for n in range(30):
        item = log(f"https://tube.example/watch?v=tl{n}")
        assessment_actions.item_assess(actor=analyst, item_id=item.pk, severity=n % 8)
    client = browser(analyst)
    page = text(client.get(f"/cases/{case.pk}/"))
    timeline = page.split('id="case-timeline"')[1]
    newest = AuditEvent.objects.order_by("-id").first()
    assert timeline.index(newest.verb) < timeline.index("item.logged")
    older = re.search(r'href="\?([^"#]*events_before=(\d+))#case-timeline"', timeline)
    assert older
    second = text(client.get(f"/cases/{case.pk}/?{older.group(1).replace('&amp;', '&')}"))
    assert "case.created" in second.split('id="case-timeline"')[1]
    assert "Older events" not in second


def test_supervisor_closes_and_reopens_analyst_cannot(browser, supervisor, analyst, case):
    assert browser(analyst).post(f"/cases/{case.pk}/close/").status_code == 403
    assert "Close the case" not in text(browser(analyst).get(f"/cases/{case.pk}/"))
    client = browser(supervisor)
    res = client.post(f"/cases/{case.pk}/close/", follow=True)
    assert f"Case {case.pk} closed." in text(res) and "Reopen the case" in text(res)
    assert Case.objects.get(pk=case.pk).status == "closed"
    res = client.post(f"/cases/{case.pk}/close/", follow=True)
    assert "&#x27;closed&#x27;" in text(res)
    client.post(f"/cases/{case.pk}/reopen/")
    assert Case.objects.get(pk=case.pk).status == "open"
    assert "case.reopened" in text(client.get(f"/cases/{case.pk}/"))


def test_case_is_assigned_and_the_change_audited(client, analyst, analyst_2, supervisor, case, liaison_a):


    client.force_login(analyst)
    res = client.post(f"/cases/{case.pk}/assign/", {"assignee": analyst_2.pk})
    assert res.status_code == 302
    case.refresh_from_db()
    assert case.assignee == analyst_2
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'<option value="{analyst_2.pk}" selected>{analyst_2.username}</option>' in page
    assert AuditEvent.objects.filter(verb="case.assigned", object_id=str(case.pk)).count() == 1
    # A liaison cannot be the assignee, nor assign.
    client.post(f"/cases/{case.pk}/assign/", {"assignee": liaison_a.pk})
    case.refresh_from_db()
    assert case.assignee == analyst_2
    client.force_login(liaison_a)
    assert client.post(f"/cases/{case.pk}/assign/", {"assignee": ""}).status_code == 403
