"""`python manage.py rebuild_stats`: recompute every day of the dashboard's counts from the referrals."""

import time

from django.core.management.base import BaseCommand

from reports import stats


class Command(BaseCommand):
    help = "Recompute the dashboard's and reports' daily counts (DailyReferralStat) from every referral."

    def handle(self, *args, **options):
        started = time.monotonic()
        days = stats.rebuild()
        self.stdout.write(f"Rebuilt {days} days of referral counts in {time.monotonic() - started:.1f} s.")
