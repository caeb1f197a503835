"""Removal orders as the TCO Regulation writes them (issue 10): the Annex I content given at approval, checked
(400 with field messages under "order"), stored with the referral and shown in its API answer with its clock; the
issuing authority from the environment (409 naming what to set); the platform's legal directory kept by the admin
(API and services) and used for the addressee and the cross-border copy."""

import pytest

from audit.models import AuditEvent
from cases.actions import items as item_actions
from core.errors import Conflict, InvalidInput, NotPermitted
from platforms import services as platform_services
from referral.actions import approval
from referral.models import Delivery, Referral, RemovalOrder
from tests.conftest import ORDER


def propose(analyst, case, n=1, host="tube.example/watch?v=ro", categories=("incitement", "threat")):
    item = item_actions.item_log(actor=analyst, case=case, url=f"https://{host}{n}", kind="post",
                                 categories=list(categories))
    return item_actions.item_propose(actor=analyst, item_id=item.pk)


def test_an_order_is_approved_with_its_annex_i_content(api, analyst, supervisor, case, platform_a, liaison_a):
    item = propose(analyst, case)
    body = {"instrument": "removal_order", "order": {
        "statement_of_reasons": "Glorifies the 2026 attack and calls for more (Art 2(7)(a)).",
        "non_disclosure": True}}
    r = api(supervisor).post(f"/api/v1/items/{item.pk}/approve/", body, format="json")
    assert r.status_code == 200, r.content
    [referral_id] = r.json()["referrals"]
    order = RemovalOrder.objects.get(referrals=referral_id)
    assert order.reference == f"NL-TCO-{order.issued_at:%Y}-{referral_id:07d}"
    assert (order.issuing_member_state, order.addressee, order.urls, order.grounds) == (
        "NL", platform_a.name, [item.url], ["incitement", "threat"])
    assert order.signatory == supervisor and order.authority_name == "Internet Referral Unit (test)"
    assert order.non_disclosure and (order.non_disclosure_until - order.issued_at.date()).days == 42
    assert order.contact_point == platform_a.contact_points.get().endpoint and order.redress
    # The referral's answer carries the order and its clock, for the unit and for the platform's liaison.
    for user in (supervisor, liaison_a):
        answer = api(user).get(f"/api/v1/referrals/{referral_id}/").json()
        assert answer["order"]["reference"] == order.reference
        assert answer["order"]["statement_of_reasons"].startswith("Glorifies")
        assert answer["order"]["authority"] == {"type": "Law enforcement authority",
                                                "name": "Internet Referral Unit (test)",
                                                "contact": "iru@police.example"}
        assert answer["clock"] == {"due_at": answer["due_at"], "paused": False, "paused_reason": ""}
    listed = api(liaison_a).get("/api/v1/referrals/").json()["results"]
    assert listed[0]["order"]["reference"] == order.reference


def test_a_referral_has_no_order_and_a_clock_that_never_pauses(api, approved_referral, supervisor):
    answer = api(supervisor).get(f"/api/v1/referrals/{approved_referral.pk}/").json()
    assert answer["order"] is None and answer["clock"]["paused"] is False


@pytest.mark.parametrize(("order", "field"), [
    (None, "statement_of_reasons"),
    ({}, "statement_of_reasons"),
    ({"statement_of_reasons": "   "}, "statement_of_reasons"),
    ({"statement_of_reasons": "x" * 5001}, "statement_of_reasons"),
    ({"statement_of_reasons": "ok", "emergency": True}, "emergency_reason"),
    ({"statement_of_reasons": "ok", "emergency": "yes"}, "emergency"),
    ({"statement_of_reasons": "ok", "non_disclosure": True, "non_disclosure_until": "2099-01-01"},
     "non_disclosure_until"),
    ({"statement_of_reasons": "ok", "non_disclosure": True, "non_disclosure_until": "soon"}, "non_disclosure_until"),
    ({"statement_of_reasons": "ok", "non_disclosure_until": "2026-12-20"}, "non_disclosure_until"),
    ({"statement_of_reasons": "ok", "signed_by": "me"}, "non_field_errors"),
])
def test_every_annex_i_error_is_a_400_naming_its_field(api, analyst, supervisor, case, platform_a, order, field):
    item = propose(analyst, case)
    client = api(supervisor)  # issuing its key is audited
    before = AuditEvent.objects.count()
    r = client.post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "removal_order", "order": order},
                    format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]["order"], r.json()
    assert not Referral.objects.exists() and AuditEvent.objects.count() == before
    item.refresh_from_db()
    assert item.status == "proposed"


