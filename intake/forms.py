"""Forms of bulk intake: pasted URLs and CSV uploads."""

from django import forms

from cases.models import ItemKind


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

