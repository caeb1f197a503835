"""The referral page's and the referral list's forms: withdraw (supervisors), answer a platform's question
(analysts and supervisors). The services check the role and the referral's status again."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.access import role_required, show_domain_error
from core.errors import DomainError
from core.roles import DECIDERS, TRIAGERS
from referral.actions import withdrawal
from referral.forms import BulkWithdrawForm, ClarifyForm, WithdrawForm


def _form_problems(form) -> str:
    return " ".join(" ".join(errors) for errors in form.errors.values())


def _on_referral_page(request, pk: int, form, act, *, refused: str, done: str):
    """One form of the referral page: `act(cleaned data)` when the form is valid; the outcome as a message, and
    back to the page."""
    if not form.is_valid():
        messages.error(request, f"{refused} {_form_problems(form)}")
        return redirect("referral-detail", pk=pk)
    try:
        act(form.cleaned_data)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, done)
    return redirect("referral-detail", pk=pk)


@require_POST
@role_required(*DECIDERS)
def referral_withdraw(request, pk: int):
    return _on_referral_page(
        request, pk, WithdrawForm(request.POST),
        lambda data: withdrawal.referral_withdraw(actor=request.user, referral_id=pk, reason=data["reason"]),
        refused=f"Referral {pk} was not withdrawn.", done=f"Referral {pk} withdrawn; the platform is being told.")


@require_POST
@role_required(*TRIAGERS)
def referral_clarify(request, pk: int):
    return _on_referral_page(
        request, pk, ClarifyForm(request.POST),
        lambda data: withdrawal.referral_clarify(actor=request.user, referral_id=pk, message=data["message"]),
        refused="Nothing was sent.", done=f"Your answer on referral {pk} is being sent to the platform.")


@require_POST
@role_required(*DECIDERS)
def referrals_bulk_withdraw(request):
    form = BulkWithdrawForm(request.POST)
    back = request.POST.get("next", "")
    if not form.is_valid():
        messages.error(request, f"Nothing was withdrawn. {_form_problems(form)}")
    else:
        try:
            result = withdrawal.referrals_withdraw_many(actor=request.user, referral_ids=form.cleaned_data["referrals"],
                                                        reason=form.cleaned_data["reason"])
        except DomainError as exc:
            show_domain_error(request, exc)
        else:
            if result["withdrawn"]:
                listed = ", ".join(map(str, result["withdrawn"][:50]))
                messages.success(request, f"{len(result['withdrawn'])} referral(s) withdrawn: {listed}. "
                                          "The platforms are being told.")
            for error in result["errors"][:20]:
                messages.warning(request, error["detail"])
    # Back to the same page of the list (filters and cursor kept): the query string re-encoded, never a location.
    query = QueryDict(back).urlencode()
    return redirect(f"{reverse('referral-list')}?{query}" if query else reverse("referral-list"))
