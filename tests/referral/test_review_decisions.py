"""Deciding on Review: the checked rows or one row, approve (with the instrument), return or reject (with a reason),
four-eyes per row, and the page keeping its place afterwards (htmx: the same page swapped in; without JavaScript:
a redirect back to the same filters and cursor). The triage queue keeps its place the same way."""

import re

import pytest

from cases.actions import items as item_actions
from cases.models import Item
from referral.models import Referral
from tests.conftest import enrol_totp, make_user

ROW = re.compile(r'<tr id="r-item-(\d+)" class="review-row')
HTMX = {"HTTP_HX_REQUEST": "true"}


def ids_on(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.content.decode())]


@pytest.fixture
def propose(analyst, case, platform_a):
    counter = {"n": 0}

    def make(by=None, **assessment):
        counter["n"] += 1
        author = by or analyst
        item = item_actions.item_log(actor=author, case=case, url=f"https://tube.example/watch?v=d{counter['n']}",
                                     kind="post", categories=["threat"])
        return item_actions.item_propose(actor=author, item_id=item.pk)

    return make


@pytest.fixture
def promoted(db):
    """An analyst who proposed items and was promoted since: four-eyes still binds them to their proposals."""
    user = make_user("pat_promoted", "analyst")

    def promote():
        user.role = "supervisor"
        user.save(update_fields=["role"])
        enrol_totp(user)  # a supervisor signs in with a second factor
        return user

    return user, promote


def statuses(items) -> list[str]:
    return [Item.objects.get(pk=i.pk).status for i in items]


def test_approve_the_checked_rows_with_the_chosen_instrument(browser, supervisor, propose):
    a, b, c = propose(), propose(), propose()
    res = browser(supervisor).post("/review/decide/", {"items": [a.pk, b.pk], "action": "approve",
                                                       "instrument": "removal_order", "reason": "Incitement."},
                                   follow=True)
    assert res.redirect_chain == [("/review/", 302)]
    assert statuses([a, b, c]) == ["approved", "approved", "proposed"]
    assert set(Referral.objects.values_list("instrument", flat=True)) == {"removal_order"}
    text = res.content.decode()
    assert f"2 items approved (items {a.pk}, {b.pk})." in text and ids_on(res) == [c.pk]


@pytest.mark.parametrize("action, status", [("return", "returned"), ("reject", "rejected")])
def test_return_and_reject_need_a_reason(browser, supervisor, propose, action, status):
    a, b = propose(), propose()
    client = browser(supervisor)
    res = client.post("/review/decide/", {"items": [a.pk, b.pk], "action": action, "reason": " "}, follow=True)
    assert "Nothing was changed" in res.content.decode() and statuses([a, b]) == ["proposed", "proposed"]
    client.post("/review/decide/", {"items": [a.pk, b.pk], "action": action, "reason": "Satire"})
    assert statuses([a, b]) == [status, status]
    assert Item.objects.get(pk=a.pk).decision_reason == "Satire"


def test_own_proposals_are_skipped_and_listed_never_approved(browser, supervisor, propose, promoted):
    user, promote = promoted
    others = [propose(), propose()]
    own = [propose(by=user), propose(by=user)]
    res = browser(promote()).post("/review/decide/", {"items": [i.pk for i in others + own], "action": "approve",
                                                      "instrument": "referral"}, follow=True)
    text = res.content.decode()
    assert statuses(others) == ["approved", "approved"] and statuses(own) == ["proposed", "proposed"]
    assert f"2 skipped: your own proposals (four-eyes: another supervisor must approve them): items {own[0].pk}, " \
           f"{own[1].pk}." in text
    assert not Referral.objects.filter(item__in=own).exists()
    # the item URL refuses it too
    browser(user).post(f"/items/{own[0].pk}/approve/", {"instrument": "referral"})
    assert statuses(own) == ["proposed", "proposed"]


def test_a_rows_button_decides_that_item_with_the_action_bar_fields(browser, supervisor, propose):
    a, b = propose(), propose()
    client = browser(supervisor)
    res = client.post(f"/items/{a.pk}/approve/", {"items": [b.pk], "instrument": "removal_order",
                                                  "reason": "Incitement.", "back": "kind=post"})
    assert res.status_code == 302 and res["Location"] == "/review/?kind=post"
    assert statuses([a, b]) == ["approved", "proposed"]
    assert Referral.objects.get(item=a).instrument == "removal_order"
    client.post(f"/items/{b.pk}/return/", {"items": [a.pk], "reason": "Add the channel", "back": ""})
    assert Item.objects.get(pk=b.pk).decision_reason == "Add the channel"