def test_orders_need_the_unit_authority_in_the_environment(api, analyst, supervisor, case, platform_a, settings):
    settings.UNIT_MEMBER_STATE = ""
    settings.UNIT_CONTACT_EMAIL = ""
    item = propose(analyst, case)
    r = api(supervisor).post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "removal_order", "order": ORDER},
                             format="json")
    assert r.status_code == 409
    assert "UNIT_MEMBER_STATE, UNIT_CONTACT_EMAIL are set" in r.json()["detail"]
    # A voluntary referral needs none of it.
    r = api(supervisor).post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "referral"}, format="json")
    assert r.status_code == 200


def test_urls_of_one_platform_approved_together_are_one_order_naming_them_all(api, analyst, supervisor, case,
                                                                             platform_a, liaison_a):
    ids = [propose(analyst, case, n, categories=[("incitement",), ("threat",), ("incitement",)][n]).pk
           for n in range(3)]
    with pytest.raises(InvalidInput):
        approval.item_approve_many(actor=supervisor, item_ids=ids, instrument="removal_order")
    result = approval.item_approve_many(actor=supervisor, item_ids=ids, instrument="removal_order", order=ORDER)
    [order] = RemovalOrder.objects.filter(referrals__in=result["referrals"]).distinct()
    first = min(result["referrals"])
    assert order.reference.endswith(f"-{first:07d}") and order.platform_id == platform_a.pk
    assert order.urls == [f"https://tube.example/watch?v=ro{n}" for n in range(3)]
    assert order.grounds == ["incitement", "threat"] and order.statement_of_reasons == ORDER["statement_of_reasons"]
    assert sorted(order.referrals.values_list("pk", flat=True)) == sorted(result["referrals"])
    # Each URL's referral shows the one order (every URL in it) and travels with the others in one message.
    answers = [api(liaison_a).get(f"/api/v1/referrals/{pk}/").json() for pk in result["referrals"]]
    assert {a["order"]["reference"] for a in answers} == {order.reference}
    assert all(a["order"]["urls"] == order.urls for a in answers)
    deliveries = {d for pk in result["referrals"] for d in Delivery.objects.filter(referrals=pk)}
    assert len(deliveries) == 1 and deliveries.pop().referrals.count() == 3


def test_an_order_names_at_most_order_max_urls_and_one_messages_worth(settings, analyst, supervisor, case,
                                                                      platform_a):
    settings.ORDER_MAX_URLS = 2
    ids = [propose(analyst, case, n).pk for n in range(5)]
    result = approval.item_approve_many(actor=supervisor, item_ids=ids, instrument="removal_order", order=ORDER)
    orders = list(RemovalOrder.objects.filter(platform=platform_a).order_by("pk"))
    assert [len(o.urls) for o in orders] == [2, 2, 1] and len({o.reference for o in orders}) == 3
    # A contact point taking fewer per message bounds the order too, and no order is split between messages.
    settings.ORDER_MAX_URLS = 100
    platform_a.contact_points.update(max_items_per_message=3)
    more = approval.item_approve_many(actor=supervisor, item_ids=[propose(analyst, case, 10 + n).pk for n in range(4)],
                                      instrument="removal_order", order=ORDER)
    new = list(RemovalOrder.objects.filter(referrals__in=more["referrals"]).distinct().order_by("pk"))
    assert [len(o.urls) for o in new] == [3, 1]
    for order in RemovalOrder.objects.filter(platform=platform_a):
        carried = {d.pk for r in order.referrals.all() for d in r.deliveries.all()}
        per_cp = Delivery.objects.filter(pk__in=carried).values_list("contact_point_id", flat=True)
        assert len(list(per_cp)) == len(set(per_cp)), "an order travels whole, in one message per contact point"
    assert len(result["referrals"]) == 5


