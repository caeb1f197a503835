"""Scripted bulk intake: `python manage.py import_items FILE.csv --case ID [--user USERNAME]`.

The same code path as an upload (referral.intake), run here synchronously; prints the counts.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from intake import actions as intake_actions
from intake import selectors as intake_selectors
from intake.models import ImportStatus


class Command(BaseCommand):
    help = "Import a CSV file of URLs (columns url, kind, categories, language, notes, group) into a case."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--case", type=int, required=True, help="The case's id.")
        parser.add_argument("--user", help="The analyst or supervisor the items are logged by "
                            "(default: the case's creator).")

    def handle(self, *args, **options):
        try:
            case = intake_selectors.get_case(options["case"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user '{options['user']}'.")
        else:
            user = case.created_by
        if user.role not in ("analyst", "supervisor"):
            raise CommandError(f"{user.username} is not an analyst or supervisor.")
        try:
            with open(options["file"], "rb") as f:
                job = intake_actions.create_import(actor=user, case=case, fileobj=f, original_name=options["file"],
                                           source="command", queue=False)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}.") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        job = intake_actions.run_import(job.pk)
        self.stdout.write(
            f"Import {job.pk}: {job.status}. {job.processed} rows: {job.accepted} accepted, "
            f"{job.duplicates} duplicates, {job.rejected} rejected."
        )
        for error in job.errors[:20]:
            self.stdout.write(f"  line {error['line']}: {error['reason']}")
        if job.report:
            self.stdout.write(f"Report: {job.report.path if hasattr(job.report, 'path') else job.report.name}")
        if job.failure:
            self.stderr.write(job.failure)
        if job.status == ImportStatus.FAILED:
            raise CommandError("The import failed.")
