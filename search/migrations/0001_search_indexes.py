"""The search's indexes on the cases and referral tables (search/selectors.py says which query uses which).

PostgreSQL only, built CONCURRENTLY (no lock against writes on a full items table): SQLite, the embedded database
of `make run`, searches words with LIKE and needs none of them.

- case_title_trgm_idx: trigram GIN on UPPER(title), for `title__icontains` (Django's `UPPER(title::text) LIKE …`).
- item_notes_fts_idx: full-text GIN on the notes' words ('simple': no language, no stemming). Not partial, though
  most items have no notes (their entry is GIN's one "empty" key, cheap on a bulk import): the planner reads an
  expression's statistics only from a whole-table index, and needs them to choose between this index (a rare
  word) and walking the items newest first (a word in most notes: the first 20 come within a few hundred rows,
  where fetching every match from the index would read 100,000s).
- referral_platform_ref_idx: B-tree on UPPER(platform_reference) (`platform_reference__iexact`), only of referrals
  that have one.
"""

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """RunSQL on PostgreSQL; nothing on any other database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def index(name: str, definition: str) -> PostgreSQLOnly:
    return PostgreSQLOnly(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}",
                          f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("cases", "0001_initial"),
        ("referral", "0001_initial"),
    ]

    operations = [
        PostgreSQLOnly("CREATE EXTENSION IF NOT EXISTS pg_trgm", migrations.RunSQL.noop),
        index("case_title_trgm_idx", "ON cases_case USING gin (UPPER(title) gin_trgm_ops)"),
        index("item_notes_fts_idx",
              "ON cases_item USING gin (to_tsvector('simple'::regconfig, notes))"),
        index("referral_platform_ref_idx",
              "ON referral_referral (UPPER(platform_reference)) WHERE platform_reference <> ''"),
    ]