def test_the_legal_directory_addresses_the_order_and_asks_for_the_cross_border_copy(api, admin_user, analyst,
                                                                                    supervisor, case):
    r = api(admin_user).post("/api/v1/platforms/", {
        "slug": "vidhost", "name": "VidHost Ltd", "domains": ["vidhost.example"],
        "contact_points": [{"channel": "email", "endpoint": "tco@vidhost.example"}],
        "legal": {"main_establishment": "ie", "legal_representative": "VidHost EU, 1 Dock Road, Dublin",
                  "languages": ["en", "FR"], "pre_information_sent_at": "2026-03-01T08:00:00+01:00"}}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["legal"] == {"main_establishment": "IE", "legal_representative": "VidHost EU, 1 Dock Road, Dublin",
                                 "languages": ["en", "fr"], "pre_information_sent_at": "2026-03-01T07:00:00Z",
                                 "exposed": False, "exposed_since": None, "final_orders_12_months": 0}
    item = propose(analyst, case, host="vidhost.example/v/")
    referral = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                     order=ORDER).referrals.get()
    order = referral.order
    assert (order.host_member_state, order.legal_representative, order.copy_to_host_authority) == (
        "IE", "VidHost EU, 1 Dock Road, Dublin", True)
    assert order.contact_point == "tco@vidhost.example"
    # Kept by the admin, audited; others may not.
    platform_id = r.json()["id"]
    r = api(admin_user).put(f"/api/v1/platforms/{platform_id}/legal/",
                            {"main_establishment": "NL", "legal_representative": "", "languages": ["nl"]},
                            format="json")
    assert r.status_code == 200 and r.json()["legal"]["main_establishment"] == "NL"
    assert AuditEvent.objects.filter(verb="platform.legal_set").count() == 1
    assert api(supervisor).put(f"/api/v1/platforms/{platform_id}/legal/", {"languages": ["en"]},
                               format="json").status_code == 403
    with pytest.raises(NotPermitted):
        platform_services.platform_legal_set(actor=supervisor, platform_id=platform_id, legal={"languages": ["en"]})


@pytest.mark.parametrize(("legal", "field"), [
    ({"main_establishment": "US"}, "main_establishment"),
    ({"languages": []}, "languages"),
    ({"languages": ["english"]}, "languages"),
    ({"legal_representative": 7}, "legal_representative"),
    ({"headquarters": "x"}, "non_field_errors"),
    ({"pre_information_sent_at": "yesterday"}, "pre_information_sent_at"),
    ({"pre_information_sent_at": "2099-01-01T00:00:00Z"}, "pre_information_sent_at"),
])
def test_a_bad_legal_directory_is_a_400_and_creates_nothing(api, admin_user, legal, field):
    r = api(admin_user).post("/api/v1/platforms/", {"slug": "bad", "name": "Bad", "domains": ["bad.example"],
                                                    "contact_points": [], "legal": legal}, format="json")
    assert r.status_code == 400 and field in r.json()["errors"]["legal"], r.content
    r = api(admin_user).put("/api/v1/platforms/987654/legal/", {"languages": ["en"]}, format="json")
    assert r.status_code == 404


def test_orders_and_their_conflicts_are_domain_errors(analyst, supervisor, case, platform_a, settings):
    settings.UNIT_AUTHORITY_NAME = ""
    item = propose(analyst, case)
    with pytest.raises(Conflict):
        approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order", order=ORDER)


# --- the clock and the platform's answer (Annexes II and III) --------------------------------------------


@pytest.fixture
def order_referral(analyst, supervisor, case, platform_a):
    item = propose(analyst, case, 50)
    return approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                 order=ORDER).referrals.get()


def _answer(api, liaison, referral, body):
    return api(liaison).post(f"/api/v1/referrals/{referral.pk}/status/", body, format="json")


def test_annex_ii_records_the_measure_and_its_scope(api, liaison_a, order_referral):
    r = _answer(api, liaison_a, order_referral, {"status": "removed", "territorial_scope": "all_member_states",
                                                  "action_taken_at": "2026-12-07T10:00:00Z"})
    assert r.status_code == 200, r.content
    assert r.json()["order"]["territorial_scope"] == "all_member_states"
    r = _answer(api, liaison_a, order_referral, {"status": "removed", "territorial_scope": "the moon"})
    assert r.status_code == 400 and "territorial_scope" in r.json()["errors"]


