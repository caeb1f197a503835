"""Deliveries that need a person: the dead letters a supervisor re-drives, and the web-form submissions
(manual channel) an analyst makes by hand and closes with the platform's ticket number."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from core.access import UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.paging import Keyset, keyset_page
from core.roles import MANUAL_SUBMITTERS, SUPERVISORS, has_role
from referral import selectors as referral_selectors
from referral.models import DeliveryStatus, Referral
from referral.outbox import actions as outbox_actions

DEAD = (DeliveryStatus.FAILED, DeliveryStatus.STOPPED)
MANUAL_WORKERS = MANUAL_SUBMITTERS


class ManualSubmittedForm(forms.Form):
    ticket = forms.CharField(
        label="Platform ticket number", max_length=200,
        help_text="The number or reference the platform's form gave back once the report was submitted.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


# Delivery ids are random UUIDs, so they cannot order a list: pages run over (created_at, id).
NEWEST_DELIVERY_FIRST = Keyset("-created_at", "-id", kinds=("datetime", "uuid"))
OLDEST_DELIVERY_FIRST = Keyset("created_at", "id", kinds=("datetime", "uuid"))


def _deliveries(user):
    """The outbox rows a page lists, with platform and referral ids, never a contact point's secrets."""
    return (
        referral_selectors.deliveries_for(user)
        .prefetch_related(None)  # the attempts are on each referral's page, not in these lists
        .prefetch_related(Prefetch("referrals", queryset=Referral.objects.only("id", "instrument").order_by("id")))
        .defer("contact_point__secret", "contact_point__previous_secret")
    )


# --- Dead letters ---------------------------------------------------------------------------------------


@require_safe
@role_required(*UNIT_STAFF)
def dead_letters(request):
    """Failed and stopped deliveries, newest first; supervisors re-drive them, analysts and admins only look."""
    page = keyset_page(request, _deliveries(request.user).filter(status__in=DEAD), keyset=NEWEST_DELIVERY_FIRST)
    context = {"page": page, "can_redrive": has_role(request.user, SUPERVISORS)}
    return render(request, "referral/dead_letters.html", context)


@require_POST
@role_required(*SUPERVISORS)
def delivery_redrive(request, pk):
    try:
        outbox_actions.delivery_redrive(actor=request.user, delivery_id=pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Delivery {pk} re-driven: it is pending again and its referrals are queued.")
    return redirect("dead-letters")


# --- Manual submission tasks ----------------------------------------------------------------------------


def _form_url(endpoint: str) -> str:
    """The platform's web form, as a link only when it is an http(s) URL (never javascript: or data:)."""
    return endpoint if urlsplit(endpoint).scheme in ("http", "https") else ""


def _render_manual_tasks(request, bound_pk=None, bound_form=None):
    deliveries = (
        _deliveries(request.user)
        .filter(status=DeliveryStatus.MANUAL)
        .defer(None)  # the prepared text is the point of this page ...
        .defer("contact_point__secret", "contact_point__previous_secret")  # ... the secrets never are
    )
    page = keyset_page(request, deliveries, keyset=OLDEST_DELIVERY_FIRST)  # a queue: oldest task first
    rows = []
    for delivery in page.rows:
        form = bound_form if delivery.pk == bound_pk else ManualSubmittedForm(prefix=str(delivery.pk))
        rows.append({
            "delivery": delivery,
            "text": bytes(delivery.payload or b"").decode("utf-8", errors="replace"),
            "form_url": _form_url(delivery.contact_point.endpoint),
            "form": form,
        })
    context = {"page": page, "rows": rows, "query": request.GET.urlencode()}
    return render(request, "referral/manual_tasks.html", context)


@require_safe
@role_required(*MANUAL_WORKERS)
def manual_tasks(request):
    """Deliveries waiting for a person to submit them through the platform's web form, oldest first."""
    return _render_manual_tasks(request)


@require_POST
@role_required(*MANUAL_WORKERS)
def delivery_manual_submitted(request, pk):
    """Record the platform's ticket number: the delivery is sent, its referrals carry the ticket as reference."""
    form = ManualSubmittedForm(request.POST, prefix=str(pk))
    if form.is_valid():
        try:
            outbox_actions.delivery_complete_manual(actor=request.user, delivery_id=pk,
                                                    ticket=form.cleaned_data["ticket"])
        except DomainError as exc:
            show_domain_error(request, exc, form)
            if not form.errors:  # not about the ticket (someone else closed the task): the list has moved on
                return redirect(_manual_tasks_url(request))
        else:
            ticket = form.cleaned_data["ticket"]
            messages.success(request, f"Delivery {pk} marked submitted with platform ticket {ticket}.")
            return redirect(_manual_tasks_url(request))
    problems = " ".join(
        f"{form[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
        for name, errors in form.errors.items()
    )
    messages.error(request, f"Delivery {pk} was not marked submitted. {problems}")
    return _render_manual_tasks(request, bound_pk=pk, bound_form=form)


def _manual_tasks_url(request) -> str:
    """Back to the page of the list the form was on (only its query string is carried over)."""
    query = request.GET.urlencode()
    return f"{reverse('manual-tasks')}?{query}" if query else reverse("manual-tasks")
