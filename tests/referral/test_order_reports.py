"""What a platform reports on a removal order after its answer (TCO Art 4(3), 6, 10, 11): recorded on the order,
shown in its API answer, audited, counted by the Art 8 report; only by the order's own platform, each fact once,
and never against the order (informing the content provider while the order forbids it is a 409)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from referral.actions import approval, withdrawal
from referral.models import RemovalOrder
from tests.conftest import ORDER, make_platform, make_user
from tests.receiver import Receiver
from tests.referral.test_delivery_pages import dispatch_all
from tests.referral.test_removal_orders import propose


@pytest.fixture
def order_referral(analyst, supervisor, case, platform_a):
    item = propose(analyst, case, 70)
    return approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                 order=ORDER).referrals.get()


def report(api, user, referral, **body):
    client = api(user) if not hasattr(user, "post") else user
    return client.post(f"/api/v1/referrals/{referral.pk}/order-reports/", body, format="json")


def test_each_report_is_recorded_shown_and_audited(api, liaison_a, supervisor, order_referral):
    at = timezone.now() - timedelta(minutes=1)
    r = report(api, liaison_a, order_referral, kind="preserved", at=at.isoformat(), note="kept with its metadata")
    assert r.status_code == 200, r.content
    order = RemovalOrder.objects.get(referrals=order_referral)
    assert order.preserved_until == (at + timedelta(days=183)).date()
    assert r.json()["order"]["preserved_until"] == order.preserved_until.isoformat()
    for kind in ("scrutiny_requested", "provider_informed", "complaint_received"):
        assert report(api, liaison_a, order_referral, kind=kind).status_code == 200
    r = report(api, liaison_a, order_referral, kind="complaint_decided", outcome="upheld")
    assert r.status_code == 200, r.content
    r = report(api, liaison_a, order_referral, kind="reinstated")
    assert r.status_code == 200, r.content
    shown = api(supervisor).get(f"/api/v1/referrals/{order_referral.pk}/").json()["order"]
    assert shown["complaint_outcome"] == "upheld" and shown["reinstated_at"] and shown["scrutiny_requested_at"]
    assert shown["provider_informed_at"] and shown["complaint_received_at"] and shown["complaint_decided_at"]
    verbs = list(AuditEvent.objects.filter(object_type="referral", object_id=str(order_referral.pk),
                                           verb__startswith="order.").values_list("verb", flat=True).order_by("id"))
    assert verbs == ["order.preserved", "order.scrutiny_requested", "order.provider_informed",
                     "order.complaint_received", "order.complaint_decided", "order.reinstated"]
    preserved = AuditEvent.objects.get(verb="order.preserved")
    assert preserved.actor == liaison_a and preserved.after["note"] == "kept with its metadata"


def test_each_fact_once_preservation_extended(api, liaison_a, order_referral):
    assert report(api, liaison_a, order_referral, kind="complaint_received").status_code == 200
    again = report(api, liaison_a, order_referral, kind="complaint_received")
    assert again.status_code == 409 and "already recorded" in again.json()["detail"]
    until = (timezone.localdate() + timedelta(days=365)).isoformat()
    assert report(api, liaison_a, order_referral, kind="preserved").status_code == 200
    assert report(api, liaison_a, order_referral, kind="preserved", until=until).status_code == 200
    assert RemovalOrder.objects.get(referrals=order_referral).preserved_until.isoformat() == until


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "deleted"}, "kind"),
    ({"kind": "complaint_decided", "outcome": "maybe"}, "outcome"),
    ({"kind": "preserved", "at": "yesterday"}, "at"),
    ({"kind": "preserved", "at": "2999-01-01T00:00:00Z"}, "at"),
    ({"kind": "preserved", "at": "2001-01-01T00:00:00Z"}, "at"),
    ({"kind": "preserved", "until": "2001-01-01"}, "until"),
    ({"kind": "provider_informed", "note": "x" * 2001}, "note"),
])
def test_bad_reports_are_400_naming_the_field_and_change_nothing(api, liaison_a, order_referral, body, field):
    client = api(liaison_a)
    before = AuditEvent.objects.count()
    r = report(api, client, order_referral, **body)
    assert r.status_code == 400 and field in r.json()["errors"], r.content
    assert AuditEvent.objects.count() == before


def test_the_order_comes_first(api, liaison_a, analyst, supervisor, case, platform_a):
    quiet = approval.item_approve(actor=supervisor, item_id=propose(analyst, case, 71).pk,
                                  instrument="removal_order", order={**ORDER, "non_disclosure": True}).referrals.get()
    r = report(api, liaison_a, quiet, kind="provider_informed")
    assert r.status_code == 409 and "Article 11(3)" in r.json()["detail"]
    r = report(api, liaison_a, quiet, kind="complaint_decided", outcome="rejected")
    assert r.status_code == 409 and "No complaint" in r.json()["detail"]
    r = report(api, liaison_a, quiet, kind="reinstated")
    assert r.status_code == 409
    assert RemovalOrder.objects.get(referrals=quiet).provider_informed_at is None


def test_only_the_orders_own_platform_reports(api, liaison_b, supervisor, analyst, order_referral, approved_referral):
    assert report(api, liaison_b, order_referral, kind="preserved").status_code == 404
    assert report(api, liaison_b, order_referral, kind="nonsense").status_code == 404  # scope before validation
    assert report(api, supervisor, order_referral, kind="preserved").status_code == 403
    assert report(api, analyst, order_referral, kind="preserved").status_code == 403
    assert RemovalOrder.objects.get(referrals=order_referral).preserved_until is None


def test_a_voluntary_referral_has_no_order_to_report_on(api, liaison_a, approved_referral):
    assert report(api, liaison_a, approved_referral, kind="preserved").status_code == 404


def test_the_art_8_report_counts_them_as_sql_does(api, liaison_a, supervisor, analyst, case, platform_a):
    referrals = [approval.item_approve(actor=supervisor, item_id=propose(analyst, case, 80 + n).pk,
                                       instrument="removal_order", order=ORDER).referrals.get().pk
                 for n in range(4)]  # four orders of one URL each
    client = api(liaison_a)
    for referral_id, kinds in zip(referrals, [["scrutiny_requested", "complaint_received"],
                                              ["complaint_received"], ["scrutiny_requested"], []], strict=True):
        for kind in kinds:
            assert client.post(f"/api/v1/referrals/{referral_id}/order-reports/", {"kind": kind},
                               format="json").status_code == 200
    client.post(f"/api/v1/referrals/{referrals[0]}/order-reports/", {"kind": "complaint_decided",
                                                                     "outcome": "upheld"}, format="json")
    client.post(f"/api/v1/referrals/{referrals[0]}/order-reports/", {"kind": "reinstated"}, format="json")
    today = timezone.localdate().isoformat()
    counts = api(supervisor).get("/api/v1/reports/tco/", {"from": today, "to": today}).json()
    with connection.cursor() as cursor:
        cursor.execute("""SELECT count(*) FILTER (WHERE scrutiny_requested_at IS NOT NULL),
                                 count(*) FILTER (WHERE complaint_received_at IS NOT NULL),
                                 count(*) FILTER (WHERE complaint_outcome = 'upheld'),
                                 count(*) FILTER (WHERE reinstated_at IS NOT NULL)
                          FROM referral_removalorder""")
        sql = cursor.fetchone()
    assert (counts["scrutiny_requests"], counts["complaints"], counts["complaints_upheld"],
            counts["reinstatements"]) == sql == (2, 2, 1, 1)


def test_the_order_page_is_the_whole_record_on_one_screen(api, browser, analyst, supervisor, case, liaison_a,
                                                          django_assert_max_num_queries):
    with Receiver() as receiver:
        platform = make_platform("orderly", ["orderly.example"], endpoint=receiver.url + "/h")
        liaison = make_user("lou_orderly", "liaison", platform)
        item = propose(analyst, case, 1, host="orderly.example/v/")
        referral = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                         order=ORDER).referrals.get()
        dispatch_all()
        client = api(liaison)
        assert client.post(f"/api/v1/referrals/{referral.pk}/status/", {
            "status": "cannot_execute", "reason": "insufficient_information", "note": "which video?"},
            format="json").status_code == 200
        withdrawal.referral_clarify(actor=analyst, referral_id=referral.pk, message="The one at 01:12.")
        dispatch_all()
        assert client.post(f"/api/v1/referrals/{referral.pk}/status/", {
            "status": "removed", "territorial_scope": "all_member_states"}, format="json").status_code == 200
        assert report(api, client, referral, kind="preserved").status_code == 200
    page_client = browser(supervisor)
    with django_assert_max_num_queries(14):
        page = page_client.get(f"/referrals/{referral.pk}/order/")
    text = page.content.decode()
    record = text[text.index('id="order-record"'):]
    for verb, who in [("item.proposed", analyst.username), ("item.approved", supervisor.username),
                      ("referral.cannot_execute", liaison.username), ("referral.clarified", analyst.username),
                      ("referral.removed", liaison.username), ("order.preserved", liaison.username)]:
        row = next((r for r in record.split("<tr>") if f"{verb} " in r), None)
        assert row is not None and who in row, (verb, record[:3000])
    sends = text[text.index('id="order-sends"'):text.index('id="order-record"')]
    assert sends.count("<td>200</td>") == 2  # the order, then the clarification, each with its 2xx
    answers = text[text.index('id="order-answers"'):text.index('id="order-sends"')]
    assert "all member states" in answers and "Preserved until (Art 6)" in answers
    # The platform's liaison reads the order and the answers, not the unit's record.
    theirs = browser(liaison).get(f"/referrals/{referral.pk}/order/").content.decode()
    assert 'id="order-answers"' in theirs and 'id="order-record"' not in theirs and analyst.username not in theirs
