"""The triage verbs: assess, assign, discard, hold/release, move, close/reopen, and their bulk forms."""

import pytest

from alerts.models import Alert
from audit.models import AuditEvent
from cases.actions import assessment as assessment_actions
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Case, Item
from core.errors import InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from referral.actions import approval


def events(item, verb):
    return list(AuditEvent.objects.filter(object_type="item", object_id=str(item.pk), verb=verb))


# --- Priority -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("severity, confidence, ttl, expected", [
    (None, None, False, 0), (0, 3, False, 0), (7, 3, False, 9), (7, 0, False, 4), (7, 1, False, 6),
    (4, 2, False, 5), (1, 0, False, 1), (3, 1, False, 3), (0, 0, True, 10), (None, None, True, 10),
])
def test_priority_formula(severity, confidence, ttl, expected):
    assert assessment_actions.item_priority(severity=severity, confidence=confidence, threat_to_life=ttl) == expected


def test_priority_only_reaches_ten_with_a_threat_to_life():
    values = {assessment_actions.item_priority(severity=s, confidence=c, threat_to_life=False)
              for s in range(8) for c in range(4)}
    assert max(values) == 9 and min(values) == 0


# --- Assess ---------------------------------------------------------------------------------------------


def test_analyst_assesses_an_item_and_its_priority_follows(analyst, log, groups):
    item = log()
    amaq = groups["Amaq News Agency"]
    item = assessment_actions.item_assess(actor=analyst, item_id=item.pk, categories=["threat", "incitement"],
                                group_id=amaq.pk, language="ar", severity=6, confidence=2, threat_to_life=False)
    item.refresh_from_db()
    assert (item.categories, item.group, item.language, item.severity, item.confidence, item.priority) == (
        ["incitement", "threat"], amaq, "ar", 6, 2, 7)
    [event] = events(item, "item.assessed")
    assert event.before["severity"] is None and event.before["priority"] == 0
    assert event.after["severity"] == 6 and event.after["priority"] == 7 and event.after["group"] == amaq.pk
    assert event.actor == analyst


def test_threat_to_life_puts_the_item_on_top_and_alerts_supervisors_once(analyst, log):
    item = log()
    assessment_actions.item_assess(actor=analyst, item_id=item.pk, severity=2, confidence=1, threat_to_life=True)
    item.refresh_from_db()
    assert item.priority == 10 and item.threat_to_life
    [alert] = Alert.objects.filter(kind="threat_to_life")
    assert f"item {item.pk}" in alert.message and alert.resolved_at is None
    assert events(item, "item.assessed")[0].after["alert"] == alert.pk
    # Re-assessing with the flag still up does not alert again.
    assessment_actions.item_assess(actor=analyst, item_id=item.pk, severity=5, confidence=1, threat_to_life=True)
    assert Alert.objects.filter(kind="threat_to_life").count() == 1


def test_bad_assessment_changes_nothing(analyst, log):
    item = log()
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        assessment_actions.item_assess(actor=analyst, item_id=item.pk, categories=["gossip"], severity=8, confidence=-1,
                             group_id=999999, language="x" * 17)
    assert set(exc.value.field_errors) == {"categories", "severity", "confidence", "group", "language"}
    item.refresh_from_db()
    assert item.severity is None and AuditEvent.objects.count() == before


def test_final_items_cannot_be_reassessed(analyst, log):
    item = log()
    item_actions.item_discard(actor=analyst, item_id=item.pk, reason="Satire, not terrorist content")
    with pytest.raises(TransitionNotAllowed, match="'discarded'"):
        assessment_actions.item_assess(actor=analyst, item_id=item.pk, severity=3)


def test_liaison_cannot_assess(liaison_a, log):
    item = log()
    with pytest.raises(NotPermitted):
        assessment_actions.item_assess(actor=liaison_a, item_id=item.pk, severity=3)


# --- Assign ---------------------------------------------------------------------------------------------


