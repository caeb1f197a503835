"""When checks happen: the schedule after receipt, the sweep that starts it (safe to run twice), its end; and the
verdict rules, judged alone."""

from datetime import UTC, datetime, timedelta

from liveness.models import LivenessCheck, LivenessRule, LivenessState, RuleKind
from liveness.schedule import next_slot, offset_seconds, schedule_received
from liveness.verdicts import decide, rule_problem
from referral.actions import withdrawal
from tests.liveness.conftest import check_at

SENT = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def test_the_schedule_runs_its_offsets_then_daily_for_thirty_days():
    assert [offset_seconds(n) for n in range(6)] == [900, 3600, 21600, 86400, 259200, 259200 + 86400]
    assert offset_seconds(4 + 30) == 259200 + 30 * 86400 and offset_seconds(4 + 31) is None
    assert next_slot(SENT, 0, SENT + timedelta(minutes=16)) == (1, SENT + timedelta(hours=1))
    # Slots missed while the desk was down are skipped, not run back to back.
    assert next_slot(SENT, 0, SENT + timedelta(hours=30)) == (4, SENT + timedelta(hours=72))
    assert next_slot(SENT, 34, SENT + timedelta(days=40)) is None


def test_the_sweep_schedules_each_received_referral_once(received, proxy):
    referral = received("https://tube.example/watch?v=20")
    assert schedule_received() == 0  # already done by the fixture's sweep: nothing twice
    check = LivenessCheck.objects.get(referral=referral)
    assert check.sequence == 0 and check.due_at == referral.sent_at + timedelta(seconds=900)
    assert LivenessState.objects.get(referral=referral).state == "pending"
    assert check_at(referral, minutes=14) == {}  # not due yet


def test_a_withdrawn_referral_is_not_checked_any_more(received, proxy, tls_pages, supervisor):
    tls_pages.page("/watch?v=21", (200, "<p>up</p>"))
    referral = received("https://tube.example/watch?v=21")
    withdrawal.referral_withdraw(actor=supervisor, referral_id=referral.pk, reason="sent by mistake")
    check_at(referral, minutes=15, seconds=1)
    assert LivenessState.objects.get(referral=referral).finished
    assert not LivenessCheck.objects.filter(referral=referral, finished_at__isnull=True).exists()


def test_a_removal_order_still_online_an_hour_after_receipt_is_flagged_a_referral_a_day():
    """The follow-up rule alone (a removal order's approval needs its order details, another story's fixtures)."""
    from liveness.recording import _apply, _Referral  # noqa: PLC2701

    def flagged_after(instrument: str, after: timedelta) -> bool:
        referral = _Referral(1, SENT, instrument, "sent", None, None, "https://tube.example/x")
        state = LivenessState(referral_id=1)
        _apply(state, referral, "online", SENT + after, 1, {"events": [], "reappeared": [], "next": []})
        return state.followup_flagged_at is not None

    assert not flagged_after("removal_order", timedelta(minutes=59))
    assert flagged_after("removal_order", timedelta(hours=1))
    assert not flagged_after("referral", timedelta(hours=23, minutes=59))
    assert flagged_after("referral", timedelta(hours=24))


def test_verdicts_follow_the_platforms_rules_then_the_defaults(db, platform_a):
    def rule(kind, value, verdict):
        return LivenessRule(pk=1, platform=platform_a, kind=kind, value=value, verdict=verdict)

    assert decide([], status_code=404, final_url="u", body=b"") == ("offline", "default: 404")
    assert decide([], status_code=410, final_url="u", body=b"") == ("offline", "default: 410")
    assert decide([], status_code=200, final_url="u", body=b"") == ("online", "default: 2xx")
    assert decide([], status_code=403, final_url="u", body=b"")[0] == "unknown"
    assert decide([], status_code=None, final_url="", body=b"", error="timeout: ReadTimeout")[0] == "unknown"
    # A 5xx is unknown even when a rule would call it offline.
    assert decide([rule(RuleKind.STATUS_CODE, "500,503", "offline")], status_code=503, final_url="u",
                  body=b"")[0] == "unknown"
    assert decide([rule(RuleKind.STATUS_CODE, "451", "offline")], status_code=451, final_url="u",
                  body=b"") == ("offline", "rule 1: status_code 451")
    assert decide([rule(RuleKind.BODY_MARKER, "This account doesn't exist", "offline")], status_code=200,
                  final_url="u", body="<p>Sorry, this account doesn\u2019t exist</p>".encode()) [0] == "online"
    assert decide([rule(RuleKind.BODY_MARKER, "account doesn't exist", "offline")], status_code=200,
                  final_url="u", body=b"<p>This ACCOUNT doesn't exist</p>")[0] == "offline"
    assert decide([rule(RuleKind.FINAL_URL_REGEX, "(", "offline")], status_code=200, final_url="u",
                  body=b"")[0] == "online"  # a broken rule decides nothing
    assert rule_problem(RuleKind.STATUS_CODE, "40x") and rule_problem(RuleKind.STATUS_CODE, "999")
    assert rule_problem(RuleKind.FINAL_URL_REGEX, "(") and rule_problem(RuleKind.BODY_MARKER, " ")
    assert rule_problem(RuleKind.STATUS_CODE, "404, 410") is None


def test_the_beat_sweep_is_a_registered_task_that_schedules_and_nudges_the_checker(db, tube, monkeypatch, settings):
    from config.celery import app
    from liveness import tasks

    app.loader.import_default_modules()
    assert settings.CELERY_BEAT_SCHEDULE["liveness-sweep"]["task"] == "liveness.schedule"
    assert {"liveness.schedule", "liveness.check_due"} <= set(app.tasks)
    nudged = []
    monkeypatch.setattr(tasks, "send_task", lambda name, **kw: nudged.append(name))
    assert tasks.schedule_received() == 0 and nudged == ["liveness.check_due"]
