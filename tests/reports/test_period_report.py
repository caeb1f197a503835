"""The period report (API JSON, printable page, CSV) equals plain SQL counts over the seeded fortnight; only the
unit's staff read it; bad days are 400 with the field's error."""

import csv
import io
from datetime import timedelta

import pytest

from cases.models import Category
from core.errors import NotPermitted
from reports import stats
from reports.period import period_report
from tests.conftest import signed_in
from tests.reports import truth


def _days(seeded):
    start = seeded["start"].date()
    return start, start + timedelta(days=7)


def _expected(date_from, date_to) -> dict:
    low, high = truth.bounds(date_from, date_to)
    period = (low, high)
    one = lambda sql: truth.rows(sql, period)[0][0]  # noqa: E731
    where = "WHERE r.created_at >= %s AND r.created_at < %s"
    return {
        "items_logged": one("SELECT count(*) FROM cases_item WHERE first_seen_at >= %s AND first_seen_at < %s"),
        "referrals": one(f"SELECT count(*) FROM referral_referral r {where}"),  # noqa: S608
        "withdrawn": one(f"SELECT count(*) FROM referral_referral r {where} AND status = 'withdrawn'"),  # noqa: S608
        "per_outcome": dict(truth.rows(f"SELECT status, count(*) FROM referral_referral r {where} GROUP BY 1",  # noqa: S608
                                       period)),
        "per_instrument": dict(truth.rows(
            f"SELECT instrument, count(*) FROM referral_referral r {where} GROUP BY 1", period)),  # noqa: S608
        "per_platform": dict(truth.rows(
            f"SELECT p.name, count(*) FROM referral_referral r JOIN platforms_platform p ON p.id = r.platform_id "  # noqa: S608
            f"{where} GROUP BY 1", period)),
        "per_group": dict(truth.rows(
            f"SELECT coalesce(g.name, 'No group'), count(*) FROM referral_referral r JOIN cases_item i ON i.id = "  # noqa: S608
            f"r.item_id LEFT JOIN cases_group g ON g.id = i.group_id {where} GROUP BY 1", period)),
        "per_category": {c: one(f"SELECT count(*) FROM referral_referral r JOIN cases_item i ON i.id = r.item_id "  # noqa: S608
                                f"{where} AND i.categories @> '[\"{c}\"]'::jsonb") for c in Category.values},
    }


def _compare(report: dict, expected: dict):
    assert report["items_logged"] == expected["items_logged"]
    assert report["referrals"] == expected["referrals"]
    assert report["withdrawn"] == expected["withdrawn"] > 0
    assert {k: v for k, v in report["per_outcome"].items() if v} == expected["per_outcome"]
    assert {row["instrument"]: row["referrals"] for row in report["per_instrument"]} == expected["per_instrument"]
    assert {row["platform"]: row["referrals"] for row in report["per_platform"]} == expected["per_platform"]
    assert {row["group"]: row["referrals"] for row in report["per_group"]} == expected["per_group"]
    assert {row["category"]: row["referrals"] for row in report["per_category"]} == expected["per_category"]


def test_report_numbers_equal_sql_counts(seeded, supervisor):
    stats.rebuild()
    date_from, date_to = _days(seeded)
    report = period_report(supervisor, date_from, date_to)
    _compare(report, _expected(date_from, date_to))
    assert report["referrals"] == 64 and report["items_logged"] == 65
    acks = truth.rows("SELECT extract(epoch FROM acknowledged_at - sent_at) FROM referral_referral "
                      "WHERE status <> 'withdrawn' AND sent_at IS NOT NULL AND acknowledged_at IS NOT NULL")
    assert report["times"]["ack"]["count"] == len(acks)
    assert report["verified_offline_rate"] == 0  # no check found anything offline here (test_verified_offline.py)


def test_a_shorter_period_counts_only_its_days(seeded, supervisor):
    stats.rebuild()
    date_from = seeded["start"].date() + timedelta(days=2)
    report = period_report(supervisor, date_from, date_from + timedelta(days=1))
    _compare(report, _expected(date_from, date_from + timedelta(days=1)))
    assert report["referrals"] == 16


def test_api_report_equals_sql(seeded, supervisor, api, django_assert_max_num_queries):
    stats.rebuild()
    date_from, date_to = _days(seeded)
    client = api(supervisor)
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/reports/referrals/?from={date_from}&to={date_to}")
    assert response.status_code == 200
    _compare(response.json(), _expected(date_from, date_to))


@pytest.mark.parametrize(("query", "fields"), [
    ("", {"from", "to"}),
    ("from=2026-02-30&to=2026-03-01", {"from"}),
    ("from=2026-03-02&to=2026-03-01", {"from"}),
    ("from=2026-03-01&to=yesterday", {"to"}),
])
def test_api_bad_days_are_400_with_field_errors(db, supervisor, api, query, fields):
    response = api(supervisor).get(f"/api/v1/reports/referrals/?{query}")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields


def test_liaison_and_anonymous_cannot_read_the_report(seeded, liaison, api, client):
    assert api(liaison).get("/api/v1/reports/referrals/?from=2026-11-01&to=2026-11-30").status_code == 403
    assert client.get("/api/v1/reports/referrals/?from=2026-11-01&to=2026-11-30").status_code in (401, 403)
    assert signed_in(liaison).get("/reports/referrals/").status_code == 403
    assert client.get("/reports/referrals/").status_code == 302
    with pytest.raises(NotPermitted):
        period_report(liaison, *_days(seeded))


def test_printable_page_and_csv(seeded, analyst):
    stats.rebuild()
    date_from, date_to = _days(seeded)
    browser = signed_in(analyst)
    page = browser.get(f"/reports/referrals/?from={date_from}&to={date_to}")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<dd id="referrals-made">64</dd>' in html and 'id="verified-offline"' in html
    response = browser.get(f"/reports/referrals.csv?from={date_from}&to={date_to}")
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == ["section", "key", "value"]
    values = {(section, key): value for section, key, value in lines[1:]}
    expected = _expected(date_from, date_to)
    assert int(values[("totals", "items_logged")]) == expected["items_logged"]
    assert int(values[("totals", "referrals")]) == expected["referrals"]
    assert {key: int(v) for (section, key), v in values.items() if section == "platform"} == expected["per_platform"]
    assert browser.get("/reports/referrals.csv?from=nope").status_code == 400
