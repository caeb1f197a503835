"""Every action function checks its actor's role itself: a view or permission that forgot would not open a door.

Each action is called, with real rows to act on, by every role that must not use it (and by no one at all); each
call is refused with NotPermitted (a liaison's referral answer: NotFound, the API's 404 for what is not theirs),
and nothing is written.
"""

import inspect
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import services as account_services
from accounts import two_factor
from alerts import actions as alert_actions
from alerts.models import Alert
from audit.models import AuditEvent
from cases.actions import assessment as assessment_actions
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from core.errors import NotFound, NotPermitted
from core.roles import (
    ADMINS,
    ALERT_HANDLERS,
    DECIDERS,
    LIAISONS,
    LOGGERS,
    MANUAL_SUBMITTERS,
    PROPOSERS,
    SUPERVISORS,
    TRIAGERS,
    UNIT_STAFF,
    Role,
)
from evidence import actions as evidence_actions
from intake import actions as intake_actions
from liveness import actions as liveness_actions
from platforms import services as platform_services
from referral.actions import approval, order_reports, outcomes, review_jobs, withdrawal
from referral.outbox import actions as outbox_actions
from tests.conftest import make_user

ALL_ROLES = [Role.ANALYST, Role.SUPERVISOR, Role.LIAISON, Role.ADMIN]


def _png() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buf, "PNG")
    return SimpleUploadedFile("shot.png", buf.getvalue(), content_type="image/png")