def test_without_javascript_a_decision_comes_back_to_the_same_filters_and_cursor(browser, supervisor, propose):
    items = [propose() for _ in range(55)]
    client = browser(supervisor)
    first = client.get("/review/?kind=post")
    cursor = re.search(r'href="\?([^"]*after=[^"]+)" rel="next"', first.content.decode()).group(1)
    query = cursor.replace("&amp;", "&")
    second = client.get(f"/review/?{query}")
    on_page_two = ids_on(second)
    assert len(on_page_two) == 5 and 'name="back" value="' in second.content.decode()
    res = client.post("/review/decide/", {"items": on_page_two[:2], "action": "reject", "reason": "Not TCO",
                                          "back": query})
    assert res.status_code == 302 and res["Location"] == f"/review/?{query}"
    assert ids_on(client.get(res["Location"])) == on_page_two[2:]
    assert len(items) == 55


def test_with_htmx_the_answer_is_the_same_page_in_place(browser, supervisor, propose):
    items = [propose() for _ in range(55)]
    client = browser(supervisor)
    query = "kind=post"
    shown = ids_on(client.get(f"/review/?{query}"))
    res = client.post("/review/decide/", {"items": shown[3:5], "action": "approve", "instrument": "referral",
                                          "back": query}, **HTMX)
    assert res.status_code == 200
    text = res.content.decode()
    assert "<html" not in text  # the partial, not a whole page
    assert text.count('<div id="review-results">') == 1
    assert f"2 items approved (items {shown[3]}, {shown[4]})." in text
    after = ids_on(res)
    assert after[:3] == shown[:3] and after[3:48] == shown[5:50]  # the rows below moved up into their place
    assert f'name="back" value="{query}"' in text
    refused = client.post("/review/decide/", {"items": [shown[0]], "action": "return", "back": query}, **HTMX)
    assert refused.status_code == 200 and "Nothing was changed" in refused.content.decode()
    assert len(items) == 55


def test_a_refused_single_decision_shows_its_form_with_the_error(browser, supervisor, propose):
    a = propose()
    res = browser(supervisor).post(f"/items/{a.pk}/reject/", {"reason": "", "back": "kind=post"})
    text = res.content.decode()
    assert res.status_code == 200 and f"Item {a.pk} was not rejected" in text and 'aria-invalid="true"' in text
    assert f'action="/items/{a.pk}/reject/"' in text and Item.objects.get(pk=a.pk).status == "proposed"


@pytest.mark.parametrize("persona", ["analyst", "admin_user", "liaison_a"])
def test_only_supervisors_decide(request, browser, propose, persona):
    a = propose()
    client = browser(request.getfixturevalue(persona))
    assert client.post("/review/decide/", {"items": [a.pk], "action": "approve"}).status_code == 403
    assert client.post("/review/jobs/", {"decision": "approve", "filter": ""}).status_code == 403
    assert Item.objects.get(pk=a.pk).status == "proposed"


# --- The triage queue keeps its place too -----------------------------------------------------------------

QUEUE_ROW = re.compile(r'<tr id="q-item-(\d+)"')


def test_triage_bulk_action_with_htmx_answers_the_same_page(browser, analyst, case, platform_a):
    items = [item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=q{n}", kind="post",
                                   categories=["threat"]) for n in range(55)]
    client = browser(analyst)
    first = client.get("/queue/?sort=oldest").content.decode()
    query = re.search(r'href="\?([^"]*after=[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    page_two = [int(i) for i in QUEUE_ROW.findall(client.get(f"/queue/?{query}").content.decode())]
    assert len(page_two) == 5
    res = client.post("/queue/bulk/", {"action": "propose", "items": page_two[:2], "back": query}, **HTMX)
    text = res.content.decode()
    assert res.status_code == 200 and f"2 items proposed (items {page_two[0]}, {page_two[1]})." in text
    assert [int(i) for i in QUEUE_ROW.findall(text)] == page_two[2:]  # same cursor: page two, less the proposed
    assert 'id="queue-results"' in text
    res = client.post("/queue/bulk/", {"action": "discard", "items": page_two[2:3], "reason": "Offline",
                                       "back": query})
    assert res.status_code == 302 and res["Location"] == f"/queue/?{query}"
    assert len(items) == 55
