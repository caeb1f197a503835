"""The counts are built and read on the embedded SQLite of `make run` as on PostgreSQL (the INSERT … SELECT of the
aggregation, the durations, the JSON categories): the totals equal the ORM's counts on both."""

import pytest

from referral.models import Referral
from reports import stats
from reports.period import period_report
from reports.selectors import Filters, per_platform, referrals_per_day
from tests.conftest import signed_in

pytestmark = pytest.mark.both_databases


def test_counts_equal_the_orm_on_this_database(seeded, supervisor):
    stats.rebuild()
    start = seeded["start"].date()
    from datetime import timedelta

    period = Filters(date_from=start, date_to=start + timedelta(days=7))
    assert sum(row["total"] for row in referrals_per_day(supervisor, period)) == Referral.objects.count() == 64
    rows = {row["platform"]: row for row in per_platform(supervisor, period)}
    for name in ("Tube", "Chirp"):
        referrals = Referral.objects.filter(platform__name=name)
        assert rows[name]["total"] == referrals.count()
        assert rows[name]["n_removed"] == referrals.filter(status="removed").count()
        assert rows[name]["delivered"] == referrals.exclude(status="withdrawn").filter(sent_at__isnull=False).count()
    report = period_report(supervisor, period.date_from, period.date_to)
    assert report["withdrawn"] == Referral.objects.filter(status="withdrawn").count()
    assert {r["category"]: r["referrals"] for r in report["per_category"]}["incitement"] == \
        sum(1 for r in Referral.objects.select_related("item") if "incitement" in r.item.categories)
    assert signed_in(supervisor).get(f"/dashboard/?from={period.date_from}&to={period.date_to}").status_code == 200
