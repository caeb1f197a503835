"""Keyset pages for HTML lists: no COUNT, no OFFSET, one query a page however long the list grows."""

from dataclasses import dataclass

PAGE_SIZE = 50


@dataclass
class Page:
    rows: list
    next_cursor: int | None  # pass as ?after=… (ascending) or ?before=… (descending) for the next page
    is_first: bool
    next_query: str = ""  # the query string of the next page, other parameters (filters) kept
    first_query: str = ""  # the query string of the first page, filters kept


def _cursor(request, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def keyset_page(request, queryset, *, newest_first: bool = True, size: int = PAGE_SIZE) -> Page:
    """Rows ordered by id; `?before=ID` (newest first) or `?after=ID` (oldest first) picks the page."""
    param = "before" if newest_first else "after"
    cursor = _cursor(request, param)
    if newest_first:
        queryset = queryset.order_by("-id")
        if cursor is not None:
            queryset = queryset.filter(id__lt=cursor)
    else:
        queryset = queryset.order_by("id")
        if cursor is not None:
            queryset = queryset.filter(id__gt=cursor)
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    page = Page(rows=rows, next_cursor=rows[-1].pk if more else None, is_first=cursor is None)
    first = request.GET.copy()
    first.pop(param, None)
    page.first_query = first.urlencode()
    if page.next_cursor is not None:
        query = request.GET.copy()
        query[param] = str(page.next_cursor)
        page.next_query = query.urlencode()
    return page