# name → (the roles allowed, a call given (actor, world))
ACTIONS = {
    "case_create": (LOGGERS, lambda a, w: case_actions.case_create(actor=a, title="T")),
    "case_close": (SUPERVISORS, lambda a, w: case_actions.case_close(actor=a, case_id=w["case"].pk)),
    "case_reopen": (SUPERVISORS, lambda a, w: case_actions.case_reopen(actor=a, case_id=w["case"].pk)),
    "case_assign": (TRIAGERS, lambda a, w: case_actions.case_assign(actor=a, case_id=w["case"].pk, assignee_id=None)),
    "item_log": (LOGGERS, lambda a, w: item_actions.item_log(actor=a, case=w["case"], url="https://tube.example/x",
                                                             kind="post", categories=["threat"])),
    "item_propose": (PROPOSERS, lambda a, w: item_actions.item_propose(actor=a, item_id=w["logged"].pk)),
    "item_propose_many": (PROPOSERS, lambda a, w: item_actions.item_propose_many(actor=a, item_ids=[w["logged"].pk])),
    "item_discard": (TRIAGERS, lambda a, w: item_actions.item_discard(actor=a, item_id=w["logged"].pk, reason="r")),
    "item_discard_many": (TRIAGERS, lambda a, w: item_actions.item_discard_many(actor=a, item_ids=[w["logged"].pk],
                                                                                reason="r")),
    "item_hold": (TRIAGERS, lambda a, w: item_actions.item_hold(actor=a, item_id=w["logged"].pk, reason="r",
                                                                requested_by="CT unit")),
    "item_hold_many": (TRIAGERS, lambda a, w: item_actions.item_hold_many(actor=a, item_ids=[w["logged"].pk],
                                                                          reason="r", requested_by="CT unit")),
    "item_release": (TRIAGERS, lambda a, w: item_actions.item_release(actor=a, item_id=w["held"].pk)),
    "item_move": (TRIAGERS, lambda a, w: item_actions.item_move(actor=a, item_ids=[w["logged"].pk],
                                                                case_id=w["other_case"].pk)),
    "item_assess": (TRIAGERS, lambda a, w: assessment_actions.item_assess(actor=a, item_id=w["logged"].pk,
                                                                          categories=["threat"], severity=3)),
    "item_assess_fields": (TRIAGERS, lambda a, w: assessment_actions.item_assess_fields(
        actor=a, item_id=w["logged"].pk, changes={"severity": 4})),
    "item_assign": (TRIAGERS, lambda a, w: assessment_actions.item_assign(actor=a, item_ids=[w["logged"].pk],
                                                                          assignee_id=None)),
    "items_approve_locked": (DECIDERS, lambda a, w: item_actions.items_approve_locked([w["proposed"]], actor=a,
                                                                                     now=timezone.now())),
    "item_decide": (DECIDERS, lambda a, w: item_actions.item_decide(actor=a, item_id=w["proposed"].pk,
                                                                     target="rejected", reason="r",
                                                                     verb="item.rejected")),
    "items_decide_many": (DECIDERS, lambda a, w: item_actions.items_decide_many(
        actor=a, item_ids=[w["proposed"].pk], target="returned", reason="r", verb="item.returned")),
    "items_return_many": (DECIDERS, lambda a, w: approval.items_return_many(actor=a, item_ids=[w["proposed"].pk],
                                                                             reason="r")),
    "items_reject_many": (DECIDERS, lambda a, w: approval.items_reject_many(actor=a, item_ids=[w["proposed"].pk],
                                                                             reason="r")),
    "item_approve": (DECIDERS, lambda a, w: approval.item_approve(actor=a, item_id=w["proposed"].pk)),
    "item_approve_many": (DECIDERS, lambda a, w: approval.item_approve_many(actor=a, item_ids=[w["proposed"].pk])),
    "item_reject": (DECIDERS, lambda a, w: approval.item_reject(actor=a, item_id=w["proposed"].pk, reason="r")),
    "item_return": (DECIDERS, lambda a, w: approval.item_return(actor=a, item_id=w["proposed"].pk, reason="r")),
    "referral_record_status": (LIAISONS, lambda a, w: outcomes.referral_record_status(
        actor=a, referral_id=w["referral"].pk, status="acknowledged")),
    "referrals_record_status_many": (LIAISONS, lambda a, w: outcomes.referrals_record_status_many(
        actor=a, rows=[{"id": w["referral"].pk, "status": "acknowledged"}])),
    "referral_withdraw": (DECIDERS, lambda a, w: withdrawal.referral_withdraw(actor=a, referral_id=w["referral"].pk,
                                                                             reason="r")),
    "referrals_withdraw_many": (DECIDERS, lambda a, w: withdrawal.referrals_withdraw_many(
        actor=a, referral_ids=[w["referral"].pk], reason="r")),
    "platform_pre_inform": (DECIDERS, lambda a, w: withdrawal.platform_pre_inform(
        actor=a, platform_id=w["contact_point"].platform_id)),
    "order_scrutiny_record": (DECIDERS, lambda a, w: withdrawal.order_scrutiny_record(
        actor=a, referral_id=w["referral"].pk, decision="no_infringement")),
    "order_report_record": (LIAISONS, lambda a, w: order_reports.order_report_record(
        actor=a, referral_id=w["referral"].pk, kind="preserved")),
    "referral_clarify": (TRIAGERS, lambda a, w: withdrawal.referral_clarify(actor=a, referral_id=w["referral"].pk,
                                                                           message="m")),
    "referral_remind": (DECIDERS, lambda a, w: liveness_actions.referral_remind(actor=a, referral_id=w["referral"].pk)),
    "delivery_complete_manual": (MANUAL_SUBMITTERS, lambda a, w: outbox_actions.delivery_complete_manual(
        actor=a, delivery_id=w["delivery"].pk, ticket="T-1")),
    "delivery_redrive": (SUPERVISORS, lambda a, w: outbox_actions.delivery_redrive(actor=a,
                                                                                  delivery_id=w["delivery"].pk)),
    "alert_resolve": (ALERT_HANDLERS, lambda a, w: alert_actions.alert_resolve(actor=a, alert_id=w["alert"].pk)),
    "review_job_create": (DECIDERS, lambda a, w: review_jobs.review_job_create(
        actor=a, decision="reject", filters={}, reason="r", queue=False)),
    "create_import": (LOGGERS, lambda a, w: intake_actions.create_import(
        actor=a, case=w["case"], fileobj=intake_actions.paste_as_csv("https://tube.example/y", "post"),
        queue=False)),
    "evidence_add": (LOGGERS, lambda a, w: evidence_actions.evidence_add(actor=a, item_id=w["logged"].pk,
                                                                         upload=_png())),
    "record_view": (UNIT_STAFF, lambda a, w: evidence_actions.record_view(actor=a, evidence=w["evidence"],
                                                                          disposition="inline")),
    "platform_create": (ADMINS, lambda a, w: platform_services.platform_create(
        actor=a, slug="new", name="New", domains=["new.example"], contact_points=[])),
    "contact_point_rotate_secret": (ADMINS, lambda a, w: platform_services.contact_point_rotate_secret(
        actor=a, contact_point_id=w["contact_point"].pk, secret="whsec_" + "A" * 44)),
    "platform_legal_set": (ADMINS, lambda a, w: platform_services.platform_legal_set(
        actor=a, platform_id=w["contact_point"].platform_id, legal={"languages": ["en"]})),
    "contact_point_enable": (ADMINS, lambda a, w: platform_services.contact_point_enable(
        actor=a, contact_point_id=w["contact_point"].pk)),
    "user_create": (ADMINS, lambda a, w: account_services.user_create(actor=a, username="newbie", role="analyst")),
    "api_key_issue": (ADMINS, lambda a, w: account_services.api_key_issue(actor=a, user=w["analyst"])),
    "api_key_revoke": (ADMINS, lambda a, w: account_services.api_key_revoke(actor=a, prefix=w["key_prefix"])),
    # Everyone may enrol their own authenticator; nobody (no actor) may.
    "totp_enrolment": (frozenset(ALL_ROLES), lambda a, w: two_factor.totp_enrolment(actor=a)),
    "totp_enrol_confirm": (frozenset(ALL_ROLES), lambda a, w: two_factor.totp_enrol_confirm(actor=a, token="1")),
    "two_factor_reset": (ADMINS, lambda a, w: two_factor.two_factor_reset(actor=a, user_id=w["supervisor"].pk)),
    "two_factor_remove_own": (two_factor.OPTIONAL_ROLES, lambda a, w: two_factor.two_factor_remove_own(actor=a)),
}

