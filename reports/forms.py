"""The dashboard's filters and the period report's two days, for the pages and the API alike."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from cases.models import Group
from platforms.models import Platform
from referral.models import Instrument
from reports.selectors import Filters

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # a chart of more days than this is unreadable, and its table too long to be of use


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


class PeriodForm(forms.Form):
    """`from` and `to` (ISO days, inclusive, UTC). Unset on the dashboard: the last 30 days; `required`: both must
    be given (the API and the report)."""

    def __init__(self, *args, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = _date_field("From (day)")
        self.fields["to"] = _date_field("To (day, included)")
        self.fields["from"].required = self.fields["to"].required = required

    def clean(self):
        data = super().clean()
        today = timezone.now().date()
        date_to = data.get("to") or today
        date_from = data.get("from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if "from" in self.errors or "to" in self.errors:
            return data
        if date_from > date_to:
            self.add_error("from", "Must be on or before the 'to' day.")
        elif (date_to - date_from).days + 1 > MAX_DAYS:
            self.add_error("from", f"A period is at most {MAX_DAYS} days.")
        data["from"], data["to"] = date_from, date_to
        return data


class DashboardFilterForm(PeriodForm):
    platform = forms.ChoiceField(required=False)
    case = forms.IntegerField(required=False, min_value=1, label="Case number")
    group = forms.ChoiceField(required=False, label="Group / organisation")
    instrument = forms.ChoiceField(choices=[("", "Any instrument")] + list(Instrument.choices), required=False)
    field_order = ["from", "to", "platform", "case", "group", "instrument"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)
        # Loaded only when the form renders or validates (one query each).
        self.fields["platform"].choices = lambda: [("", "Any platform")] + [
            (str(pk), name) for pk, name in Platform.objects.order_by("name").values_list("pk", "name")]
        self.fields["group"].choices = lambda: [("", "Any group")] + [
            (str(pk), name) for pk, name in Group.objects.order_by("name").values_list("pk", "name")]

    def filters(self) -> Filters:
        """The filters asked for; when any is invalid (the page shows why), the last 30 days with no filter."""
        if not self.is_valid():
            today = timezone.now().date()
            return Filters(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)
        data = self.cleaned_data
        return Filters(date_from=data["from"], date_to=data["to"],
                       platform_id=int(data["platform"]) if data["platform"] else None, case_id=data["case"],
                       group_id=int(data["group"]) if data["group"] else None, instrument=data["instrument"] or "")


class OperationForm(forms.Form):
    name = forms.CharField(max_length=200)
    starts_at = forms.DateTimeField(label="Starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label="Ends", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    cases = forms.CharField(label="Case numbers (comma-separated)", max_length=2000)
    units = forms.CharField(label="Participating units (one per line)", required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def clean_cases(self) -> list[int]:
        try:
            return sorted({int(part) for part in self.cleaned_data["cases"].replace(" ", "").split(",") if part})
        except ValueError as exc:
            raise forms.ValidationError("Case numbers, separated by commas.") from exc
