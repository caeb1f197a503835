"""The database itself refuses to change the audit trail: UPDATE, DELETE and TRUNCATE of audit events raise, except
the sealer's one write of an event's sequence number and hashes (from empty, every other field unchanged).

PostgreSQL only (the embedded SQLite of `make run` has no such triggers). TRUNCATE is allowed where the setting
`audit.allow_truncate` is on: the test suite's database only, for its flushes between tests (tests/conftest.py).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
       AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor_label = OLD.actor_label AND NEW.verb = OLD.verb AND NEW.object_type = OLD.object_type
       AND NEW.object_id = OLD.object_id AND NEW.before = OLD.before AND NEW.after = OLD.after THEN
        RETURN NEW;  -- the sealer, once per event
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_setting('audit.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit events are append-only: ' || TG_OP || ' of {table} refused';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON {table};
DROP TRIGGER IF EXISTS audit_event_append_only ON {table};
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


def _run(sql: str, apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("audit", "AuditEvent")._meta.db_table)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql.replace("{table}", table))


def create(apps, schema_editor):
    _run(CREATE, apps, schema_editor)


def drop(apps, schema_editor):
    _run(DROP, apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_checkpoints")]

    operations = [migrations.RunPython(create, drop)]
