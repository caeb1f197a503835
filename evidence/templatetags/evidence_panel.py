"""What the evidence panel partial needs beyond `item` and `user`: the rows, their matches, what is revealed."""

from django import template

from core.roles import LOGGERS
from evidence import actions as service
from evidence.models import Evidence

register = template.Library()

UPLOADERS = LOGGERS


def _wanted(request, name: str) -> set[str]:
    return set(request.GET.getlist(name)) if request is not None else set()


@register.simple_tag(takes_context=True)
def evidence_panel_for(context, item) -> dict:
    """The item's evidence with seen-before matches (3 queries), and whether each preview starts blurred.

    Previews are blurred unless the user's preference says otherwise; `?reveal=<evidence id>` (or `all`)
    reveals one (the no-JS fallback of the Reveal button), `?blur=<evidence id>` blurs it again.
    """
    user = context.get("user")
    request = context.get("request")
    rows = list(Evidence.objects.filter(item_id=item.pk).select_related("uploaded_by").order_by("id"))
    matches = service.seen_before_many(rows)
    reveal, blur = _wanted(request, "reveal"), _wanted(request, "blur")
    default_revealed = bool(getattr(user, "reveal_previews", False))
    panel_rows = []
    for ev in rows:
        key = str(ev.pk)
        revealed = (default_revealed or key in reveal or "all" in reveal) and key not in blur
        preview = "image" if ev.mime.startswith("image/") else "video" if ev.mime.startswith("video/") else ""
        panel_rows.append({
            "evidence": ev,
            "matches": [{**m.as_dict(), "earlier": m.evidence < ev.pk} for m in matches.get(ev.pk, [])],
            "preview": preview,
            "revealed": revealed,
        })
    allowed = service.allowed_types()
    accept = sorted({ext for mime in allowed for ext in service.EXTENSIONS.get(mime, ())})
    return {
        "rows": panel_rows,
        "can_upload": getattr(user, "role", None) in UPLOADERS,
        "accept": ",".join(accept),
        "max_mb": f"{service.max_bytes() / (1024 * 1024):g}",
    }