def test_assign_many_writes_one_event_per_changed_item(analyst, analyst_2, log):
    a, b = log(), log()
    assessment_actions.item_assign(actor=analyst, item_ids=[a.pk], assignee_id=analyst_2.pk)
    result = assessment_actions.item_assign(actor=analyst, item_ids=[a.pk, b.pk, 987654], assignee_id=analyst_2.pk)
    assert result["done"] == [a.pk, b.pk]
    assert result["errors"] == [{"item": 987654, "detail": "Item 987654 does not exist.", "status_code": 404}]
    assert len(events(a, "item.assigned")) == 1 and len(events(b, "item.assigned")) == 1
    assert set(Item.objects.values_list("assignee", flat=True)) == {analyst_2.pk}
    assessment_actions.item_assign(actor=analyst, item_ids=[a.pk], assignee_id=None)
    a.refresh_from_db()
    assert a.assignee is None and events(a, "item.assigned")[-1].after == {"assignee": None}


def test_items_are_assigned_to_analysts_and_supervisors_only(analyst, liaison_a, log):
    item = log()
    with pytest.raises(InvalidInput):
        assessment_actions.item_assign(actor=analyst, item_ids=[item.pk], assignee_id=liaison_a.pk)


# --- Discard --------------------------------------------------------------------------------------------


def test_discard_needs_a_reason(analyst, log):
    item = log()
    with pytest.raises(InvalidInput):
        item_actions.item_discard(actor=analyst, item_id=item.pk, reason="   ")
    item_actions.item_discard(actor=analyst, item_id=item.pk, reason="Already offline")
    item.refresh_from_db()
    assert item.status == "discarded" and item.decision_reason == "Already offline"
    assert events(item, "item.discarded")[0].before == {"status": "logged"}


def test_proposed_item_cannot_be_discarded(analyst, proposed_item):
    with pytest.raises(TransitionNotAllowed, match="'proposed'"):
        item_actions.item_discard(actor=analyst, item_id=proposed_item.pk, reason="changed my mind")


# --- Hold and release -----------------------------------------------------------------------------------


def test_hold_needs_reason_and_requesting_party(analyst, log):
    item = log()
    with pytest.raises(InvalidInput):
        item_actions.item_hold(actor=analyst, item_id=item.pk, reason="", requested_by="CT unit")
    with pytest.raises(InvalidInput):
        item_actions.item_hold(actor=analyst, item_id=item.pk, reason="Live investigation", requested_by=" ")
    assert Item.objects.get(pk=item.pk).status == "logged"


def test_held_item_cannot_be_proposed_and_release_returns_it(analyst, log):
    item = log()
    item_actions.item_hold(actor=analyst, item_id=item.pk, reason="Live investigation", requested_by="Op Juniper")
    item.refresh_from_db()
    assert (item.status, item.held_from_status, item.hold_requested_by) == ("on_hold", "logged", "Op Juniper")
    with pytest.raises(TransitionNotAllowed, match="'on_hold'"):
        item_actions.item_propose(actor=analyst, item_id=item.pk)
    item_actions.item_release(actor=analyst, item_id=item.pk)
    item.refresh_from_db()
    assert (item.status, item.hold_reason, item.held_from_status) == ("logged", "", "")
    held, released = events(item, "item.held")[0], events(item, "item.released")[0]
    assert held.after["requested_by"] == "Op Juniper"
    assert released.before["reason"] == "Live investigation" and released.after == {"status": "logged"}


def test_proposed_item_held_goes_back_to_proposed(analyst, supervisor, proposed_item):
    item_actions.item_hold(actor=supervisor, item_id=proposed_item.pk, reason="Deconfliction", requested_by="NCA")
    with pytest.raises(TransitionNotAllowed, match="'on_hold'"):
        approval.item_approve(actor=supervisor, item_id=proposed_item.pk)
    item = item_actions.item_release(actor=supervisor, item_id=proposed_item.pk)
    assert item.status == "proposed"


def test_release_of_an_item_not_on_hold_is_refused(analyst, log):
    item = log()
    with pytest.raises(TransitionNotAllowed, match="'logged'"):
        item_actions.item_release(actor=analyst, item_id=item.pk)


