"""The referral page's reminder button (supervisors): the liveness panel posts here with htmx and is swapped for
the panel as it now stands, the outcome said in it; without JavaScript the form posts and the page comes back
with a message. The service checks the role and the referral again."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.access import role_required, show_domain_error
from core.errors import DomainError
from core.roles import DECIDERS
from liveness import actions
from liveness.selectors import liveness_panel
from referral.models import Referral


@require_POST
@role_required(*DECIDERS)
def referral_remind(request, pk: int):
    referral = get_object_or_404(Referral, pk=pk)
    note, ok = "", True
    try:
        actions.referral_remind(actor=request.user, referral_id=pk, message=request.POST.get("message", ""))
    except DomainError as exc:
        ok = False
        note = exc.message
        if not request.headers.get("HX-Request"):
            show_domain_error(request, exc)
    else:
        note = f"The platform is being reminded of referral {pk}."
        if not request.headers.get("HX-Request"):
            messages.success(request, note)
    if not request.headers.get("HX-Request"):
        return redirect("referral-detail", pk=pk)
    return render(request, "liveness/_panel.html", {"liveness": liveness_panel(referral), "reminder_note": note,
                                                    "reminder_ok": ok})
