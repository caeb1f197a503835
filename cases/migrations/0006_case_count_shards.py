"""A case's counts in shards: each database session adds to its own rows (its backend pid modulo 16), so that
concurrent writers to one case (single approvals through the API, an import beside them) no longer queue on one
counter row's lock until each commits; the summary sums a key's shards (cases/case_page.py)."""

import importlib

from django.db import migrations, models

SHARDS = 16
_first = importlib.import_module("cases.migrations.0005_case_counts")
SHARDED = _first.FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION").replace(
    "INSERT INTO cases_casecount (case_id, dimension, key, n)\n    SELECT case_id, dimension, key, sum(n)",
    f"INSERT INTO cases_casecount (case_id, dimension, key, shard, n)\n"
    f"    SELECT case_id, dimension, key, mod(pg_backend_pid(), {SHARDS}), sum(n)").replace(
    "ON CONFLICT (case_id, dimension, key)", "ON CONFLICT (case_id, dimension, key, shard)")
assert SHARDED.count("pg_backend_pid()") == 3 and SHARDED.count("key, shard)") == 3


def shard_counts(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SHARDED)


def one_row_per_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_first.FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_case_counts'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='casecount',
            name='casecount_key',
        ),
        migrations.AddField(
            model_name='casecount',
            name='shard',
            field=models.SmallIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name='casecount',
            constraint=models.UniqueConstraint(fields=('case', 'dimension', 'key', 'shard'), name='casecount_key'),
        ),
        # The function's upsert names the new key (ON CONFLICT needs its exact unique constraint).
        migrations.RunPython(shard_counts, one_row_per_key),
    ]
