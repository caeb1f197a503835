from django.core.management.base import BaseCommand, CommandError

from accounts import services
from core.errors import DomainError


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (the part before the dot)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        try:
            services.api_key_revoke(actor=None, prefix=prefix)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Revoked {prefix}")
