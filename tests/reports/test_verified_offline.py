"""What the desk's own checks measured, in the unit's numbers: the verified offline rate and the time to offline per
platform (dashboard, its CSV, the period report, the operation board) equal plain SQL over the seeded fortnight's
referrals and their liveness states, and the beat refresh picks up content found offline since its last run (the
checks change no referral row)."""

import csv
import io
from datetime import timedelta

import pytest

from liveness import claiming, schedule
from liveness.fetching import Answer
from liveness.models import LivenessState, Verdict
from liveness.recording import Result, record_results
from referral.actions import withdrawal
from referral.models import Referral
from reports import selectors, stats
from reports.models import DailyPlatformStat, DailyReferralStat
from reports.period import period_report
from reports.selectors import Filters
from tests.conftest import signed_in
from tests.reports import truth


def _record(clock, verdict_of, minutes_of) -> int:
    """Claim every open check as if it were far in the future, record `verdict_of(referral)` found
    `minutes_of(referral)` after receipt for those it names (None: leave that check open)."""
    jobs = claiming.claim_due(10_000, now=clock.now + timedelta(days=400))
    sent = dict(Referral.objects.filter(pk__in=[j.referral_id for j in jobs]).values_list("pk", "sent_at"))
    results = []
    for job in jobs:
        verdict = verdict_of(job.referral_id)
        if verdict is None:
            continue
        at = sent[job.referral_id] + timedelta(minutes=minutes_of(job.referral_id))
        results.append(Result(job=job, verdict=verdict, matched_rule="test", started_at=at, finished_at=at,
                              answer=Answer(url=job.url, status_code=404 if verdict == Verdict.OFFLINE else 200)))
    record_results(results)
    return len(results)


@pytest.fixture
def checked(seeded, clock, supervisor):
    """The seeded referrals checked once: two in three found offline, after 15 minutes to a few days; then one of
    the offline ones withdrawn (it leaves the counts, as withdrawn referrals do)."""
    schedule.schedule_received()
    assert _record(clock, lambda pk: Verdict.OFFLINE if pk % 3 else Verdict.ONLINE,
                   lambda pk: 15 + (pk * 97) % 4000) > 20
    offline = (Referral.objects.filter(liveness__offline_at__isnull=False, status__in=("sent", "acknowledged"))
               .order_by("pk").first())
    withdrawal.referral_withdraw(actor=supervisor, referral_id=offline.pk, reason="Sent by mistake.")
    return seeded


def _period(seeded):
    start = seeded["start"].date()
    return Filters(date_from=start - timedelta(days=1), date_to=start + timedelta(days=9))


VERIFIED_SQL = """
    SELECT p.name, count(*) FILTER (WHERE r.status <> 'withdrawn' AND r.sent_at IS NOT NULL),
           count(*) FILTER (WHERE r.status <> 'withdrawn' AND r.sent_at IS NOT NULL AND l.offline_at IS NOT NULL)
    FROM referral_referral r JOIN platforms_platform p ON p.id = r.platform_id
    LEFT JOIN liveness_livenessstate l ON l.referral_id = r.id
    WHERE r.created_at >= %s AND r.created_at < %s GROUP BY p.name"""

DURATIONS_SQL = """
    SELECT p.name, extract(epoch FROM l.offline_at - r.sent_at)
    FROM referral_referral r JOIN platforms_platform p ON p.id = r.platform_id
    JOIN liveness_livenessstate l ON l.referral_id = r.id
    WHERE r.created_at >= %s AND r.created_at < %s AND r.status <> 'withdrawn' AND r.sent_at IS NOT NULL
      AND l.offline_at IS NOT NULL"""


def _truth(period):
    bounds = truth.bounds(period.date_from, period.date_to)
    verified = {name: (delivered, offline) for name, delivered, offline in truth.rows(VERIFIED_SQL, bounds)}
    durations: dict = {}
    for name, seconds in truth.rows(DURATIONS_SQL, bounds):
        durations.setdefault(name, []).append(float(seconds))
    return verified, durations


