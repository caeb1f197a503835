"""Forms of the case pages: a new case, an item logged by hand."""

from functools import cached_property

from django import forms
from django.db import connection

from accounts.models import User
from cases.actions.assessment import CONFIDENCE_MAX, SEVERITY_MAX
from cases.compiled import CompiledQuery
from cases.models import Category, Group, ItemKind, ItemStatus
from core.roles import TRIAGERS
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

    def __init__(self, *args, platforms: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = platform_choices() if platforms is None else platforms


_ACTIVE_PLATFORMS = CompiledQuery(
    lambda: Platform.objects.filter(active=True).order_by("name").values_list("slug", "name"))


def platform_choices() -> list[tuple[str, str]]:
    """The log form's platform list: the active platforms by name, after "resolve from the URL"."""
    return [("", "Resolve from the URL")] + [(slug, f"{name} ({slug})") for slug, name in _ACTIVE_PLATFORMS.rows()[1]]


# --- The triage queue and the item page ---------------------------------------------------------------





SORTS = [("priority", "Priority (highest first)"), ("newest", "Newest first"), ("oldest", "Oldest first")]
STATUS_FILTERS = [("", "To triage (logged or returned)"), ("all", "Any status")] + list(ItemStatus.choices)
BULK_ACTIONS = [
    ("", "Choose an action…"),
    ("assign", "Assign to…"),
    ("propose", "Propose for referral"),
    ("discard", "Discard (give a reason)"),
    ("hold", "Put on hold (give a reason and who asked)"),
    ("move", "Move to case…"),
]


class TriageChoices:
    """The select lists, each loaded (one query) only when a form renders or validates it, or all three in one
    query (`preload`) for a page that shows them all."""

    def preload(self) -> "TriageChoices":
        """Platforms (by name), active groups (by name) and active triagers (by username): one UNION ALL query,
        the same lists as the three properties below."""
        found: dict[int, list[tuple[str, str]]] = {0: [], 1: [], 2: []}
        roles = ", ".join(["%s"] * len(TRIAGERS))
        sql = (f"SELECT 0, id, name FROM {Platform._meta.db_table} "  # noqa: S608  (table names from _meta)
               f"UNION ALL SELECT 1, id, name FROM {Group._meta.db_table} WHERE active "
               f"UNION ALL SELECT 2, id, username FROM {User._meta.db_table} WHERE is_active AND role IN ({roles}) "
               "ORDER BY 1, 3, 2")
        with connection.cursor() as cursor:
            cursor.execute(sql, [str(role) for role in sorted(TRIAGERS)])
            for which, pk, name in cursor.fetchall():
                found[which].append((str(pk), name))
        self.__dict__.update(platforms=found[0], groups=found[1], people=found[2])  # cached_property's own slots
        return self

    @cached_property
    def platforms(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Platform.objects.order_by("name").values_list("pk", "name")]

    @cached_property
    def groups(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Group.objects.filter(active=True).values_list("pk", "name")]

    @cached_property
    def people(self) -> list[tuple[str, str]]:
        users = User.objects.filter(is_active=True, role__in=TRIAGERS).order_by("username")
        return [(str(pk), name) for pk, name in users.values_list("pk", "username")]


def _lazy_choices(head, source, name):
    """A callable choice list: Django reads it from TriageChoices only when the field renders or validates."""
    return lambda: list(head) + getattr(source, name)


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    platform = forms.ChoiceField(required=False)
    case = forms.IntegerField(required=False, min_value=1, label="Case number")
    category = forms.ChoiceField(choices=[("", "Any category")] + list(Category.choices), required=False)
    group = forms.ChoiceField(required=False, label="Group / organisation")
    kind = forms.ChoiceField(choices=[("", "Any kind")] + list(ItemKind.choices), required=False)
    language = forms.CharField(max_length=16, required=False)
    assignee = forms.ChoiceField(required=False)
    duplicates = forms.ChoiceField(
        choices=[("", "Originals and duplicates"), ("originals", "Originals only"),
                 ("duplicates", "Duplicates only")], required=False, label="Duplicates",
    )
    has_evidence = forms.BooleanField(required=False, label="Has evidence")
    sort = forms.ChoiceField(choices=SORTS, required=False)

    def __init__(self, *args, choices: TriageChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = _lazy_choices(
            [("", "Any platform"), ("none", "No platform matched")], choices, "platforms")
        self.fields["group"].choices = _lazy_choices([("", "Any group")], choices, "groups")
        self.fields["assignee"].choices = _lazy_choices(
            [("", "Anyone or no one"), ("me", "Me"), ("unassigned", "Unassigned")], choices, "people")

    def filters(self) -> dict:
        data = self.cleaned_data
        status = data.get("status") or ""
        statuses = list(ItemStatus.values) if status == "all" else ([status] if status else [])
        return {
            "statuses": statuses,
            "platform": data.get("platform") if data.get("platform") == "none" else _int(data.get("platform")),
            "case": data.get("case"),
            "category": data.get("category") or "",
            "group": _int(data.get("group")),
            "kind": data.get("kind") or "",
            "language": (data.get("language") or "").strip(),
            "assignee": data.get("assignee") if data.get("assignee") in ("me", "unassigned")
            else _int(data.get("assignee")),
            "duplicates": data.get("duplicates") or "",
            "has_evidence": bool(data.get("has_evidence")),
        }


def _int(value):
    return int(value) if value not in (None, "") and str(value).isdigit() else None


class ItemIdsField(forms.Field):
    """The checked rows: one or more item ids."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Select at least one item.", "invalid": "Not an item number."}

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        ids = []
        for v in values:
            if not str(v).isdigit() or len(str(v)) > 18:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            ids.append(int(v))
        return ids


class BulkActionForm(forms.Form):
    items = ItemIdsField()
    action = forms.ChoiceField(choices=BULK_ACTIONS, label="With the selected items")
    assignee = forms.ChoiceField(required=False, label="Assign to")
    target_case = forms.IntegerField(required=False, min_value=1, label="Move to case number")
    reason = forms.CharField(required=False, max_length=5000, label="Reason (discard or hold)")
    requested_by = forms.CharField(required=False, max_length=300, label="Hold requested by")

    def __init__(self, *args, choices: TriageChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _lazy_choices([("", "—"), ("none", "No one (unassign)")], choices, "people")

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", "Choose who to assign the items to.")
        if action == "move" and not data.get("target_case"):
            self.add_error("target_case", "Choose the case to move the items to.")
        if action in ("discard", "hold") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason.")
        if action == "hold" and not (data.get("requested_by") or "").strip():
            self.add_error("requested_by", "Name who asked for the hold.")
        return data


class AssessForm(forms.Form):
    categories = forms.MultipleChoiceField(choices=Category.choices, widget=forms.CheckboxSelectMultiple,
                                           required=False, label="Categories (TCO Art 2(7))")
    group = forms.ChoiceField(required=False, label="Group / organisation")
    language = forms.CharField(max_length=16, required=False, help_text="For example: en, ar, de.")
    severity = forms.TypedChoiceField(
        choices=[("", "Not assessed")] + [(str(n), str(n)) for n in range(SEVERITY_MAX + 1)], coerce=int,
        empty_value=None, required=False, help_text="0 (none) to 7 (gravest).",
    )
    confidence = forms.TypedChoiceField(
        choices=[("", "Not assessed")] + [(str(n), str(n)) for n in range(CONFIDENCE_MAX + 1)], coerce=int,
        empty_value=None, required=False, help_text="0 (a hunch) to 3 (confirmed).",
    )
    threat_to_life = forms.BooleanField(
        required=False, label="Threat to life",
        help_text="Puts the item at the top of the queue and alerts the supervisors at once.",
    )

    def __init__(self, *args, choices: TriageChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = _lazy_choices([("", "None / unknown")], choices, "groups")


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(required=False, label="Assignee")

    def __init__(self, *args, choices: TriageChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _lazy_choices([("", "No one")], choices, "people")


class DiscardForm(forms.Form):
    reason = forms.CharField(label="Reason for discarding it", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=5000)


class HoldForm(forms.Form):
    reason = forms.CharField(label="Reason for the hold", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    requested_by = forms.CharField(label="Requested by (unit, investigation or person)", max_length=300)
