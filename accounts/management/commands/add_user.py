import os

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Role
from core.errors import DomainError


class Command(BaseCommand):
    help = "Create a user with one role. A liaison needs --platform. The password is read from an env variable."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--platform", help="platform slug (liaisons only)")
        parser.add_argument("--password-env", metavar="VAR",
                            help="name of the environment variable holding the password (none: API keys only)")

    def handle(self, *args, username, role, platform, password_env, **options):
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"Environment variable {password_env} is not set or empty.")
        try:
            user = services.user_create(actor=None, username=username, role=role, platform_slug=platform,
                                        password=password)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created {user.role} '{user.username}'" + (f" of {platform}" if platform else ""))
