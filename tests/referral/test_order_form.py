"""The removal order form in the browser's server pages (/items/<id>/order/): the Annex I preview from the unit,
the platform's directory and the item; the supervisor's part checked with the service's messages; an order issued
through the same service as the API's (four-eyes, first-order rule), then its page."""

import pytest

from audit.models import AuditEvent
from referral.models import RemovalOrder
from tests.conftest import make_platform
from tests.referral.test_removal_orders import propose

pytestmark = pytest.mark.django_db


def test_the_form_shows_the_order_to_be_and_issues_it(browser, analyst, supervisor, case, platform_a):
    item = propose(analyst, case, 1)
    client = browser(supervisor)
    page = client.get(f"/items/{item.pk}/order/").content.decode()
    assert "Internet Referral Unit (test)" in page and item.url in page and "incitement" in page
    assert "has not been sent the procedures" not in page
    r = client.post(f"/items/{item.pk}/order/", {"statement_of_reasons": "Calls for attacks (Art 2(7)(a)).",
                                                  "non_disclosure": "on"})
    order = RemovalOrder.objects.get(referrals__item=item)
    assert r.status_code == 302 and r["Location"] == f"/referrals/{order.referrals.get().pk}/order/"
    assert order.signatory == supervisor and order.non_disclosure and order.non_disclosure_until
    assert AuditEvent.objects.filter(verb="item.approved", object_id=str(item.pk), actor=supervisor).exists()
    assert "Removal order issued" in client.get(r["Location"]).content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"statement_of_reasons": ""}, "This field is required"),
    ({"statement_of_reasons": "ok", "emergency": "on"}, "cannot wait for the platform"),
    ({"statement_of_reasons": "ok", "non_disclosure": "on", "non_disclosure_until": "2099-01-01"}, "six weeks"),
    ({"statement_of_reasons": "ok", "non_disclosure_until": "2026-12-20"}, "Only with non_disclosure"),
])
def test_a_bad_order_is_a_400_with_its_message_and_issues_nothing(browser, analyst, supervisor, case, platform_a,
                                                                   data, message):
    item = propose(analyst, case, 2)
    r = browser(supervisor).post(f"/items/{item.pk}/order/", data)
    assert r.status_code == 400 and message in r.content.decode()
    assert not RemovalOrder.objects.exists()


def test_a_first_order_waits_for_the_procedures_unless_an_emergency(browser, analyst, supervisor, case):
    make_platform("newhost", ["newhost.example"], legal={"main_establishment": "NL", "languages": ["en"]})
    item = propose(analyst, case, 3, host="newhost.example/v/")
    client = browser(supervisor)
    assert "has not been sent the procedures" in client.get(f"/items/{item.pk}/order/").content.decode()
    refused = client.post(f"/items/{item.pk}/order/", {"statement_of_reasons": "Calls for attacks."})
    assert refused.status_code == 409 and "12 hours" in refused.content.decode()
    issued = client.post(f"/items/{item.pk}/order/", {"statement_of_reasons": "Calls for attacks.",
                                                       "emergency": "on", "emergency_reason": "A live attack."})
    assert issued.status_code == 302 and RemovalOrder.objects.get(referrals__item=item).emergency


def test_only_supervisors_and_only_for_a_proposal(browser, analyst, supervisor, case, platform_a):
    from cases.actions import items as item_actions

    item = propose(analyst, case, 4)
    assert browser(analyst).get(f"/items/{item.pk}/order/").status_code == 403
    assert browser(analyst).post(f"/items/{item.pk}/order/", {"statement_of_reasons": "x"}).status_code == 403
    logged = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=new", kind="post",
                                   categories=["incitement"])
    assert browser(supervisor).get(f"/items/{logged.pk}/order/").status_code == 404
    assert not RemovalOrder.objects.exists()


def test_the_item_page_links_to_the_form_for_supervisors(browser, analyst, supervisor, case, platform_a):
    item = propose(analyst, case, 5)
    assert f"/items/{item.pk}/order/" in browser(supervisor).get(f"/items/{item.pk}/").content.decode()
    assert f"/items/{item.pk}/order/" not in browser(analyst).get(f"/items/{item.pk}/").content.decode()