def test_cannot_execute_pauses_the_clock_and_the_clarification_restarts_it(api, liaison_a, analyst, order_referral,
                                                                           settings):
    from datetime import timedelta

    from django.utils import timezone

    from referral.actions import outcomes, withdrawal

    r = _answer(api, liaison_a, order_referral, {"status": "cannot_execute"})
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = _answer(api, liaison_a, order_referral, {"status": "cannot_execute", "reason": "insufficient_information",
                                                  "note": "Which of the two videos on the page?"})
    assert r.status_code == 200, r.content
    assert r.json()["clock"] == {"due_at": r.json()["due_at"], "paused": True,
                                 "paused_reason": "insufficient_information"}
    # Past its hour, a paused order is not overdue.
    Referral.objects.filter(pk=order_referral.pk).update(due_at=timezone.now() - timedelta(hours=3))
    assert outcomes.referrals_flag_overdue() == 0
    # The unit's answer restarts the clock: an hour from now (from receipt once the answer is delivered).
    clarified = withdrawal.referral_clarify(actor=analyst, referral_id=order_referral.pk,
                                            message="The second video, posted at 10:02.")
    assert clarified.status == "acknowledged" and not clarified.order.paused
    assert timedelta(minutes=59) < clarified.due_at - timezone.now() <= timedelta(hours=1)
    answer = api(liaison_a).get(f"/api/v1/referrals/{order_referral.pk}/").json()
    assert answer["clock"]["paused"] is False and answer["order"]["cannot_execute_reason"] == "insufficient_information"


def test_force_majeure_restarts_the_hour_when_the_grounds_ceased(api, liaison_a, analyst, order_referral):
    from datetime import timedelta

    from django.utils import timezone

    from referral.actions import withdrawal

    _answer(api, liaison_a, order_referral, {"status": "cannot_execute", "reason": "force_majeure",
                                             "note": "Data centre flooded."})
    with pytest.raises(Conflict):  # the unit's answer does not end a force majeure
        withdrawal.referral_clarify(actor=analyst, referral_id=order_referral.pk, message="Please.")
    ceased = (timezone.now() - timedelta(minutes=20)).replace(microsecond=0)
    r = _answer(api, liaison_a, order_referral, {"status": "acknowledged",
                                                  "grounds_ceased_at": ceased.isoformat()})
    assert r.status_code == 200, r.content
    referral = Referral.objects.get(pk=order_referral.pk)
    assert referral.due_at == ceased + timedelta(hours=1) and not referral.order.paused
    assert r.json()["order"]["grounds_ceased_at"] is not None


def test_only_a_removal_order_can_be_answered_cannot_execute(api, liaison_a, approved_referral):
    r = _answer(api, liaison_a, approved_referral, {"status": "cannot_execute", "reason": "force_majeure"})
    assert r.status_code == 400 and "status" in r.json()["errors"]
    assert Referral.objects.get(pk=approved_referral.pk).status == "queued"


def test_bulk_answers_carry_the_annexes_too(api, liaison_a, analyst, supervisor, case, platform_a):
    ids = [propose(analyst, case, 60 + n).pk for n in range(2)]
    result = approval.item_approve_many(actor=supervisor, item_ids=ids, instrument="removal_order", order=ORDER)
    first, second = result["referrals"]
    r = api(liaison_a).post("/api/v1/referrals/status/", [
        {"id": first, "status": "cannot_execute", "reason": "manifest_error", "note": "Wrong URL"},
        {"id": second, "status": "restricted", "territorial_scope": "some_member_states"}], format="json")
    results = r.json()["results"]
    assert [x["status_code"] for x in results] == [200, 200]
    assert results[0]["referral"]["clock"]["paused"] is True
    assert results[1]["referral"]["order"]["territorial_scope"] == "some_member_states"
    assert RemovalOrder.objects.get(referrals=first).paused_reason == "manifest_error"


# --- the first order to a platform (Art 3(2)) ---------------------------------------------------------------


@pytest.fixture
def new_platform(db, receiver_url):
    from tests.conftest import make_platform

    return make_platform("newhost", ["newhost.example"], endpoint=receiver_url, legal=None)


@pytest.fixture
def receiver_url():
    from tests.receiver import Receiver

    with Receiver() as receiver:
        yield receiver.url + "/hook"


