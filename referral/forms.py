"""HTML forms: they parse and check the shape of the input; the workflow functions make the decisions."""

from django import forms

from platforms.models import Platform

from .models import Category, Instrument, ItemKind, ReferralStatus


class CaseForm(forms.Form):
    title = forms.CharField(max_length=300)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ItemLogForm(forms.Form):
    # No max_length here: a browser would silently cut a pasted URL at it. The workflow checks the URL
    # (scheme, host, length, characters) and its message comes back on this field.
    url = forms.CharField(
        label="URL", widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"})
    )
    kind = forms.ChoiceField(choices=ItemKind.choices)
    categories = forms.MultipleChoiceField(
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Categories (TCO Art 2(7))",
    )
    language = forms.CharField(max_length=16, required=False, help_text="For example: en, ar, de.")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    platform = forms.ChoiceField(
        required=False,
        help_text="Leave on “resolve from the URL” unless no registered domain matches the URL's host.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        slugs = Platform.objects.filter(active=True).order_by("name").values_list("slug", "name")
        self.fields["platform"].choices = [("", "Resolve from the URL")] + [
            (slug, f"{name} ({slug})") for slug, name in slugs
        ]


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


class PasteImportForm(forms.Form):
    """URLs pasted one a line, imported like a CSV upload with only url and kind."""

    urls = forms.CharField(
        label="URLs, one a line",
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "autocomplete": "off"}),
        help_text="Blank lines are skipped. Lines already in this case are reported as duplicates.",
    )
    kind = forms.ChoiceField(choices=ItemKind.choices, initial=ItemKind.POST, label="Kind of every pasted URL")

    def clean_urls(self):
        text = self.cleaned_data["urls"]
        if not any(line.strip() for line in text.splitlines()):
            raise forms.ValidationError("Paste at least one URL.")
        return text


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: url (required), kind, categories, language, notes, group; separated by commas, "
                  "semicolons or tabs; UTF-8. Other columns are kept in the notes.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv,text/plain"}),
    )
