"""Pre-aggregated referral counts: one row per (day the referral was made, platform, instrument, case, group), and
their sums per (day, platform, instrument).

The dashboard and the period report read these rows (a year is some thousands of rows, not a million referrals).
`reports.stats` writes them: the beat task `reports.refresh` recomputes the days whose referrals changed since its
last run (by Referral.updated_at), `manage.py rebuild_stats` all of them. Nothing else writes here.
"""

from django.conf import settings
from django.db import models

from reports.buckets import BUCKETS, MEASURES
from reports.categories import CATEGORY_COLUMNS

# The counts per referral status (the referral's status now): n_<status>.
STATUS_COLUMNS = ("n_queued", "n_sent", "n_acknowledged", "n_removed", "n_restricted", "n_declined", "n_needs_info",
                  "n_failed", "n_withdrawn", "n_already_offline")
# Referrals in any status not above (one added to ReferralStatus since): counted here until it has its column, so
# the columns always add up to the total.
OTHER_COLUMN = "n_other"


class StatCounts(models.Model):
    """The counts of a set of referrals (see DailyReferralStat). Withdrawn referrals are counted in `n_withdrawn`
    and left out of every count below `total` (delivered, SLA counts, durations)."""

    day = models.DateField()
    # Plain references without database constraints: a derived table that is rebuilt, never the record.
    platform = models.ForeignKey("platforms.Platform", on_delete=models.DO_NOTHING, db_constraint=False,
                                 related_name="+")
    instrument = models.CharField(max_length=16)
    total = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)  # sent_at set, not withdrawn
    acknowledged = models.PositiveIntegerField(default=0)  # acknowledged_at set, not withdrawn
    ack_within_sla = models.PositiveIntegerField(default=0)  # acknowledged_at <= due_at
    removed_within_sla = models.PositiveIntegerField(default=0)  # removed, action_taken_at <= due_at
    orders_within_hour = models.PositiveIntegerField(default=0)  # removal orders removed <= 1 h after sent_at
    # Delivered and found offline by the desk's own checks (LivenessState.offline_at set): the verified offline rate.
    verified_offline = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


for _name in (*STATUS_COLUMNS, OTHER_COLUMN, *CATEGORY_COLUMNS):
    StatCounts.add_to_class(_name, models.PositiveIntegerField(default=0))
# Histograms of durations from sent_at (reports/buckets.py): ack_b<i>, removal_b<i>, outcome_b<i>.
for _measure in MEASURES:
    for _i in range(BUCKETS):
        StatCounts.add_to_class(f"{_measure}_b{_i}", models.PositiveIntegerField(default=0))

# Every count column, in one place (the aggregation writes them, the rollup sums them).
COUNT_COLUMNS = tuple(f.name for f in StatCounts._meta.local_fields if f.name not in ("day", "platform", "instrument"))


class DailyReferralStat(StatCounts):
    """Counts of the referrals made on `day` (UTC, by Referral.created_at) for one platform, instrument, case and
    group (the item's, none included): what a filter by case or group reads."""

    case = models.ForeignKey("cases.Case", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                             db_index=False)
    group = models.ForeignKey("cases.Group", null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+", db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["day", "platform"]),
            models.Index(fields=["case", "day"], name="reports_stat_case_day"),
            models.Index(fields=["group", "day"], name="reports_stat_group_day"),
            # The period report's per-group sums, read from the index alone (the rows are some 170 columns wide).
            models.Index(fields=["day"], include=["group", "total", "n_removed", "n_withdrawn"],
                         name="reports_stat_day_group_sums"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.platform_id} {self.instrument} case {self.case_id} group {self.group_id}"


class DailyPlatformStat(StatCounts):
    """DailyReferralStat summed over cases and groups: one row per (day, platform, instrument), a few dozen a day
    whatever the volume. What the dashboard and the report read when no case or group is asked for."""

    class Meta:
        indexes = [models.Index(fields=["day", "platform"], name="reports_platform_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.platform_id} {self.instrument}"


class StatsWatermark(models.Model):
    """The one row saying up to when `reports.refresh` has looked at Referral.updated_at."""

    refreshed_through = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refreshed through {self.refreshed_through}"


class Operation(models.Model):
    """A Referral Action Day: a named period, its cases and the units taking part. Its board counts the items of
    its cases logged in the period and their referrals; closing it (reports/actions.py) fixes its report. Closed is
    `closed_at` set: it only ever closes once."""

    name = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    cases = models.ManyToManyField("cases.Case", related_name="+")
    units = models.TextField(blank=True, help_text="The participating units, one per line.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return self.name
