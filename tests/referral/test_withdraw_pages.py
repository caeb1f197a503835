"""Withdraw and clarify from the pages: the referral page's forms (supervisors withdraw; analysts and supervisors
answer a platform's question), the referral list's bulk withdrawal (back to the same page), bad input as a message."""

import pytest

from referral.actions import outcomes
from referral.models import Delivery, Referral


@pytest.fixture
def referrals(case, analyst, supervisor, platform_a):
    from cases.actions import items as item_actions
    from referral.actions import approval

    made = []
    for n in range(3):
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=p{n}",
                                     kind="post", categories=["incitement"])
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        made.append(approval.item_approve(actor=supervisor, item_id=item.pk).referrals.get())
    return made


def test_a_supervisor_withdraws_from_the_referral_page(browser, supervisor, analyst, referrals):
    referral = referrals[0]
    page = browser(supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    assert "Withdraw this referral" in page
    assert "Withdraw this referral" not in browser(analyst).get(f"/referrals/{referral.pk}/").content.decode()
    res = browser(supervisor).post(f"/referrals/{referral.pk}/withdraw/", {"reason": "Wrong target."}, follow=True)
    assert res.status_code == 200 and "withdrawn" in res.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "withdrawn"
    page = res.content.decode()
    assert "Referrals withdrawn" in page and "Wrong target." in page  # the event's delivery, with its reason
    assert "Withdraw this referral" not in page  # final now
    # Again: a message, not an error page.
    res = browser(supervisor).post(f"/referrals/{referral.pk}/withdraw/", {"reason": "Again."}, follow=True)
    assert res.status_code == 200 and "cannot be withdrawn" in res.content.decode()


def test_withdrawal_without_a_reason_is_a_message_and_changes_nothing(browser, supervisor, analyst, referrals):
    referral = referrals[0]
    res = browser(supervisor).post(f"/referrals/{referral.pk}/withdraw/", {"reason": "  "}, follow=True)
    assert res.status_code == 200 and "was not withdrawn" in res.content.decode()
    assert browser(analyst).post(f"/referrals/{referral.pk}/withdraw/", {"reason": "x"}).status_code == 403
    assert Referral.objects.get(pk=referral.pk).status == "queued"
    assert not Delivery.objects.filter(event="referrals.withdrawn").exists()


def test_an_analyst_answers_needs_info_from_the_referral_page(browser, analyst, referrals):
    from tests.conftest import make_user

    referral = referrals[1]
    liaison = make_user("tube_liaison", "liaison", platform=referral.platform)
    outcomes.referral_record_status(actor=liaison, referral_id=referral.pk, status="needs_info",
                                    note="Which account posted it?")
    page = browser(analyst).get(f"/referrals/{referral.pk}/").content.decode()
    assert "The platform needs information" in page and "Which account posted it?" in page
    res = browser(analyst).post(f"/referrals/{referral.pk}/clarify/", {"message": "The outlet's main account."},
                                follow=True)
    assert res.status_code == 200
    assert Referral.objects.get(pk=referral.pk).status == "acknowledged"
    assert Delivery.objects.get(event="referrals.clarified").message == "The outlet's main account."
    assert "The platform needs information" not in res.content.decode()
    assert browser(liaison).post(f"/referrals/{referral.pk}/clarify/", {"message": "x"}).status_code == 403


def test_bulk_withdrawal_from_the_list_returns_to_the_same_page(browser, supervisor, analyst, referrals):
    client = browser(supervisor)
    page = client.get("/referrals/?status=queued").content.decode()
    assert page.count('name="referrals"') == 3 and "Withdraw selected" in page
    assert "Withdraw selected" not in browser(analyst).get("/referrals/").content.decode()
    res = client.post("/referrals/withdraw/", {"referrals": [referrals[0].pk, referrals[2].pk, 987654],
                                               "reason": "Operation paused.", "next": "status=queued"})
    assert res.status_code == 302 and res["Location"] == "/referrals/?status=queued"
    assert sorted(Referral.objects.filter(status="withdrawn").values_list("pk", flat=True)) == sorted(
        [referrals[0].pk, referrals[2].pk])
    page = client.get(res["Location"]).content.decode()
    assert "2 referral(s) withdrawn" in page and "Referral 987654 does not exist." in page
    assert page.count('name="referrals"') == 1  # the withdrawn ones left the queued list
    res = client.post("/referrals/withdraw/", {"referrals": ["x"], "reason": ""}, follow=True)
    assert res.status_code == 200 and "Nothing was withdrawn" in res.content.decode()


def test_the_way_back_is_always_the_referral_list(browser, supervisor, referrals):
    client = browser(supervisor)
    for back in ("status=queued\r\nSet-Cookie: x=1", "//evil.example/", "https://evil.example/?a=1"):
        res = client.post("/referrals/withdraw/", {"referrals": [referrals[0].pk], "reason": "x", "next": back})
        assert res.status_code == 302 and res["Location"].startswith("/referrals/"), (back, res["Location"])
        assert "\n" not in res["Location"] and "evil.example/" not in res["Location"].split("?")[0]
