"""`python manage.py verify_audit [--since DATE]`: check the audit chain and its signed checkpoints; exit status 1
naming the first broken event (or checkpoint) when they do not hold."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.checkpoints import verify


def _since(raw: str) -> datetime:
    try:
        moment = parse_datetime(raw)
        if moment is None and (day := parse_date(raw)) is not None:
            moment = datetime.combine(day, time.min)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--since {raw!r} is not a date (YYYY-MM-DD) or a date and time (ISO 8601).")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Verify the audit chain and its signed checkpoints; exit status 1 naming the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="check only events and checkpoints from this date (YYYY-MM-DD) on")

    def handle(self, *args, since=None, **options):
        verdict = verify(since=_since(since) if since else None)
        if not verdict.ok:
            self.stderr.write(str(verdict))
            raise SystemExit(1)
        self.stdout.write(str(verdict))