def test_a_first_order_waits_for_the_procedure_information(api, analyst, supervisor, case, new_platform):
    from datetime import timedelta

    from django.utils import timezone

    from platforms.models import PlatformLegal
    from referral.models import Delivery
    from referral.outbox import dispatcher

    item = propose(analyst, case, host="newhost.example/v/")
    client = api(supervisor)
    r = client.post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "removal_order", "order": ORDER},
                    format="json")
    assert r.status_code == 409 and "first removal order" in r.json()["detail"]
    # A voluntary referral is not held back.
    assert Referral.objects.count() == 0
    # The procedure information goes through the outbox; its receipt is recorded.
    r = client.post(f"/api/v1/platforms/{new_platform.pk}/pre-information/")
    assert r.status_code == 202 and r.json() == {"deliveries": 1}
    delivery = Delivery.objects.get(event="orders.pre_information")
    assert "within one hour of receipt" in delivery.message
    assert dispatcher.dispatch_due() == {"sent": 1}
    received = PlatformLegal.objects.get(platform=new_platform).pre_information_sent_at
    assert received is not None and abs(received - timezone.now()) < timedelta(seconds=30)
    # Still less than 12 hours ago: refused, and the message says when it was sent.
    r = client.post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "removal_order", "order": ORDER},
                    format="json")
    assert r.status_code == 409 and "it was sent" in r.json()["detail"]
    PlatformLegal.objects.filter(platform=new_platform).update(pre_information_sent_at=received - timedelta(hours=12))
    r = client.post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "removal_order", "order": ORDER},
                    format="json")
    assert r.status_code == 200, r.content
    # The second order needs no wait whatever the directory says.
    PlatformLegal.objects.filter(platform=new_platform).update(pre_information_sent_at=None)
    other = propose(analyst, case, 2, host="newhost.example/v/")
    assert client.post(f"/api/v1/items/{other.pk}/approve/", {"instrument": "removal_order", "order": ORDER},
                       format="json").status_code == 200


def test_an_emergency_order_needs_no_notice_but_a_reason(api, analyst, supervisor, case, new_platform):
    item = propose(analyst, case, host="newhost.example/v/")
    emergency = {**ORDER, "emergency": True, "emergency_reason": "Live-streamed attack under way."}
    r = api(supervisor).post(f"/api/v1/items/{item.pk}/approve/", {"instrument": "removal_order",
                                                                   "order": emergency}, format="json")
    assert r.status_code == 200, r.content
    order = RemovalOrder.objects.get(referrals__item=item)
    assert order.emergency and order.emergency_reason == "Live-streamed attack under way."


def test_bulk_orders_refuse_per_item_the_platform_never_informed(analyst, supervisor, case, platform_a, new_platform):
    informed = propose(analyst, case, 70)
    uninformed = propose(analyst, case, 71, host="newhost.example/v/")
    result = approval.item_approve_many(actor=supervisor, item_ids=[informed.pk, uninformed.pk],
                                        instrument="removal_order", order=ORDER)
    assert result["approved"] == [informed.pk]
    assert result["errors"][0]["item"] == uninformed.pk and result["errors"][0]["status_code"] == 409


def test_only_supervisors_send_the_procedure_information(api, analyst, liaison_a, new_platform):
    from referral.actions import withdrawal

    for user in (analyst, liaison_a):
        assert api(user).post(f"/api/v1/platforms/{new_platform.pk}/pre-information/").status_code == 403
    with pytest.raises(NotPermitted):
        withdrawal.platform_pre_inform(actor=analyst, platform_id=new_platform.pk)


