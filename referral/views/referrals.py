"""Referrals: the unit sees all of them, a platform liaison only their own platform's (others are 404)."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from core.access import REFERRAL_READERS, role_required
from core.paging import keyset_page
from referral import selectors as referral_selectors
from referral.forms import ReferralFilterForm


@require_safe
@role_required(*REFERRAL_READERS)
def referral_list(request):
    referrals = referral_selectors.referrals_for(request.user)
    filters = ReferralFilterForm(request.GET)
    if filters.is_valid() and filters.cleaned_data["status"]:
        referrals = referrals.filter(status=filters.cleaned_data["status"])
    page = keyset_page(request, referrals)
    context = {"page": page, "filters": filters}
    return render(request, "referral/referral_list.html", context)


@require_safe
@role_required(*REFERRAL_READERS)
def referral_detail(request, pk: int):
    referral = get_object_or_404(referral_selectors.referrals_for(request.user).select_related("approved_by"), pk=pk)
    # The contact point's signing secrets are never shown: leave them in the database. The payload bytes are
    # not shown either (the attempts carry their SHA-256).
    deliveries = referral_selectors.deliveries_with_attempts(referral).defer(
        "payload", "contact_point__secret", "contact_point__previous_secret"
    )
    context = {
        "referral": referral,
        "deliveries": deliveries,
        "is_unit_staff": request.user.is_unit_staff,
    }
    return render(request, "referral/referral_detail.html", context)
