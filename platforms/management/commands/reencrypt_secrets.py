"""`python manage.py reencrypt_secrets`: encrypt every secret kept in the database again with the first key of
FIELD_ENCRYPTION_KEY, so that the older keys can then be removed (docs/operations.md, 'Secrets at rest')."""

from django.conf import settings
from django.core.management.base import BaseCommand

from platforms.secrets import reencrypt_all


class Command(BaseCommand):
    help = "Encrypt every stored secret again with the first FIELD_ENCRYPTION_KEY (after adding a new key)."

    def add_arguments(self, parser):
        parser.add_argument("--print-derived-key", action="store_true",
                            help="Print the key derived from SECRET_KEY (used while FIELD_ENCRYPTION_KEY is unset), "
                                 "to list it after a new key when moving to FIELD_ENCRYPTION_KEY.")

    def handle(self, *args, **options):
        if options["print_derived_key"]:
            self.stdout.write(settings.FIELD_ENCRYPTION_DERIVED_KEY)
            return
        for label, rows in reencrypt_all().items():
            self.stdout.write(f"{label}: {rows} rows encrypted with the first key.")