# --- the order as a document, and with its delivery --------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_order_is_an_annex_i_pdf_for_its_platform_only(api, browser, order_referral, liaison_a, liaison_b,
                                                           supervisor):
    order = order_referral.order
    r = api(liaison_a).get(f"/api/v1/referrals/{order_referral.pk}/order/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = _pdf_text(r.content)
    assert order.reference in text and order.urls[0] in text.replace("\n", "")
    assert "within one hour of receipt" in text and "Statement of reasons" in text
    french = _pdf_text(api(supervisor).get(f"/api/v1/referrals/{order_referral.pk}/order/?language=fr").content)
    assert "Injonction de retrait" in french
    other = api(liaison_b).get(f"/api/v1/referrals/{order_referral.pk}/order/")
    assert other.status_code == 404 and other.json() == {"detail": "Not found.", "errors": {}}
    page = browser(liaison_a).get(f"/referrals/{order_referral.pk}/order/").content.decode()
    assert "Section B" in page and order.reference in page
    assert browser(liaison_b).get(f"/referrals/{order_referral.pk}/order/").status_code == 404


def test_a_referral_has_no_order_document(api, approved_referral, liaison_a):
    assert api(liaison_a).get(f"/api/v1/referrals/{approved_referral.pk}/order/").status_code == 404


def test_the_webhook_carries_the_order_and_the_email_its_pdf(analyst, supervisor, case, settings):
    import json

    from devtools.smtp_sink import SmtpSink
    from referral.outbox import dispatcher
    from tests.conftest import INFORMED
    from tests.receiver import Receiver

    settings.SITE_URL = "https://desk.iru.example"
    with Receiver() as receiver, SmtpSink() as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        platform_services.platform_create(
            actor=None, slug="both", name="Both", domains=["both.example"], legal={**INFORMED, "languages": ["fr"]},
            contact_points=[{"channel": "webhook", "endpoint": receiver.url + "/hook",
                             "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="},
                            {"channel": "email", "endpoint": "tco@both.example"}])
        item = propose(analyst, case, host="both.example/v/")
        referral = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                         order=ORDER).referrals.get()
        assert dispatcher.dispatch_due() == {"sent": 2}
        [entry] = json.loads(receiver.requests[0].body)["referrals"]
        assert entry["order"]["reference"] == referral.order.reference
        assert entry["order"]["statement_of_reasons"] == ORDER["statement_of_reasons"]
        assert entry["order_url"] == f"https://desk.iru.example/api/v1/referrals/{referral.pk}/order/"
        [mail] = sink.messages
        pdfs = [part for part in mail.message.iter_attachments() if part.get_content_type() == "application/pdf"]
        assert [p.get_filename() for p in pdfs] == [f"{referral.order.reference}.pdf"]
        text = _pdf_text(pdfs[0].get_content())
        assert "Injonction de retrait" in text and referral.order.reference in text


# --- the Art 8 report -----------------------------------------------------------------------------------------


