"""Liveness: the desk checks by itself whether referred content is still online (issue 11).

LivenessCheck is one scheduled GET of a referral's URL and, once made, its evidence (status code, final URL, body
SHA-256, the rule that decided). LivenessRule is a platform's own way of saying "this page means gone" (kept as
data, edited in the admin). LivenessState is a referral's summary: what the checks concluded and when.

The app sits above `referral` in the layers: it reads referrals and never changes them.
"""

from django.db import models
from django.db.models import Q


class Verdict(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    UNKNOWN = "unknown", "Unknown"  # a 5xx, a timeout, a refusal, an answer no rule knows: never offline


class SummaryState(models.TextChoices):
    PENDING = "pending", "Not checked yet"
    ONLINE = Verdict.ONLINE.value, Verdict.ONLINE.label
    OFFLINE = Verdict.OFFLINE.value, Verdict.OFFLINE.label
    UNKNOWN = Verdict.UNKNOWN.value, Verdict.UNKNOWN.label


class RuleKind(models.TextChoices):
    STATUS_CODE = "status_code", "Status code (one or several, comma-separated)"
    FINAL_URL_REGEX = "final_url_regex", "Final URL matches (regular expression)"
    BODY_MARKER = "body_marker", "Body contains (case-insensitive)"


class LivenessRule(models.Model):
    """One of a platform's rules: when its test holds for a check's answer, the answer means `verdict`.

    Rules are tried in `position` order (then id) before the defaults (404/410 offline, 2xx online); the first
    that holds decides. A 5xx or no answer at all is `unknown` whatever the rules say.
    """

    platform = models.ForeignKey("platforms.Platform", on_delete=models.CASCADE, related_name="liveness_rules")
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    value = models.CharField(max_length=500)
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    position = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["platform", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value!r} → {self.verdict}"

    @property
    def label(self) -> str:
        return f"rule {self.pk}: {self.kind} {self.value}"[:200]


class LivenessCheck(models.Model):
    """One scheduled check of a referral's URL (`sequence`: its place in LIVENESS_SCHEDULE) and its evidence.

    Claimed like an outbox row: `SELECT … FOR UPDATE SKIP LOCKED` on due, unfinished rows whose lease is free;
    `attempts` counts claims (a worker that died mid-check lets the lease run out; after LIVENESS_MAX_ATTEMPTS
    the check is closed as `unknown`). A finished check is never claimed again.
    """

    referral = models.ForeignKey("referral.Referral", on_delete=models.CASCADE, related_name="liveness_checks")
    sequence = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True)
    url = models.CharField(max_length=2048, blank=True)  # as fetched: the item's URL as the analyst logged it
    status_code = models.PositiveIntegerField(null=True, blank=True)
    final_url = models.CharField(max_length=2048, blank=True)
    redirects = models.PositiveIntegerField(default=0)
    body_sha256 = models.CharField(max_length=64, blank=True)  # of the bytes read (at most LIVENESS_MAX_BODY_BYTES)
    body_bytes = models.PositiveIntegerField(null=True, blank=True)
    matched_rule = models.CharField(max_length=200, blank=True)  # "rule 7: body_marker …" or "default: 404"
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    via_proxy = models.BooleanField(default=False)
    # The one check just before sending (liveness/presend.py), outside the schedule: sequence 0, never claimed by
    # the scheduled checker; it decides whether the referral is sent at all.
    presend = models.BooleanField(default=False)

    class Meta:
        ordering = ["referral", "-presend", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "sequence"], name="liveness_one_check_per_slot",
                                    condition=Q(presend=False)),
            models.UniqueConstraint(fields=["referral"], name="liveness_one_check_before_sending",
                                    condition=Q(presend=True)),
        ]
        indexes = [models.Index(fields=["due_at"], name="liveness_check_due_idx",
                                condition=Q(finished_at__isnull=True))]

    def __str__(self) -> str:
        return f"Check {self.sequence} of referral {self.referral_id}: {self.verdict or 'due'}"


class LivenessState(models.Model):
    """A referral's liveness summary, kept by the recording of each check.

    `state` is the latest conclusive verdict (a later `unknown` does not erase it; `unknown` only until one
    is known); `offline_at` the first check that found it offline; `consecutive_offline` counts offline
    verdicts since the last online one (two end the schedule); `followup_flagged_at` when it was still online a
    day after receipt (an hour for a removal order); `reappeared_at` when it came back after being offline.
    """

    referral = models.OneToOneField("referral.Referral", on_delete=models.CASCADE, primary_key=True,
                                    related_name="liveness")
    state = models.CharField(max_length=8, choices=SummaryState.choices, default=SummaryState.PENDING)
    checks = models.PositiveIntegerField(default=0)  # finished checks
    checked_at = models.DateTimeField(null=True, blank=True)
    offline_at = models.DateTimeField(null=True, blank=True)
    consecutive_offline = models.PositiveIntegerField(default=0)
    followup_flagged_at = models.DateTimeField(null=True, blank=True)
    reappeared = models.BooleanField(default=False)
    reappeared_at = models.DateTimeField(null=True, blank=True)
    finished = models.BooleanField(default=False)  # the schedule is over: no check is due any more
    reminded_at = models.DateTimeField(null=True, blank=True)  # a supervisor's last reminder to the platform
    reminders = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The stats' refresh (reports/stats.py) finds the days of content found offline since its last run.
        indexes = [models.Index(fields=["offline_at"], name="liveness_state_offline_idx",
                                condition=Q(offline_at__isnull=False))]

    def __str__(self) -> str:
        return f"Liveness of referral {self.referral_id}: {self.state}"
