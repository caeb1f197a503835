"""`duration`: a timedelta as a person reads it in the liveness panel ("45 s", "30 min", "6 h 5 min", "2 d 3 h")."""

from django import template

register = template.Library()


@register.filter
def duration(value) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    sign, seconds = ("−", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d" + (f" {hours} h" if hours else "")
    elif hours:
        text = f"{hours} h" + (f" {minutes} min" if minutes else "")
    elif minutes:
        text = f"{minutes} min"
    else:
        text = f"{secs} s"
    return sign + text