# No actor is the operator on the server (a management command): the administrative services allow it by design.
RUN_FROM_THE_COMMAND_LINE = {"platform_create", "platform_legal_set", "contact_point_rotate_secret",
                             "contact_point_enable", "user_create",
                             "api_key_issue", "api_key_revoke", "two_factor_reset"}
FORBIDDEN = [(name, role) for name, (allowed, _) in ACTIONS.items() for role in ALL_ROLES + [None]
             if role not in allowed and not (role is None and name in RUN_FROM_THE_COMMAND_LINE)]


@pytest.fixture
def world(db, analyst, supervisor, case, platform_a, liaison_a, approved_referral):
    other_case = case_actions.case_create(actor=analyst, title="Other")
    logged = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=l", kind="post",
                                   categories=["threat"])
    held = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=h", kind="post",
                                 categories=["threat"])
    item_actions.item_hold(actor=analyst, item_id=held.pk, reason="deconfliction", requested_by="CT unit")
    proposed = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=p", kind="post",
                                     categories=["threat"])
    item_actions.item_propose(actor=analyst, item_id=proposed.pk)
    evidence = evidence_actions.evidence_add(actor=analyst, item_id=logged.pk, upload=_png()).evidence
    _, key = account_services.api_key_issue(actor=None, user=analyst)
    return {
        "case": case, "other_case": other_case, "logged": logged, "held": held, "proposed": proposed,
        "referral": approved_referral, "delivery": approved_referral.deliveries.get(),
        "alert": Alert.objects.create(kind="test", message="look"), "evidence": evidence,
        "contact_point": platform_a.contact_points.get(), "analyst": analyst, "key_prefix": key.split(".")[0],
        "liaison": liaison_a, "supervisor": supervisor,
    }


def test_every_action_function_is_in_the_table():
    """A new action must be added to ACTIONS (and so be tested here) to pass."""
    modules = [case_actions, item_actions, assessment_actions, approval, outcomes, withdrawal, order_reports,
               outbox_actions, alert_actions, liveness_actions,
               intake_actions, review_jobs, evidence_actions, platform_services, account_services, two_factor]
    with_actor = {name for m in modules for name, fn in vars(m).items()
                  if callable(fn) and not name.startswith("_") and getattr(fn, "__module__", "") == m.__name__
                  and "actor" in getattr(inspect.unwrap(fn), "__code__", type("", (), {"co_varnames": ()})).co_varnames}
    assert with_actor == set(ACTIONS)


@pytest.mark.parametrize("name, role", FORBIDDEN, ids=[f"{n}-{r or 'nobody'}" for n, r in FORBIDDEN])
def test_action_refuses_a_role_that_must_not_use_it(world, name, role):
    _, call = ACTIONS[name]
    if role is None:
        actor = None
    elif role == Role.LIAISON:
        actor = world["liaison"]
    else:
        actor = make_user(f"other_{role}", role)
    before = AuditEvent.objects.count()
    answers = {"referral_record_status", "referrals_record_status_many"}
    expected = (NotPermitted, NotFound) if name in answers else (NotPermitted,)
    with pytest.raises(expected):
        call(actor, world)
    assert AuditEvent.objects.count() == before
