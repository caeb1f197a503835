"""What a list page prints in its cells, worked out in Python once per row.

A 50-row page's rendering is most of its cost, and an `{% include %}`, `{% url %}` or date filter per cell
multiplies it. The views build their rows with these instead; each writes exactly what its template twin writes
(templates/_time.html, templates/_status.html, `{% url %}`), which tests/web/test_table_cells.py checks. Numbers
go to the templates as str: a template localises every int it prints, which costs more than the rest of the cell.
"""

from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeData, SafeString, mark_safe

NONE = mark_safe('<span class="none">—</span>')  # noqa: S308  (a constant)
_SENTINEL = 918273645


def time_html(dt, tz=None) -> SafeString:
    """templates/_time.html: `<time datetime="…">YYYY-MM-DD HH:MM TZ</time>` in the current time zone (or `tz`,
    which a caller formatting many passes once), or a dash."""
    if not dt:
        return NONE
    local = dt.astimezone(tz or timezone.get_current_timezone())
    return mark_safe(  # noqa: S308  (an ISO date, digits and the zone's name, escaped)
        f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M} {escape(local.tzname() or "")}</time>'
    )


def status_html(value: str, label: str) -> SafeString:
    """templates/_status.html."""
    return mark_safe(f'<span class="status status-{escape(value)}">{escape(label)}</span>')  # noqa: S308  (escaped)


def href_format(url_name: str) -> str:
    """The path of `url_name` for one integer argument, as a str.format pattern: reverse() once per page instead
    of once per row. `href_format("item-detail").format(7)` == reverse("item-detail", args=[7])."""
    path = reverse(url_name, args=[_SENTINEL])
    return path.replace("{", "{{").replace("}", "}}").replace(str(_SENTINEL), "{}")


def html_row(markup: str, values: dict) -> SafeString:
    """`markup` (str.format fields) filled with `values`, every value escaped except a SafeString (HTML already).

    For a list's row, written once beside the view that fills it: one format per row costs a fraction of a
    template's {{ }} per cell (a page of 50 rows prints over a thousand cells)."""
    return mark_safe(markup.format_map(  # noqa: S308  (every value escaped unless already safe)
        {key: value if isinstance(value, SafeData) else escape(str(value)) for key, value in values.items()}))
