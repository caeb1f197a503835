"""An index for "overdue now" on the dashboard: the referrals awaiting an outcome, by due time, with the columns the
dashboard filters on, so the count is an index-only scan of the awaiting referrals past due however many referrals
have their outcome. PostgreSQL only (a partial index with INCLUDE); SQLite does without. It belongs in
referral.Referral's Meta; here until it moves (as 0001's index on created_at)."""

from django.db import migrations

AWAITING = "('queued', 'sent', 'acknowledged', 'needs_info')"  # referral.models.AWAITING_OUTCOME


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS reports_referral_awaiting_due ON referral_referral (due_at) "
            f"INCLUDE (platform_id, instrument, item_id) WHERE status IN {AWAITING}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS reports_referral_awaiting_due")


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0003_platform_rollup"),
    ]

    operations = [migrations.RunPython(create, drop)]