def test_the_art_8_report_counts_what_sql_counts(api, browser, analyst, supervisor, case, platform_a, liaison_a):
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    ids = [propose(analyst, case, 100 + n).pk for n in range(6)]
    referrals = [approval.item_approve(actor=supervisor, item_id=pk, instrument="removal_order",
                                       order=ORDER).referrals.get().pk for pk in ids]  # six orders of one URL
    Referral.objects.filter(pk__in=referrals).update(sent_at=now - timedelta(hours=2), due_at=now - timedelta(hours=1))
    client = api(liaison_a)
    # fast (20 min), slow (2 h), declined, cannot execute, and two awaiting
    client.post("/api/v1/referrals/status/", [
        {"id": referrals[0], "status": "removed", "action_taken_at": (now - timedelta(minutes=100)).isoformat()},
        {"id": referrals[1], "status": "restricted", "action_taken_at": now.isoformat()},
        {"id": referrals[2], "status": "declined"},
        {"id": referrals[3], "status": "cannot_execute", "reason": "manifest_error"}], format="json")
    today = timezone.localdate().isoformat()
    report = api(supervisor).get("/api/v1/reports/tco/", {"from": today, "to": today}).json()
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*),
                   count(*) FILTER (WHERE r.status IN ('removed', 'restricted')),
                   count(*) FILTER (WHERE r.status IN ('removed', 'restricted') AND r.action_taken_at <= r.due_at),
                   count(*) FILTER (WHERE r.status = 'declined'),
                   count(*) FILTER (WHERE o.cannot_execute_reason = 'manifest_error')
            FROM referral_removalorder o JOIN referral_referral r ON r.order_id = o.id""")
        issued, executed, within, declined, manifest = cursor.fetchone()
    assert (report["issued"], report["executed"], report["executed_within_hour"], report["declined"]) == (
        issued, executed, within, declined) == (6, 2, 1, 1)
    assert report["not_executed"]["manifest_error"] == manifest == 1 and report["awaiting"] == 2
    buckets = {b["bucket"]: b["orders"] for b in report["time_from_receipt_to_action"]}
    assert buckets["≤ 30 min"] == 1 and buckets["≤ 3 h"] == 1 and sum(buckets.values()) == 2
    assert (report["complaints"], report["reinstatements"], report["scrutiny_requests"]) == (0, 0, 0)
    page = browser(supervisor).get(f"/orders/report/?from={today}&to={today}")
    assert page.status_code == 200 and "within one hour of receipt" in page.content.decode()
    csv_text = browser(supervisor).get(f"/orders/report/?from={today}&to={today}&download=csv").content.decode()
    assert csv_text.splitlines()[0] == "measure,value" and "Orders issued,6" in csv_text
    assert api(supervisor).get("/api/v1/reports/tco/", {"from": "soon", "to": today}).status_code == 400
    assert api(liaison_a).get("/api/v1/reports/tco/", {"from": today, "to": today}).status_code == 403
    assert browser(liaison_a).get("/orders/report/").status_code == 403
    assert browser(supervisor).get("/orders/report/?from=x&to=y").status_code == 400


# --- the cross-border copy and the host State's scrutiny (Art 4) -----------------------------------------------


@pytest.fixture
def irish_platform(db):
    from tests.conftest import INFORMED, make_platform

    return make_platform("irishhost", ["irishhost.example"], legal={**INFORMED, "main_establishment": "IE"})


def test_the_host_states_authority_gets_its_copy(analyst, supervisor, case, irish_platform, settings):
    from devtools.smtp_sink import SmtpSink
    from referral.models import Delivery
    from referral.outbox import dispatcher

    with SmtpSink() as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        platform_services.platform_create(
            actor=None, slug="ie-authority", name="An Garda Síochána (TCO)", domains=[], kind="authority",
            legal={"main_establishment": "IE", "languages": ["en"]},
            contact_points=[{"channel": "email", "endpoint": "tco@authority.example"}])
        item = propose(analyst, case, host="irishhost.example/v/")
        referral = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                         order=ORDER).referrals.get()
        copy = Delivery.objects.get(event="orders.copy")
        assert list(copy.referrals.all()) == [referral] and copy.contact_point.platform.slug == "ie-authority"
        Delivery.objects.filter(pk=copy.pk).update(next_attempt_at=referral.created_at)
        dispatcher.dispatch_due()
        [mail] = [m for m in sink.messages if m.rcpt_tos == ["tco@authority.example"]]
    assert "Copy of removal order" in " ".join(mail.message["Subject"].split())
    assert any(p.get_content_type() == "application/pdf" for p in mail.message.iter_attachments())
    order = RemovalOrder.objects.get(referrals=referral)
    assert order.copy_to_host_authority and order.copy_sent_at is not None
    # The platform's own message is still being retried (its endpoint answers nothing): the copy moved nothing.
    assert Referral.objects.get(pk=referral.pk).status == "queued"


def test_without_a_known_authority_the_order_goes_and_supervisors_are_told(analyst, supervisor, case, irish_platform):
    from alerts.models import Alert
    from referral.models import Delivery

    item = propose(analyst, case, host="irishhost.example/v/")
    referral = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                     order=ORDER).referrals.get()
    assert not Delivery.objects.filter(event="orders.copy").exists()
    assert Delivery.objects.filter(referrals=referral, event="referrals.created").exists()
    assert str(referral.pk) in Alert.objects.get(kind="order_copy_missing").message


def test_an_infringement_finding_makes_the_order_lapse(api, analyst, supervisor, case, order_referral, liaison_a):
    from referral.models import Delivery

    client = api(supervisor)
    r = client.post(f"/api/v1/referrals/{order_referral.pk}/scrutiny/", {"decision": "infringement",
                                                                        "note": "Satire, Art 1(3)"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "withdrawn" and r.json()["order"]["scrutiny_decision"] == "infringement"
    told = Delivery.objects.get(event="referrals.withdrawn")
    assert "lapsed" in told.message and "reinstate" in told.message
    again = client.post(f"/api/v1/referrals/{order_referral.pk}/scrutiny/", {"decision": "no_infringement"},
                        format="json")
    assert again.status_code == 409
    assert api(liaison_a).post(f"/api/v1/referrals/{order_referral.pk}/scrutiny/", {"decision": "infringement"},
                               format="json").status_code == 403
    assert client.post(f"/api/v1/referrals/{order_referral.pk}/scrutiny/", {"decision": "maybe"},
                       format="json").status_code == 400


def test_no_infringement_is_recorded_and_changes_nothing_else(api, supervisor, order_referral):
    r = api(supervisor).post(f"/api/v1/referrals/{order_referral.pk}/scrutiny/", {"decision": "no_infringement"},
                             format="json")
    assert r.status_code == 200 and r.json()["status"] == "queued"
    assert r.json()["order"]["scrutiny_decision"] == "no_infringement"
