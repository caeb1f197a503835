"""Forms of the case pages: a new case, an item logged by hand."""

from django import forms

from cases.models import Category, ItemKind
from platforms.models import Platform


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

