from django.core.management.base import BaseCommand, CommandError

from accounts import two_factor
from accounts.models import User
from core.errors import DomainError


class Command(BaseCommand):
    help = ("Remove a user's second-factor devices (a lost phone), e.g. the last admin's; they enrol again at their "
            "next sign-in. Audited as two_factor.reset by the operator. Admins use the user list's action instead.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user '{username}'.")
        try:
            count = two_factor.two_factor_reset(actor=None, user_id=user.pk)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Removed {count} second-factor device(s) of {username}; they enrol again at next sign-in.")
