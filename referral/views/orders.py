"""The removal order form (/items/<id>/order/): a supervisor sees the order as Annex I will have it (the unit's
authority, the platform's legal directory, the item's URL and grounds, whether the platform had its first-order
notice) and gives the rest; the approval goes through the same service as the API's."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from cases.models import Item, ItemStatus
from core.access import role_required
from core.errors import Conflict, DomainError, InvalidInput
from core.roles import DECIDERS
from platforms.models import PlatformLegal
from referral.actions import approval, orders
from referral.forms import OrderForm
from referral.models import Instrument


def _preview(item: Item) -> dict:
    """What the order will say that the supervisor does not type, and what stands in its way."""
    try:
        authority, missing_authority = orders.check_authority(), ""
    except Conflict as exc:
        authority, missing_authority = None, exc.message
    legal = PlatformLegal.objects.filter(platform_id=item.platform_id).first() if item.platform_id else None
    return {"authority": authority, "missing_authority": missing_authority, "legal": legal,
            "first_order_waits": legal is None or legal.pre_information_sent_at is None,
            "cross_border": bool(authority and legal and legal.main_establishment
                                 and legal.main_establishment != authority["member_state"])}


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*DECIDERS)
def item_order(request, pk: int):
    item = get_object_or_404(Item.objects.select_related("platform", "proposed_by", "case"), pk=pk)
    if item.status != ItemStatus.PROPOSED:
        raise Http404("Only a proposed item can become a removal order.")
    form = OrderForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            approved = approval.item_approve(actor=request.user, item_id=item.pk,
                                             instrument=Instrument.REMOVAL_ORDER, order=form.order())
        except InvalidInput as exc:
            for field, errors in (exc.field_errors.get("order") or {}).items():
                form.add_error(field if field in form.fields else None, errors)
            if not form.errors:
                form.add_error(None, exc.message)
            status = 400
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = exc.status_code
        else:
            referral = approved.referrals.get()
            messages.success(request, f"Removal order issued for item {item.pk}; it is queued for delivery.")
            return redirect("referral-order", referral.pk)
    elif request.method == "POST":
        status = 400
    return render(request, "referral/order_form.html", {"item": item, "form": form, **_preview(item)},
                  status=status)