def test_final_item_cannot_be_held(analyst, log):
    item = log()
    item_actions.item_discard(actor=analyst, item_id=item.pk, reason="dup")
    with pytest.raises(TransitionNotAllowed, match="'discarded'"):
        item_actions.item_hold(actor=analyst, item_id=item.pk, reason="r", requested_by="x")


# --- Move -----------------------------------------------------------------------------------------------


def test_move_items_to_another_open_case(analyst, log, case):
    other = case_actions.case_create(actor=analyst, title="Op Birch")
    a, b = log(), log()
    result = item_actions.item_move(actor=analyst, item_ids=[a.pk, b.pk], case_id=other.pk)
    assert result == {"done": [a.pk, b.pk], "errors": []}
    assert set(Item.objects.values_list("case", flat=True)) == {other.pk}
    assert events(a, "item.moved")[0].before == {"case": case.pk}
    again = item_actions.item_move(actor=analyst, item_ids=[a.pk], case_id=other.pk)
    assert again["done"] == [] and "already" in again["errors"][0]["detail"]


def test_move_to_a_closed_case_is_refused(analyst, supervisor, log):
    other = case_actions.case_create(actor=analyst, title="Done")
    case_actions.case_close(actor=supervisor, case_id=other.pk)
    item = log()
    with pytest.raises(TransitionNotAllowed, match="'closed'"):
        item_actions.item_move(actor=analyst, item_ids=[item.pk], case_id=other.pk)
    with pytest.raises(NotFound):
        item_actions.item_move(actor=analyst, item_ids=[item.pk], case_id=987654)
    item.refresh_from_db()
    assert item.case_id != other.pk


# --- Cases ----------------------------------------------------------------------------------------------


def test_supervisor_closes_and_reopens_a_case(supervisor, analyst, case):
    case_actions.case_close(actor=supervisor, case_id=case.pk)
    assert Case.objects.get(pk=case.pk).status == "closed"
    with pytest.raises(TransitionNotAllowed, match="'closed'"):
        case_actions.case_close(actor=supervisor, case_id=case.pk)
    with pytest.raises(NotPermitted):
        case_actions.case_reopen(actor=analyst, case_id=case.pk)
    case_actions.case_reopen(actor=supervisor, case_id=case.pk)
    verbs = list(AuditEvent.objects.filter(object_type="case", object_id=str(case.pk)).values_list("verb", flat=True))
    assert verbs == ["case.created", "case.closed", "case.reopened"]


# --- Bulk -----------------------------------------------------------------------------------------------


def test_bulk_propose_reports_refusals_and_does_the_rest(analyst, log):
    a, b, c = log(), log(), log()
    item_actions.item_discard(actor=analyst, item_id=b.pk, reason="Not TCO")
    result = item_actions.item_propose_many(actor=analyst, item_ids=[c.pk, a.pk, b.pk, 987654])
    assert result["done"] == [a.pk, c.pk]
    assert [(e["item"], e["status_code"]) for e in result["errors"]] == [(b.pk, 409), (987654, 404)]
    assert "'discarded'" in result["errors"][0]["detail"]
    assert set(Item.objects.filter(pk__in=[a.pk, c.pk]).values_list("status", flat=True)) == {"proposed"}


def test_bulk_hold_and_discard(analyst, log):
    a, b = log(), log()
    with pytest.raises(InvalidInput):
        item_actions.item_discard_many(actor=analyst, item_ids=[a.pk], reason="")
    held = item_actions.item_hold_many(actor=analyst, item_ids=[a.pk], reason="Investigation", requested_by="Op X")
    assert held["done"] == [a.pk]
    result = item_actions.item_discard_many(actor=analyst, item_ids=[a.pk, b.pk], reason="Out of scope")
    assert result["done"] == [b.pk] and result["errors"][0]["item"] == a.pk
    assert Item.objects.get(pk=a.pk).status == "on_hold"
