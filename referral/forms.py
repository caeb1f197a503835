"""Forms of the review and referral pages."""

from datetime import datetime, time

from django import forms
from django.utils import timezone

from cases.forms import ItemIdsField, TriageChoices
from cases.models import Category, ItemKind
from referral.models import Instrument, ReferralStatus


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label="Reason for returning it (the analyst reads this)", widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label="Reason for rejecting it", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=5000)


class ApproveForm(forms.Form):
    instrument = forms.ChoiceField(choices=Instrument.choices, initial=Instrument.REFERRAL)
    statement_of_reasons = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
                                           label="Statement of reasons (removal orders)")


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status")] + ReferralStatus.choices, required=False)



# --- Review at action-day scale --------------------------------------------------------------------------

DECISIONS = [("approve", "Approve"), ("return", "Return to the analyst"), ("reject", "Reject")]


class ReviewFilterForm(forms.Form):
    """Review's filters. `filters()` is JSON (a ReviewJob keeps it) and what cases.selectors.review_filtered reads."""

    platform = forms.ChoiceField(required=False)
    case = forms.IntegerField(required=False, min_value=1, label="Case number")
    category = forms.ChoiceField(choices=[("", "Any category")] + list(Category.choices), required=False)
    group = forms.ChoiceField(required=False, label="Group / organisation")
    kind = forms.ChoiceField(choices=[("", "Any kind")] + list(ItemKind.choices), required=False)
    proposer = forms.ChoiceField(required=False, label="Proposed by")
    proposed_after = forms.DateField(required=False, label="Proposed on or after",
                                     widget=forms.DateInput(attrs={"type": "date"}))
    proposed_before = forms.DateField(required=False, label="Proposed before",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    duplicates = forms.ChoiceField(
        choices=[("", "Originals and duplicates"), ("originals", "Originals only"),
                 ("duplicates", "Duplicates only")], required=False, label="Duplicates",
    )
    has_evidence = forms.BooleanField(required=False, label="Has evidence")

    def __init__(self, *args, choices: TriageChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = lambda: [("", "Any platform"), ("none", "No platform matched")] + \
            choices.platforms
        self.fields["group"].choices = lambda: [("", "Any group")] + choices.groups
        self.fields["proposer"].choices = lambda: [("", "Anyone")] + choices.people

    def filters(self) -> dict:
        data = self.cleaned_data
        platform = data.get("platform") or None
        return {
            "platform": platform if platform in (None, "none") else int(platform),
            "case": data.get("case"),
            "category": data.get("category") or "",
            "group": int(data["group"]) if data.get("group") else None,
            "kind": data.get("kind") or "",
            "proposer": int(data["proposer"]) if data.get("proposer") else None,
            "proposed_after": _day_start(data.get("proposed_after")),
            "proposed_before": _day_start(data.get("proposed_before")),
            "duplicates": data.get("duplicates") or "",
            "has_evidence": bool(data.get("has_evidence")),
        }


def _day_start(day) -> str | None:
    """The start of `day` in the current time zone, as ISO text (JSON for a ReviewJob)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min)).isoformat()


class ReviewDecisionForm(forms.Form):
    """Review's action bar: the checked rows (or the one row whose button was pressed), the decision, and what it
    needs: the instrument for an approval, a reason for a return or a rejection."""

    items = ItemIdsField(required=False)
    action = forms.ChoiceField(choices=DECISIONS)
    instrument = forms.ChoiceField(choices=Instrument.choices, initial=Instrument.REFERRAL, required=False,
                                   label="Instrument (approvals)")
    reason = forms.CharField(required=False, max_length=5000, label="Reason (returns and rejections)",
                             help_text="For removal orders: the statement of reasons. The selected URLs of one "
                                       "platform become one order.",
                             widget=forms.Textarea(attrs={"rows": 1}))

    def clean(self):
        data = super().clean()
        if data.get("action") == "approve" and not data.get("instrument"):
            data["instrument"] = Instrument.REFERRAL
        if (data.get("action") == "approve" and data.get("instrument") == Instrument.REMOVAL_ORDER
                and not (data.get("reason") or "").strip()):
            self.add_error("reason", "A removal order needs a statement of reasons (Annex I, section B).")
        if data.get("action") in ("return", "reject") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason: the analyst reads it.")
        return data


class ReviewJobForm(forms.Form):
    """A decision on every proposal matching the page's filter (a ReviewJob)."""

    decision = forms.ChoiceField(choices=DECISIONS, label="Decision for every matching proposal")
    instrument = forms.ChoiceField(choices=Instrument.choices, initial=Instrument.REFERRAL, required=False,
                                   label="Instrument of every approval")
    reason = forms.CharField(required=False, max_length=5000, label="Reason for every return or rejection",
                             help_text="For removal orders: the statement of reasons of every order (the URLs of "
                                       "one platform approved together form one order).",
                             widget=forms.Textarea(attrs={"rows": 1}))

    def clean(self):
        data = super().clean()
        if (data.get("decision") == "approve" and data.get("instrument") == Instrument.REMOVAL_ORDER
                and not (data.get("reason") or "").strip()):
            self.add_error("reason", "Removal orders need a statement of reasons (Annex I, section B).")
        if data.get("decision") in ("return", "reject") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason: the analysts read it.")
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="Reason for the withdrawal (sent to the platform)", max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class BulkWithdrawForm(WithdrawForm):
    referrals = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Referrals")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ids: the service checks each (what does not exist or cannot be withdrawn is reported per referral).
        self.fields["referrals"].valid_value = lambda value: str(value).isdigit() and len(str(value)) < 19


class ClarifyForm(forms.Form):
    message = forms.CharField(label="Answer to the platform's question (sent to the platform)", max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class OrderForm(forms.Form):
    """The supervisor's part of a removal order (Annex I): the rest comes from the unit, the platform, the item.
    Checked again, with the same messages, by the service (referral/actions/orders.py check_order_details)."""

    statement_of_reasons = forms.CharField(
        label="Statement of reasons (Annex I, section B)", max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Why this content is terrorist content under Article 2(7), in words the platform can act on.")
    emergency = forms.BooleanField(
        required=False, label="Emergency: this first order to the platform cannot wait for the 12 hours' notice")
    emergency_reason = forms.CharField(label="Why it cannot wait (Article 3(2))", required=False, max_length=5000,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    non_disclosure = forms.BooleanField(
        required=False, label="The platform must not inform the content provider (Article 11(3), section C)")
    non_disclosure_until = forms.DateField(
        label="Until (at most six weeks; empty: six weeks)", required=False,
        widget=forms.DateInput(attrs={"type": "date"}))

    def order(self) -> dict:
        data = self.cleaned_data
        return {"statement_of_reasons": data["statement_of_reasons"], "emergency": data["emergency"],
                "emergency_reason": data["emergency_reason"], "non_disclosure": data["non_disclosure"],
                "non_disclosure_until": data["non_disclosure_until"]}
