"""The dashboard's numbers equal plain SQL over the referrals of a seeded fortnight, for every filter, and stay equal
when the beat task refreshes only the days that changed."""

import csv
import io
from datetime import timedelta

import pytest

from core.errors import NotPermitted
from referral.actions import outcomes, withdrawal
from referral.models import Referral, ReferralStatus
from reports import selectors, stats
from reports.models import DailyPlatformStat, DailyReferralStat
from reports.selectors import OUTCOME_SERIES, Filters
from tests.conftest import signed_in
from tests.reports import truth


def _period(seeded):
    start = seeded["start"].date()
    return Filters(date_from=start - timedelta(days=1), date_to=start + timedelta(days=9))


def _day_outcomes_from_sql(period, platform_id=None) -> dict:
    counts = truth.per_day_status(period.date_from, period.date_to, platform_id)
    out = {}
    for i in range(period.days):
        day = period.date_from + timedelta(days=i)
        row = {key: sum(counts.get((day, c.removeprefix("n_")), 0) for c in columns)
               for key, _, columns in OUTCOME_SERIES}
        row["total"] = sum(row.values())
        out[day] = row
    return out


def test_referrals_per_day_by_outcome_equal_sql_counts(seeded, supervisor):
    stats.rebuild()
    period = _period(seeded)
    days = selectors.referrals_per_day(supervisor, period)
    assert {row["day"]: {k: v for k, v in row.items() if k != "day"} for row in days} == _day_outcomes_from_sql(period)
    assert sum(row["total"] for row in days) == Referral.objects.count() == 64
    assert sum(row["withdrawn"] for row in days) == Referral.objects.filter(status=ReferralStatus.WITHDRAWN).count() > 0


def test_per_day_filtered_by_platform_equals_sql(seeded, supervisor, platform_b):
    stats.rebuild()
    period = Filters(**{**_period(seeded).__dict__, "platform_id": platform_b.pk})
    days = selectors.referrals_per_day(supervisor, period)
    assert {r["day"]: {k: v for k, v in r.items() if k != "day"} for r in days} == \
        _day_outcomes_from_sql(period, platform_b.pk)


def test_per_platform_counts_shares_and_times_equal_sql(seeded, supervisor):
    stats.rebuild()
    period = _period(seeded)
    rows = {row["platform"]: row for row in selectors.per_platform(supervisor, period)}
    expected = truth.per_platform(period.date_from, period.date_to)
    assert set(rows) == set(expected) | {"All platforms"}
    for name, sql in expected.items():
        row = rows[name]
        assert {key: row[key] for key in sql} == sql, name
        assert row["ack_within_sla_share"] == sql["ack_within_sla"] / sql["delivered"]
        acks = truth.durations(period.date_from, period.date_to, name, "acknowledged_at", "TRUE")
        removals = truth.durations(period.date_from, period.date_to, name, "action_taken_at", "r.status = 'removed'")
        assert sum(row["ack_histogram"]) == len(acks) and sum(row["removal_histogram"]) == len(removals)
        assert row["ack_median"] == truth.percentile_bucket(acks, 0.5)
        assert row["ack_p90"] == truth.percentile_bucket(acks, 0.9)
        assert row["removal_median"] == truth.percentile_bucket(removals, 0.5)
        assert row["removal_p90"] == truth.percentile_bucket(removals, 0.9)
        assert row["verified_offline_rate"] == 0  # no check found anything offline here (test_verified_offline.py)
    assert rows["All platforms"]["total"] == sum(sql["total"] for sql in expected.values())


def test_case_group_and_instrument_filters_equal_sql(seeded, supervisor):
    stats.rebuild()
    case, group = seeded["cases"][1], seeded["groups"][0]
    period = Filters(**{**_period(seeded).__dict__, "case_id": case.pk, "group_id": group.pk,
                        "instrument": "referral"})
    total = sum(row["total"] for row in selectors.referrals_per_day(supervisor, period))
    assert total == Referral.objects.filter(item__case=case, item__group=group, instrument="referral").count() > 0


def test_overdue_and_dead_letters_now_equal_the_live_tables(seeded, supervisor, platform_a):
    period = _period(seeded)
    assert selectors.overdue_now(supervisor, period) == Referral.objects.overdue().count() > 0
    assert selectors.dead_letters_now(supervisor, period) == truth.rows(
        "SELECT count(*) FROM referral_delivery WHERE status IN ('stopped', 'failed')")[0][0] == 1
    only_a = Filters(**{**period.__dict__, "platform_id": platform_a.pk})
    assert selectors.overdue_now(supervisor, only_a) == Referral.objects.overdue().filter(platform=platform_a).count()


