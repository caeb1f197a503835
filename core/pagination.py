"""The API's pages: DRF's cursor pagination (newest first) and, for orders of several fields, a keyset page with
the same answer's shape ({"next", "previous", "results"}; core/paging.py Keyset)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.paging import Keyset


def invalid_cursor() -> ValidationError:
    """A cursor we did not make (tampered, truncated, from another list): the client's error, 400 naming it."""
    return ValidationError({"cursor": ["Invalid cursor: use the `next` or `previous` link of a page as it is."]})


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pagination, newest first: stable under inserts and cheap at any depth. A cursor that is not one we
    made, or whose position is not a value of the ordering field, is a 400 naming `cursor`, never a 500."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:  # DRF's answer to a cursor it cannot read
            raise invalid_cursor() from exc

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DataError, DjangoValidationError) as exc:
            raise invalid_cursor() from exc


class KeysetPagination(BasePagination):
    """Pages of a queryset in `keyset`'s order, forward only: `?cursor=` is the last row's position (opaque; one we
    did not make is a 400), `previous` is the first page's link once past it. Same sizes as above."""

    cursor_query_param = "cursor"
    page_size = NewestFirstCursorPagination.page_size
    max_page_size = NewestFirstCursorPagination.max_page_size

    def __init__(self, keyset: Keyset):
        self.keyset = keyset

    def _size(self, request) -> int:
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            return self.page_size
        return min(max(size, 1), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self._size(request)
        raw = request.query_params.get(self.cursor_query_param)
        cursor = self.keyset.decode(raw)
        if raw and cursor is None:
            raise invalid_cursor()
        queryset = queryset.order_by(*self.keyset.order)
        if cursor is not None:
            queryset = self.keyset.after(queryset, cursor)
        rows = list(queryset[: size + 1])
        self.more = len(rows) > size
        rows = rows[:size]
        self.next_cursor = self.keyset.encode(self.keyset.values(rows[-1])) if self.more else None
        self.is_first = cursor is None
        return rows

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        next_url = replace_query_param(url, self.cursor_query_param, self.next_cursor) if self.next_cursor else None
        previous = None if self.is_first else remove_query_param(url, self.cursor_query_param)
        return Response({"next": next_url, "previous": previous, "results": data})

    def get_paginated_response_schema(self, schema):
        return CursorPagination().get_paginated_response_schema(schema)

