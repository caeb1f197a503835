"""`{{ delta|in_words }}`: a timedelta as people say it ("15 minutes", "1 hour and 30 minutes")."""

from datetime import timedelta

from django import template

register = template.Library()


def _unit(count: int, name: str) -> str:
    return f"{count} {name}{'' if count == 1 else 's'}"


@register.filter
def in_words(delta: timedelta | None) -> str:
    if not isinstance(delta, timedelta):
        return "a while"
    minutes = max(1, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [_unit(n, name) for n, name in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
