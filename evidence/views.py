"""Evidence pages: upload to an item, the item's evidence page, serving files (audited), preview preferences."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_safe

from cases import selectors as case_selectors
from core.access import LOGGERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from evidence import actions as service
from evidence.models import Evidence


def _back(request, item) -> str:
    """Where the upload form came from (same site only), or the item's row in its case."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer.split("#", 1)[0] + f"#evidence-{item.pk}"
    return reverse("case-detail", args=[item.case_id]) + f"#item-{item.pk}"


def _describe(match) -> str:
    if match.match == "sha256":
        how = "the same file (SHA-256)"
    else:
        how = f"a near-identical picture (PDQ distance {match.distance})"
    return f"Seen before in case {match.case}, item {match.item}: {how}, evidence {match.evidence}."


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def item_evidence(request, pk: int):
    """GET: the item's evidence panel on a page of its own. POST: attach a file (analysts and supervisors)."""
    item = get_object_or_404(case_selectors.items_for(request.user).prefetch_related(None), pk=pk)
    if request.method != "POST":
        return render(request, "referral/evidence_page.html", {"item": item})
    if request.user.role not in LOGGERS:
        raise PermissionDenied("Only analysts and supervisors may attach evidence.")
    try:
        added = service.evidence_add(actor=request.user, item_id=item.pk, upload=request.FILES.get("file"))
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        ev = added.evidence
        messages.success(request, f"Evidence {ev.pk} “{ev.original_name}” added to item {item.pk} "
                                  f"({ev.mime}, SHA-256 {ev.sha256[:12]}…).")
        for match in added.seen_before:
            messages.warning(request, _describe(match))
    return redirect(_back(request, item))


@require_safe
@role_required(*UNIT_STAFF)
def evidence_file(request, pk: int):
    """The file itself, for the unit's staff only, every time logged as an "evidence.viewed" event.

    Images and video may be shown inline (previews); everything else (PDF, saved HTML) is only ever an
    attachment, and every response is sandboxed and must not be sniffed into something else.
    """
    ev = get_object_or_404(Evidence.objects.filter(item__in=case_selectors.items_for(request.user).values("pk")), pk=pk)
    inline = service.is_previewable(ev.mime) and request.GET.get("download") != "1"
    try:
        handle = ev.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("The stored file is missing.") from exc
    service.record_view(actor=request.user, evidence=ev, disposition="inline" if inline else "attachment")
    response = FileResponse(handle, content_type=ev.mime, as_attachment=not inline, filename=ev.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


class PreferencesForm(forms.Form):
    reveal_previews = forms.BooleanField(
        required=False, label="Show evidence previews unblurred",
        help_text="Off by default: images and video are shown blurred and in greyscale until you reveal each one.",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def preferences(request):
    user = request.user
    form = PreferencesForm(initial={"reveal_previews": user.reveal_previews})
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            user.reveal_previews = form.cleaned_data["reveal_previews"]
            user.save(update_fields=["reveal_previews"])
            state = "shown unblurred" if user.reveal_previews else "blurred until you reveal them"
            messages.success(request, f"Preferences saved: evidence previews are {state}.")
            return redirect("preferences")
    return render(request, "referral/preferences.html", {"form": form})
