"""`python manage.py grant_app_role ROLE`: give the application's own database role what it needs and no more.

Run as the database's owner after every `migrate` (docker-compose.yml's `migrate` service does): the role may read
and write the desk's tables, but on the audit trail it may only INSERT and SELECT (plus the sealer's UPDATE of
`seq`, `prev_hash`, `hash`, which the append-only trigger narrows further to one write from empty), and never
UPDATE, DELETE or TRUNCATE; checkpoints are INSERT and SELECT only. With `--create` and the password in the
environment variable `--password-env` names, the role is created first when it does not exist. PostgreSQL only.
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg2 import sql

from audit import chain as audit
from audit.models import AuditCheckpoint, AuditEvent

SEALED_COLUMNS = ("seq", "prev_hash", "hash")


def statements(role: str) -> list[sql.Composed]:
    events, checkpoints = AuditEvent._meta.db_table, AuditCheckpoint._meta.db_table
    r = sql.Identifier(role)
    return [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(r),
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {}, {} FROM {}").format(
            sql.Identifier(events), sql.Identifier(checkpoints), r),
        sql.SQL("GRANT UPDATE ({}) ON {} TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, SEALED_COLUMNS)), sql.Identifier(events), r),
    ]


class Command(BaseCommand):
    help = "Grant the application's database role the desk's tables, the audit trail INSERT and SELECT only."

    def add_arguments(self, parser):
        parser.add_argument("role")
        parser.add_argument("--create", action="store_true", help="create the role (LOGIN) when it does not exist")
        parser.add_argument("--password-env", default="DESK_APP_DB_PASSWORD",
                            help="environment variable holding the new role's password (with --create)")

    def handle(self, *args, role, create, password_env, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL matter; this database is "
                               f"{connection.vendor} (the embedded default has none).")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            exists = cursor.fetchone() is not None
            if not exists and not create:
                raise CommandError(f"No database role {role!r}: create it, or pass --create with its password in "
                                   f"${password_env}.")
            if not exists:
                password = os.environ.get(password_env, "")
                if not password:
                    raise CommandError(f"--create needs the new role's password in ${password_env}.")
                cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)))
            for statement in statements(role):
                cursor.execute(statement)
            audit.record_many([{"actor": None, "verb": "db.app_role_granted", "object_type": "db_role",
                                "object_id": role, "after": {"created": not exists}}])
        self.stdout.write(f"{role}: {'created; ' if not exists else ''}granted the desk's tables; the audit trail "
                          "INSERT and SELECT only (and the sealer's columns).")
