"""Rows written in bulk without a model instance each: on PostgreSQL their ids drawn from the sequence in one
query and the rows sent in one COPY; elsewhere bulk_create. Used by approval for referrals, outbox rows and their
links (tens of thousands on an action day)."""

import io
import json
import uuid

from django.db import connection

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int | uuid.UUID):
        return str(value)
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    elif hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def insert(model, columns: tuple[str, ...], rows: list[tuple], *, now, ids: bool = False) -> list[int]:
    """Create `model` rows (values in `columns` order; every other field takes its default, auto_now fields `now`)
    and return their new ids in order when `ids`. PostgreSQL: the ids from the sequence in one query and the rows
    in one COPY, no model instance each; elsewhere bulk_create."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows],
                                            batch_size=500)
        return [obj.pk for obj in created] if ids else []
    meta, quote = model._meta, connection.ops.quote_name
    named = [meta.get_field(c) for c in columns]
    rest = [f for f in meta.concrete_fields if f.attname not in columns and not f.primary_key]
    tail = "\t".join(_copy_text(now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                                 else f.get_default() if f.has_default() or not f.null else None) for f in rest)
    new_ids: list[int] = []
    with connection.cursor() as cursor:
        if ids:
            cursor.execute("SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) q, "
                           "generate_series(1, %s)", [meta.db_table, meta.pk.column, len(rows)])
            new_ids = sorted(r[0] for r in cursor.fetchall())
            named.insert(0, meta.pk)
            rows = [(new_id, *row) for new_id, row in zip(new_ids, rows, strict=True)]
        text = "".join(["\t".join([_copy_text(v) for v in row] + [tail]) + "\n" for row in rows]) if rest else \
            "".join(["\t".join([_copy_text(v) for v in row]) + "\n" for row in rows])
        columns_sql = ", ".join(quote(f.column) for f in named + rest)
        cursor.cursor.copy_expert(f"COPY {quote(meta.db_table)} ({columns_sql}) FROM STDIN", io.StringIO(text),
                                  size=len(text) + 1)
    return new_ids
