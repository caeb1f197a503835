"""The application's own database role (docker-compose.yml's DATABASE_URL): the desk's tables read and written,
the audit trail INSERT and SELECT only, whatever the triggers; the sealer still chains events as that role."""

import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import yaml
from django.core.management import call_command
from django.db import connection, transaction

from audit.models import AuditEvent
from tests.processes import ROOT, database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_role():
    role = f"desk_app_{uuid.uuid4().hex[:8]}"
    os.environ["DESK_APP_DB_PASSWORD"] = "not-used-with-trust-auth"
    try:
        call_command("grant_app_role", role, "--create")
        yield role
    finally:
        os.environ.pop("DESK_APP_DB_PASSWORD", None)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def connect_as(role):
    db = connection.settings_dict
    conn = psycopg2.connect(dbname=db["NAME"], user=role, host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    conn.autocommit = True
    return conn


def refused(conn, statement) -> bool:
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    except psycopg2.errors.InsufficientPrivilege:
        return True
    return False


def test_the_app_role_writes_the_desk_but_only_appends_to_the_audit(app_role, analyst):
    from audit import chain as audit

    with transaction.atomic():
        audit.record_many([{"actor": analyst, "verb": "test.before", "object_type": "test", "object_id": "1"}])
    before = AuditEvent.objects.count()
    conn = connect_as(app_role)
    try:
        with conn.cursor() as cursor:
            cursor.execute("INSERT INTO audit_auditevent (at, actor_id, actor_label, verb, object_type, object_id, "
                           "before, after) VALUES (now(), NULL, 'system', 'test.as_app', 'test', '2', '{}', '{}')")
            cursor.execute("SELECT count(*) FROM audit_auditevent")
            assert cursor.fetchone()[0] == before + 1
            cursor.execute("UPDATE accounts_user SET first_name = 'Anna' WHERE id = %s", [analyst.pk])
        assert refused(conn, "UPDATE audit_auditevent SET verb = 'forged'")
        assert refused(conn, "DELETE FROM audit_auditevent")
        assert refused(conn, "TRUNCATE audit_auditevent")
        assert refused(conn, "UPDATE audit_auditcheckpoint SET signature = 'x'")
        assert refused(conn, "DELETE FROM audit_auditcheckpoint")
        assert refused(conn, "DROP TABLE audit_auditevent")
        assert refused(conn, "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL")
    finally:
        conn.close()
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"test.before", "test.as_app", "db.app_role_granted"} <= verbs
    assert AuditEvent.objects.count() == before + 1


def test_the_sealer_and_the_checks_run_as_the_app_role(app_role, analyst):
    from audit import chain as audit

    with transaction.atomic():
        audit.record_many([{"actor": analyst, "verb": "test.one", "object_type": "test", "object_id": "1"}])
    parts = urlsplit(database_url())
    url = urlunsplit(parts._replace(netloc=f"{app_role}@{parts.hostname}:{parts.port}"))
    env = {**os.environ, "DATABASE_URL": url}
    for command in (["audit_checkpoint"], ["verify_audit"]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    assert not AuditEvent.objects.filter(hash__isnull=True).exists()  # sealed by the app role


def test_compose_runs_migrations_as_the_owner_and_the_app_as_its_role():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    migrate = " ".join(services["migrate"]["command"])
    assert "migrate" in migrate and "grant_app_role" in migrate
    owner_url = services["migrate"]["environment"]["DATABASE_URL"]
    for name in ("web", "worker", "beat"):
        url = services[name]["environment"]["DATABASE_URL"]
        assert url != owner_url and "DESK_APP_DB_USER" in url
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "migrate" not in " ".join(services[name]["command"])
