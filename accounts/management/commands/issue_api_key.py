from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User
from core.errors import DomainError


class Command(BaseCommand):
    help = "Issue an API key for a user. The key is printed once, as the last line; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument("--name", default="")

    def handle(self, *args, username, expires_days, name, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user '{username}'.")
        if not user.is_active:
            raise CommandError(f"User '{username}' is inactive.")
        try:
            record, key = services.api_key_issue(actor=None, user=user, expires_days=expires_days, name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        expiry = record.expiry_date.isoformat() if record.expiry_date else "never"
        self.stdout.write(f"API key {record.prefix} for {user.username} ({user.role}), expires: {expiry}. "
                          "Store it now; it cannot be shown again.")
        self.stdout.write(key)
