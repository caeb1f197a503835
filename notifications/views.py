"""The notification centre: /notifications/ (a person's own, newest first), the header's live count
(/notifications/count/, polled by htmx), marking read, and the email preference."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.access import REFERRAL_READERS, UNIT_STAFF, role_required, show_domain_error
from core.errors import DomainError
from core.paging import keyset_page
from notifications import actions, selectors

EVERYONE = REFERRAL_READERS  # every role may have notifications (liaisons: of their own platform only)
STOP_POLLING = 286  # htmx stops polling on this status: a signed-out page asks no more


@require_safe
def notification_count(request):
    """The header's link with the unread count: one indexed COUNT (capped). Signed out, the link without a count,
    and htmx stops polling."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        html = render_to_string("notifications/_count.html", {"signed_out": True}, request=request)
        return HttpResponse(html, status=STOP_POLLING)
    response = render(request, "notifications/_count.html", selectors.header_count(user))
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@role_required(*EVERYONE)
def notification_list(request):
    page = keyset_page(request, selectors.notifications_for(request.user))
    for notification in page.rows:
        notification.link = selectors.link_for(notification.object_type, notification.object_id)
    here = request.get_full_path()
    return render(request, "notifications/list.html", {"page": page, "here": here,
                                                       "any_unread": any(n.read_at is None for n in page.rows)})


def _back(request) -> str:
    """The list page the form was on (its cursor kept), or the first page."""
    target = request.POST.get("next", "")
    if target.startswith(reverse("notification-list")) and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("notification-list")


@require_POST
@role_required(*EVERYONE)
def notification_read(request, pk: int):
    try:
        actions.notification_mark_read(actor=request.user, notification_id=pk)
    except DomainError as exc:
        show_domain_error(request, exc)
    return redirect(_back(request))


@require_POST
@role_required(*EVERYONE)
def notifications_read_all(request):
    done = actions.notifications_mark_all_read(actor=request.user)
    messages.success(request, f"{done} notification{'s' if done != 1 else ''} marked read.")
    return redirect(_back(request))


class PreferencesForm(forms.Form):
    email_urgent_notifications = forms.BooleanField(
        required=False, label="Email me urgent notifications",
        help_text="Threats to life, removal orders past their hour and dead letters, also sent to your email address.",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*UNIT_STAFF)
def notification_preferences(request):
    user = request.user
    form = PreferencesForm(initial={"email_urgent_notifications": user.email_urgent_notifications})
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                actions.notification_preferences_set(actor=user,
                                                     email_urgent=form.cleaned_data["email_urgent_notifications"])
            except DomainError as exc:
                show_domain_error(request, exc, form)
            else:
                state = "emailed to you as well" if user.email_urgent_notifications else "shown here only"
                messages.success(request, f"Preferences saved: urgent notifications are {state}.")
                return redirect("notification-preferences")
    return render(request, "notifications/preferences.html", {"form": form})
