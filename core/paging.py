"""Keyset pagination, written once: no COUNT, no OFFSET, one query a page however long the list grows.

A `Keyset` is an order of unique position (its last field is the primary key), e.g. ("-priority", "-id"). It turns
the last row of a page into an opaque cursor, reads a cursor back (anything malformed is the first page, never an
error), and filters a queryset to the rows after it. `keyset_page` does that for a page of an HTML list, keeping
the other query parameters (the filters) in its links. The triage queue and the case timeline use a Keyset
directly; the API's lists use DRF's CursorPagination (core/pagination.py), which is the same idea.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _encode_int(value) -> str:
    return str(value)


def _decode_int(raw: str):
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


def _encode_datetime(value) -> str:
    return str((value - _EPOCH) // _MICROSECOND)


def _decode_datetime(raw: str):
    return _EPOCH + _decode_int(raw) * _MICROSECOND


def _encode_uuid(value) -> str:
    return value.hex


def _decode_uuid(raw: str):
    return uuid.UUID(hex=raw)


def _encode_bool(value) -> str:
    return "1" if value else "0"


def _decode_bool(raw: str):
    if raw not in ("0", "1"):
        raise ValueError(raw)
    return raw == "1"


KINDS = {"int": (_encode_int, _decode_int), "datetime": (_encode_datetime, _decode_datetime),
         "uuid": (_encode_uuid, _decode_uuid), "bool": (_encode_bool, _decode_bool)}


class Keyset:
    """An order like ("-created_at", "-id") with the kind of each field's value ("int", "datetime", "uuid")."""

    def __init__(self, *order: str, kinds: tuple[str, ...] | None = None):
        self.order = order
        self.fields = tuple(name.lstrip("-") for name in order)
        self.descending = tuple(name.startswith("-") for name in order)
        self.kinds = kinds or ("int",) * len(order)

    def values(self, row) -> tuple:
        """The position of a row: a tuple whose first fields are the keyset's, a dict of values, or an instance."""
        if isinstance(row, dict):
            return tuple(row[name] for name in self.fields)
        return tuple(row[i] if isinstance(row, tuple) else getattr(row, name) for i, name in enumerate(self.fields))

    def encode(self, values: tuple) -> str:
        return ".".join(KINDS[kind][0](value) for kind, value in zip(self.kinds, values, strict=True))

    def decode(self, raw: str | None) -> tuple | None:
        parts = (raw or "").strip().split(".")
        if len(parts) != len(self.fields):
            return None
        try:
            return tuple(KINDS[kind][1](part) for kind, part in zip(self.kinds, parts, strict=True))
        except (ValueError, OverflowError):
            return None

    def after(self, queryset, values: tuple):
        """The rows of `queryset` strictly after `values` in this order."""
        if len(self.fields) > 1 and len(set(self.descending)) == 1 and self.kinds == ("int",) * len(self.fields):
            # A row comparison, so PostgreSQL starts the index scan at the cursor instead of filtering up to it.
            meta = queryset.model._meta
            table = connection.ops.quote_name(meta.db_table)
            columns = ", ".join(f"{table}.{connection.ops.quote_name(meta.get_field(f).column)}" for f in self.fields)
            operator = "<" if self.descending[0] else ">"
            placeholders = ", ".join(["%s"] * len(values))
            return queryset.filter(RawSQL(f"({columns}) {operator} ({placeholders})", values,  # noqa: S611
                                          output_field=BooleanField()))  # (names from _meta, values as parameters)
        condition = Q()
        for i, name in enumerate(self.fields):
            step = Q(**{f"{name}__{'lt' if self.descending[i] else 'gt'}": values[i]})
            for earlier in range(i):
                step &= Q(**{self.fields[earlier]: values[earlier]})
            condition |= step
        return queryset.filter(condition)


NEWEST_FIRST = Keyset("-id")
OLDEST_FIRST = Keyset("id")


@dataclass
class Page:
    rows: list
    next_cursor: str | None  # pass as ?before=… (a descending order) or ?after=… (ascending) for the next page
    is_first: bool
    next_query: str = ""  # the query string of the next page, other parameters (filters) kept
    first_query: str = ""  # the query string of the first page, filters kept


def keyset_page(request, queryset, *, newest_first: bool = True, keyset: Keyset | None = None,
                size: int = PAGE_SIZE) -> Page:
    """One page of `queryset` in `keyset`'s order (by default by id, newest or oldest first); the cursor comes from
    `?before=` for a descending order and `?after=` for an ascending one."""
    keyset = keyset or (NEWEST_FIRST if newest_first else OLDEST_FIRST)
    param = "before" if keyset.descending[0] else "after"
    cursor = keyset.decode(request.GET.get(param, ""))
    queryset = queryset.order_by(*keyset.order)
    if cursor is not None:
        queryset = keyset.after(queryset, cursor)
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    page = Page(rows=rows, next_cursor=keyset.encode(keyset.values(rows[-1])) if more else None,
                is_first=cursor is None)
    first = request.GET.copy()
    first.pop(param, None)
    page.first_query = first.urlencode()
    if page.next_cursor is not None:
        query = request.GET.copy()
        query[param] = page.next_cursor
        page.next_query = query.urlencode()
    return page