def test_refresh_recomputes_only_the_changed_days_and_matches_a_rebuild(seeded, clock, supervisor, liaison_b):
    stats.refresh()  # the first run builds every day
    first = Referral.objects.order_by("created_at").filter(status=ReferralStatus.SENT).first()
    clock.at(clock.now + timedelta(minutes=10))
    if first.platform_id == liaison_b.platform_id:
        outcomes.referral_record_status(actor=liaison_b, referral_id=first.pk, status="removed")
    else:
        withdrawal.referral_withdraw(actor=supervisor, referral_id=first.pk, reason="No longer needed.")
    assert stats.refresh() == 1  # only the day of that referral
    refreshed = (_stat_rows(DailyReferralStat), _stat_rows(DailyPlatformStat))
    stats.rebuild()
    assert refreshed == (_stat_rows(DailyReferralStat), _stat_rows(DailyPlatformStat))
    clock.at(clock.now + stats.OVERLAP + timedelta(seconds=1))
    assert stats.refresh() == 1  # a change within OVERLAP of the watermark is read once more
    assert stats.refresh() == 0  # then nothing changed since


def _stat_rows(model) -> list[tuple]:
    columns = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
    return sorted(model.objects.values_list(*columns), key=lambda row: [str(v) for v in row])


def test_only_unit_staff_read_the_numbers(seeded, liaison):
    period = _period(seeded)
    for read in (selectors.referrals_per_day, selectors.per_platform, selectors.overdue_now,
                 selectors.dead_letters_now):
        with pytest.raises(NotPermitted):
            read(liaison, period)
        with pytest.raises(NotPermitted):
            read(None, period)


def test_liaison_gets_403_and_anonymous_the_login_page(seeded, liaison, client):
    assert signed_in(liaison).get("/dashboard/").status_code == 403
    assert signed_in(liaison).get("/dashboard/per-day.csv").status_code == 403
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_dashboard_page_and_its_csv_files(seeded, analyst, django_assert_max_num_queries):
    stats.rebuild()
    period = _period(seeded)
    query = f"from={period.date_from}&to={period.date_to}"
    browser = signed_in(analyst)
    browser.get("/dashboard/")  # the session and the user are loaded once
    with django_assert_max_num_queries(10):  # the session is read from Redis: no query
        page = browser.get(f"/dashboard/?{query}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-series="verified_offline_rate"' in html and 'id="per-day-table"' in html
    assert "vendor/chart.umd.min.js" in html

    daily = list(csv.reader(io.StringIO(browser.get(f"/dashboard/per-day.csv?{query}").content.decode())))
    assert daily[0] == ["day", "removed", "restricted", "declined", "awaiting", "failed", "withdrawn",
                        "not_sent_offline", "other", "total"]
    expected = _day_outcomes_from_sql(period)
    assert len(daily) == 1 + period.days
    for line in daily[1:]:
        day = period.date_from + timedelta(days=daily.index(line) - 1)
        assert line[0] == day.isoformat()
        assert [int(v) for v in line[1:]] == [expected[day][k] for k, _, _ in OUTCOME_SERIES] + [expected[day]["total"]]

    per_platform = list(csv.DictReader(io.StringIO(browser.get(f"/dashboard/per-platform.csv?{query}").content
                                                   .decode())))
    sql = truth.per_platform(period.date_from, period.date_to)
    for line in per_platform:
        if line["platform"] in sql:
            assert int(line["referrals"]) == sql[line["platform"]]["total"]
            assert int(line["removal_orders_within_hour"]) == sql[line["platform"]]["orders_within_hour"]
            assert line["verified_offline_rate"] == "0.0000" and line["verified_offline"] == "0"


def test_a_longer_period_costs_no_more_queries(seeded, analyst, django_assert_max_num_queries):
    stats.rebuild()
    browser = signed_in(analyst)
    browser.get("/dashboard/")
    with django_assert_max_num_queries(11):
        assert browser.get("/dashboard/?from=2025-12-01&to=2026-12-01").status_code == 200


def test_bad_filters_show_errors_and_the_default_period(seeded, analyst):
    page = signed_in(analyst).get("/dashboard/?from=2026-13-40&platform=999999")
    assert page.status_code == 200
    assert "Enter a valid date." in page.content.decode()
