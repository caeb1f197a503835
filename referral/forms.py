"""Forms of the review and referral pages."""

from django import forms

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


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status")] + ReferralStatus.choices, required=False)

