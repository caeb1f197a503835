"""A unit's fortnight, built through the workflow: items logged, assessed and proposed by the analyst, approved by
the supervisor (referral or removal order), sent (the outbox's own "accepted" move), answered by the platforms'
liaisons after varied delays, some withdrawn, one delivery stopped (a dead letter). The clock is moved by patching
django.utils.timezone.now, which the actions and auto_now fields read."""

import inspect
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command

from cases.actions import assessment
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Group
from referral.actions import approval, outcomes, withdrawal
from referral.models import Delivery, DeliveryStatus, Instrument
from referral.outbox import actions as outbox_actions
from tests.conftest import make_user

CATEGORY_CYCLE = (["incitement"], ["threat", "incitement"], ["instruction"], ["participation"], ["solicitation"])
# (minutes from sending to acknowledgement, minutes to the outcome, outcome) per item of a day, in turn.
ANSWERS = ((3, 40, "removed"), (50, 200, "declined"), (2, 30, "removed"), (None, None, None),
           (700, 3000, "restricted"), (20, 55, "removed"), (90, 6000, "removed"), (5, None, None))


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def at(self, moment: datetime):
        self.now = moment
        return self


@pytest.fixture
def clock():
    c = Clock()
    with mock.patch("django.utils.timezone.now", side_effect=lambda: c.now):
        yield c


def _approve(actor, item_id: int, instrument: str):
    """Approve; a removal order with its Annex I details where the desk asks for them (emergency: no 12 hours'
    wait for a platform's first order)."""
    kwargs = {}
    if instrument == Instrument.REMOVAL_ORDER and "order" in inspect.signature(approval.item_approve).parameters:
        kwargs["order"] = {"statement_of_reasons": "Incites terrorist offences (Art 2(7)(a)).", "emergency": True,
                           "emergency_reason": "Imminent attack announced."}
    return approval.item_approve(actor=actor, item_id=item_id, instrument=instrument, **kwargs).referrals.get()


def _send(referral):
    """What the dispatcher records when the platform accepts the message (its delivery's first attempt)."""
    delivery = Delivery.objects.get(referrals=referral)
    outbox_actions.deliveries_mark_sent([(delivery.pk, delivery.attempts, "")], attempt_records=[],
                                        from_status=DeliveryStatus.PENDING)
    return delivery


@pytest.fixture
def seeded(db, clock, settings, analyst, supervisor, platform_a, platform_b, liaison_a, liaison_b):
    """Eight days × eight items over two platforms, two cases, three groups and none; returns what it made."""
    settings.UNIT_AUTHORITY_NAME, settings.UNIT_AUTHORITY_TYPE = "Test IRU", "Law enforcement authority"
    settings.UNIT_MEMBER_STATE, settings.UNIT_CONTACT_EMAIL = "NL", "iru@example.org"
    return seed_fortnight(clock, analyst=analyst, supervisor=supervisor, liaison_a=liaison_a, liaison_b=liaison_b,
                          platform_a=platform_a, platform_b=platform_b)


def seed_fortnight(clock, *, analyst, supervisor, liaison_a, liaison_b, platform_a, platform_b) -> dict:
    """The seeded fortnight on `clock` (a Clock whose time django.utils.timezone.now returns)."""
    call_command("seed_groups", verbosity=0)
    groups = list(Group.objects.order_by("name")[:3]) + [None]
    start = clock.now
    case_1 = case_actions.case_create(actor=analyst, title="Action day", description="")
    case_2 = case_actions.case_create(actor=analyst, title="Group output", description="")
    liaisons = {platform_a.pk: liaison_a, platform_b.pk: liaison_b}
    made = []
    for day in range(8):
        for n, (ack, outcome_after, outcome) in enumerate(ANSWERS):
            morning = start + timedelta(days=day, minutes=n)
            clock.at(morning)
            host = "tube.example/watch?v=" if n % 2 == 0 else "chirp.example/u/x/status/"
            item = item_actions.item_log(actor=analyst, case=case_1 if n % 3 else case_2,
                                         url=f"https://{host}{day}{n}", kind="post",
                                         categories=CATEGORY_CYCLE[(day + n) % 5])
            group = groups[(day + n) % 4]
            assessment.item_assess(actor=analyst, item_id=item.pk, categories=CATEGORY_CYCLE[(day + n) % 5],
                                   group_id=group.pk if group else None, severity=3, confidence=2)
            item_actions.item_propose(actor=analyst, item_id=item.pk)
            instrument = Instrument.REMOVAL_ORDER if n in (2, 5) else Instrument.REFERRAL
            referral = _approve(supervisor, item.pk, instrument)
            made.append(referral)
            if day == 7 and n == 3:
                continue  # never sent: queued
            if day == 6 and n == 3:  # the platform refused the message: a dead letter, the referral failed
                delivery = Delivery.objects.get(referrals=referral)
                outbox_actions.delivery_record_failure(
                    delivery_id=delivery.pk, attempt_number=delivery.attempts, final_status=DeliveryStatus.STOPPED,
                    next_attempt_at=clock.now, status_code=400, error="Bad request")
                continue
            sent_at = clock.at(morning + timedelta(minutes=10)).now
            _send(referral)
            liaison = liaisons[referral.platform_id]
            if ack is not None:
                clock.at(sent_at + timedelta(minutes=ack + day))
                outcomes.referral_record_status(actor=liaison, referral_id=referral.pk, status="acknowledged")
            if outcome is not None:
                clock.at(sent_at + timedelta(minutes=outcome_after + day * 7))
                outcomes.referral_record_status(actor=liaison, referral_id=referral.pk, status=outcome,
                                                platform_reference=f"T-{referral.pk}")
            elif day % 3 == 0 and n == 7:
                clock.at(sent_at + timedelta(hours=2))
                withdrawal.referral_withdraw(actor=supervisor, referral_id=referral.pk, reason="Duplicate of a case.")
    # Items logged and never referred count as logged.
    clock.at(start + timedelta(days=3, hours=5))
    item_actions.item_log(actor=analyst, case=case_1, url="https://tube.example/watch?v=logged-only", kind="post",
                          categories=["threat"])
    clock.at(start + timedelta(days=20))  # after every answer above
    return {"start": start, "referrals": made, "cases": (case_1, case_2), "groups": groups}


@pytest.fixture
def liaison(liaison_a):
    return liaison_a


@pytest.fixture
def outsider(db, platform_a):
    return make_user("olga_outsider", "liaison", platform_a)
