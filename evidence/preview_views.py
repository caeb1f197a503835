"""The blurred preview of an image evidence (referral/evidence_preview.py), for the unit's staff.

Not a consultation: nothing of the picture can be made out, so it writes no "evidence.viewed" event. Revealing
loads the file itself from `evidence-file`, which does.
"""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from cases import selectors
from core.access import UNIT_STAFF, role_required
from core.errors import InvalidInput
from evidence import preview
from evidence.models import Evidence


@require_safe
@role_required(*UNIT_STAFF)
def evidence_preview(request, pk: int):
    ev = get_object_or_404(Evidence.objects.filter(item__in=selectors.items_for(request.user).values("pk")), pk=pk)
    if not preview.has_preview(ev.mime):
        raise Http404("This evidence has no preview.")
    try:
        with ev.file.open("rb") as handle:
            data = preview.blurred(handle, ev.mime)
    except (FileNotFoundError, OSError) as exc:
        raise Http404("The stored file is missing.") from exc
    except InvalidInput as exc:
        raise Http404("No preview can be made of this file.") from exc
    response = HttpResponse(data, content_type=preview.CONTENT_TYPE)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response