def test_verified_offline_rate_and_time_to_offline_equal_sql(checked, supervisor):
    stats.rebuild()
    period = _period(checked)
    rows = {row["platform"]: row for row in selectors.per_platform(supervisor, period)}
    verified, durations = _truth(period)
    assert sum(offline for _, offline in verified.values()) > 10
    for name, (delivered, offline) in verified.items():
        row = rows[name]
        assert (row["delivered"], row["verified_offline"]) == (delivered, offline), name
        assert row["verified_offline_rate"] == offline / delivered
        assert sum(row["offline_histogram"]) == len(durations[name])
        assert row["offline_median"] == truth.percentile_bucket(durations[name], 0.5)
    everything = rows["All platforms"]
    assert everything["verified_offline"] == sum(offline for _, offline in verified.values())
    assert everything["offline_median"] == truth.percentile_bucket([s for ds in durations.values() for s in ds], 0.5)


def test_the_period_report_and_the_csv_files_carry_them(checked, supervisor, analyst):
    stats.rebuild()
    period = _period(checked)
    verified, durations = _truth(period)
    report = period_report(supervisor, period.date_from, period.date_to)
    delivered = sum(d for d, _ in verified.values())
    offline = sum(o for _, o in verified.values())
    assert (report["delivered"], report["verified_offline"]) == (delivered, offline)
    assert report["verified_offline_rate"] == offline / delivered
    assert report["times"]["offline"]["count"] == sum(len(ds) for ds in durations.values())
    assert {row["platform"]: row["verified_offline"] for row in report["per_platform"]} == \
        {name: o for name, (_, o) in verified.items()}

    browser = signed_in(analyst)
    query = f"from={period.date_from}&to={period.date_to}"
    lines = list(csv.DictReader(io.StringIO(browser.get(f"/dashboard/per-platform.csv?{query}").content.decode())))
    for line in lines:
        if line["platform"] in verified:
            delivered_p, offline_p = verified[line["platform"]]
            assert int(line["verified_offline"]) == offline_p
            assert line["verified_offline_rate"] == f"{offline_p / delivered_p:.4f}"
            assert line["offline_median_minutes_at_most"]
    html = browser.get(f"/dashboard/?{query}").content.decode()
    assert f"{offline} (" in html and "Time to offline (measured)" in html
    values = {(s, k): v for s, k, v in csv.reader(io.StringIO(
        browser.get(f"/reports/referrals.csv?{query}").content.decode()))}
    assert int(values[("verified_offline", "count")]) == offline
    assert int(values[("time_to_offline", "count")]) == sum(len(ds) for ds in durations.values())


def test_the_refresh_picks_up_content_found_offline_since(checked, clock):
    stats.refresh()
    clock.at(clock.now + stats.OVERLAP + timedelta(minutes=1))
    stats.refresh()  # the withdrawal made just before the first run is read once more (stats.OVERLAP)
    before = sum(DailyPlatformStat.objects.values_list("verified_offline", flat=True))
    clock.at(clock.now + stats.OVERLAP + timedelta(minutes=1))
    assert stats.refresh() == 0
    online = (LivenessState.objects.filter(state="online", finished=False).order_by("referral_id")
              .values_list("referral_id", flat=True).first())
    after = (clock.now - Referral.objects.get(pk=online).sent_at).total_seconds() / 60
    assert _record(clock, lambda pk: Verdict.OFFLINE if pk == online else None, lambda pk: after) == 1  # found now
    assert stats.refresh() == 1  # only that referral's day, though no referral row changed
    assert sum(DailyPlatformStat.objects.values_list("verified_offline", flat=True)) == before + 1
    refreshed = (_rows(DailyReferralStat), _rows(DailyPlatformStat))
    stats.rebuild()
    assert refreshed == (_rows(DailyReferralStat), _rows(DailyPlatformStat))


def _rows(model) -> list[tuple]:
    columns = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
    return sorted(model.objects.values_list(*columns), key=lambda row: [str(v) for v in row])


def test_the_operation_board_counts_verified_offline(checked, analyst, supervisor):
    from reports import actions as operation_actions
    from reports import operations as board_selectors

    start = checked["start"]
    operation = operation_actions.operation_create(
        actor=supervisor, name="Action day", starts_at=start - timedelta(hours=1), ends_at=start + timedelta(days=9),
        case_ids=[c.pk for c in checked["cases"]], units="")
    board = board_selectors.board(analyst, operation)
    verified, _ = _truth(_period(checked))
    assert {row["platform"]: row["verified"] for row in board["rows"]} == {n: o for n, (_, o) in verified.items()}
    total = board["total"]
    assert total["verified_offline"] == total["verified"] / total["sent"]
    assert f"{total['verified_offline'] * 100:.0f} % verified offline within " in board["headline"]
