"""The item page: who may open it, the assessment form, the actions its status allows, duplicates, timeline."""

import pytest

from alerts.models import Alert
from cases.actions import items as item_actions
from cases.models import Item
from referral.actions import approval


def text(res) -> str:
    return res.content.decode()


@pytest.mark.parametrize("persona, code", [("analyst", 200), ("supervisor", 200), ("admin_user", 200),
                                           ("liaison_a", 403)])
def test_who_opens_the_item_page(request, browser, log, persona, code):
    item = log()
    assert browser(request.getfixturevalue(persona)).get(f"/items/{item.pk}/").status_code == code


def test_analyst_assesses_through_the_form(browser, analyst, log, groups):
    item = log()
    client = browser(analyst)
    page = text(client.get(f"/items/{item.pk}/"))
    assert 'name="severity"' in page and f'action="/items/{item.pk}/propose/"' in page
    res = client.post(f"/items/{item.pk}/", {"categories": ["threat"], "group": groups["Nashir"].pk,
                                             "language": "ar", "severity": "5", "confidence": "3",
                                             "threat_to_life": "on"}, follow=True)
    assert res.redirect_chain == [(f"/items/{item.pk}/", 302)]
    item.refresh_from_db()
    assert (item.priority, item.group.name, item.threat_to_life) == (10, "Nashir", True)
    assert "priority 10" in text(res) and "Supervisors are alerted" in text(res)
    assert Alert.objects.filter(kind="threat_to_life").exists()
    assert "item.assessed" in text(res)  # the timeline shows it


def test_bad_assessment_shows_the_form_again(browser, analyst, log):
    item = log()
    res = browser(analyst).post(f"/items/{item.pk}/", {"severity": "9", "categories": ["gossip"]})
    assert res.status_code == 400 and "Select a valid choice" in text(res)
    item.refresh_from_db()
    assert item.severity is None


def test_admin_reads_but_cannot_assess(browser, admin_user, log):
    item = log()
    client = browser(admin_user)
    page = text(client.get(f"/items/{item.pk}/"))
    assert 'name="severity"' not in page and "Save assessment" not in page
    assert client.post(f"/items/{item.pk}/", {"severity": "3"}).status_code == 403
    assert client.post(f"/items/{item.pk}/discard/", {"reason": "x"}).status_code == 403


def test_propose_from_the_item_page_comes_back_to_it(browser, analyst, log):
    item = log()
    res = browser(analyst).post(f"/items/{item.pk}/propose/", {"next": f"/items/{item.pk}/"}, follow=True)
    assert res.redirect_chain == [(f"/items/{item.pk}/", 302)]
    assert Item.objects.get(pk=item.pk).status == "proposed"
    evil = browser(analyst).post(f"/items/{log().pk}/propose/", {"next": "https://evil.example/"})
    assert evil["Location"].startswith("/cases/")


def test_discard_hold_release_assign_buttons(browser, analyst, analyst_2, log):
    item = log()
    client = browser(analyst)
    res = client.post(f"/items/{item.pk}/discard/", {"reason": ""})
    assert res.status_code == 400 and "This field is required." in text(res)
    client.post(f"/items/{item.pk}/hold/", {"reason": "Live operation", "requested_by": "Op Juniper"})
    page = text(client.get(f"/items/{item.pk}/"))
    assert "Op Juniper" in page and "Release the hold" in page and "Propose for referral" not in page
    client.post(f"/items/{item.pk}/release/")
    assert Item.objects.get(pk=item.pk).status == "logged"
    client.post(f"/items/{item.pk}/assign/", {"assignee": analyst_2.pk})
    assert Item.objects.get(pk=item.pk).assignee == analyst_2
    res = client.post(f"/items/{item.pk}/discard/", {"reason": "Satire"}, follow=True)
    assert f"Item {item.pk} discarded." in text(res)
    page = text(res)
    assert "Save assessment" not in page and "Put on hold" not in page
    res = client.post(f"/items/{item.pk}/release/", follow=True)
    assert "only an item on hold can be released" in text(res)


def test_duplicates_and_referrals_are_listed(browser, analyst, supervisor, log, platform_a):
    original = log("https://tube.example/watch?v=dup")
    copy = log("https://tube.example/watch?v=dup&utm_source=a")
    item_actions.item_propose(actor=analyst, item_id=original.pk)
    approval.item_approve(actor=supervisor, item_id=original.pk)
    page = text(browser(analyst).get(f"/items/{original.pk}/"))
    assert f'href="/items/{copy.pk}/"' in page and "Referral " in page and "Queued" in page
    assert "referral.queued" in page  # the referral's events are in the item's timeline
    page = text(browser(analyst).get(f"/items/{copy.pk}/"))
    assert f'href="/items/{original.pk}/"' in page and "the original" in page


def test_missing_item_is_404(browser, analyst):
    assert browser(analyst).get("/items/987654/").status_code == 404


def test_the_item_page_shows_what_became_of_the_same_url_before(browser, supervisor, analyst, case, platform_a,
                                                                 liaison_a):
    from referral.actions import outcomes

    url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    first = item_actions.item_log(actor=analyst, case=case, url=url, kind="media", categories=["incitement"],
                                  platform_slug=platform_a.slug)
    item_actions.item_propose(actor=analyst, item_id=first.pk)
    referral = approval.item_approve(actor=supervisor, item_id=first.pk).referrals.get()
    outcomes.referral_record_status(actor=liaison_a, referral_id=referral.pk, status="declined",
                                    platform_reference="TUBE-77")
    again = item_actions.item_log(actor=analyst, case=case, url="https://youtu.be/dQw4w9WgXcQ", kind="media",
                                  categories=["incitement"], platform_slug=platform_a.slug)
    page = text(browser(supervisor).get(f"/items/{again.pk}/"))
    assert f"Referral {referral.pk}</a> (item" in page and "Declined" in page and "TUBE-77" in page
    page = text(browser(supervisor).get(f"/items/{first.pk}/"))
    assert "None: this URL was never referred from another item." in page
