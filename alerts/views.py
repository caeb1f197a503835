"""Alerts: what a supervisor must look at now (a dead letter, a contact point disabled after 410 Gone)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from alerts import actions as alert_actions
from alerts.models import Alert
from core.access import role_required, show_domain_error
from core.errors import DomainError
from core.paging import keyset_page
from core.roles import ADMINS, ALERT_HANDLERS, has_role
from platforms import services as platform_services

ALERT_READERS = ALERT_HANDLERS
KINDS = {
    "delivery_stopped": "Delivery stopped",
    "delivery_failed": "Delivery failed",
    "contact_point_disabled": "Contact point disabled",
}


def unresolved_alerts():
    """Open alerts with their contact point and platform (never the contact point's secrets)."""
    return (
        Alert.objects.filter(resolved_at__isnull=True)
        .select_related("contact_point", "contact_point__platform")
        .defer("contact_point__secret", "contact_point__previous_secret")
    )


@require_safe
@role_required(*ALERT_READERS)
def alert_list(request):
    page = keyset_page(request, unresolved_alerts())
    for alert in page.rows:
        alert.kind_label = KINDS.get(alert.kind, alert.kind.replace("_", " ").capitalize())
    context = {"page": page, "can_enable": has_role(request.user, ADMINS)}
    return render(request, "referral/alerts.html", context)


@require_POST
@role_required(*ALERT_READERS)
def alert_resolve(request, pk: int):
    try:
        alert_actions.alert_resolve(actor=request.user, alert_id=pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"Alert {pk} resolved.")
    return redirect("alert-list")


@require_POST
@role_required(*ADMINS)
def contact_point_enable(request, pk: int):
    """After the platform fixed its endpoint: the contact point receives referrals again (the alert stays until
    someone resolves it; its stopped deliveries wait for a supervisor's re-drive)."""
    try:
        cp = platform_services.contact_point_enable(actor=request.user, contact_point_id=pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, f"{cp.platform.name}'s {cp.get_channel_display().lower()} contact point "
                                  f"{cp.endpoint} is enabled again.")
    return redirect("alert-list")
