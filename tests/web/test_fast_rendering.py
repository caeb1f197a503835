"""The Python twins of templates write what the templates write, byte for byte: core/form_rendering.py (Django's form
and widget templates) and core/table_cells.py (templates/_time.html, _status.html, {% url %}). The list pages use
them instead of the templates for speed only."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone as dj_timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from cases.forms import AssessForm, BulkActionForm, CaseForm, ItemLogForm, QueueFilterForm, TriageChoices
from core.form_rendering import FAST_RENDERER
from core.table_cells import NONE, href_format, html_row, status_html, time_html
from referral.forms import ApproveForm, ReferralFilterForm, RejectForm, ReturnForm

DJANGO = DjangoTemplates()


class Everything(forms.Form):
    """A widget of each kind the fast renderer writes, with the awkward values: quotes, markup, lazy and safe
    labels, numbers, booleans, option groups, help texts and errors."""

    text = forms.CharField(max_length=10, help_text="Say <b>it</b>", initial='a "quoted" <value>')
    number = forms.IntegerField(min_value=1, initial=7)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https",
                         widget=forms.URLInput(attrs={"inputmode": "url", "data-x": True}))
    hidden = forms.CharField(widget=forms.HiddenInput, initial="h&h")
    flag = forms.BooleanField(required=False, initial=True, label=gettext_lazy("A lazy label"))
    choice = forms.ChoiceField(choices=[("", "—"), ("a", "A & B"), ("Group", [("g1", "One"), ("g2", "<Two>")]),
                                        (3, 3)], initial="g2")
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", mark_safe("<i>Y</i>"))], initial=["y"],
                                     widget=forms.CheckboxSelectMultiple, required=False)
    radio = forms.ChoiceField(choices=[("1", "One"), ("2", "Two")], widget=forms.RadioSelect, initial="2")
    grouped = forms.MultipleChoiceField(choices=[("G", [("p", "P"), ("q", "Q")]), ("r", "R")],
                                        widget=forms.CheckboxSelectMultiple, required=False)
    area = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), initial="line 1\n<line 2>", required=False)
    empty_area = forms.CharField(widget=forms.Textarea, required=False)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    no_label = forms.CharField(label="", required=False)


def renderings(form_factory):
    """Every way a page prints a form: whole, field groups, labels, widgets, errors."""
    out = {}
    for name, renderer in (("django", DJANGO), ("fast", FAST_RENDERER)):
        form = form_factory(renderer)
        parts = [str(form), str(form.non_field_errors())]
        for field in form:
            parts += [str(field), str(field.label_tag()), str(field.legend_tag()), str(field.errors),
                      str(field.as_field_group())]
        out[name] = parts
    return out["django"], out["fast"]


def assert_same(form_factory):
    django, fast = renderings(form_factory)
    assert len(django) == len(fast)
    for expected, got in zip(django, fast, strict=True):
        assert got == expected


@pytest.mark.parametrize("data", [None, {}, {"text": "x" * 11, "number": "0", "choice": "zz", "many": ["x", "y"],
                                             "radio": "1", "grouped": ["q"], "area": "<b>", "flag": "on"}])
def test_every_widget_as_django_writes_it(data):
    assert_same(lambda renderer: Everything(data, renderer=renderer))
    assert_same(lambda renderer: Everything(data, renderer=renderer, prefix="approve-12", auto_id="x_%s"))


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "platform=none&status=all&sort=newest&has_evidence=on",
                                   "platform=nonsense&case=-1&assignee=me&category=threat"])
def test_queue_forms_as_django_writes_them(platform_a, platform_b, analyst, analyst_2, query):
    choices = TriageChoices()
    assert_same(lambda renderer: QueueFilterForm(QueryDict(query), choices=choices, renderer=renderer))
    assert_same(lambda renderer: BulkActionForm(choices=choices, auto_id="bulk_%s", renderer=renderer))
    assert_same(lambda renderer: BulkActionForm({"action": "hold"}, choices=choices, renderer=renderer))
    assert_same(lambda renderer: AssessForm(choices=choices, renderer=renderer))


@pytest.mark.django_db
@pytest.mark.parametrize("data", [None, {"url": "", "kind": "nonsense", "categories": ["threat", "bad"]}])
def test_case_and_review_forms_as_django_writes_them(platform_a, data):
    assert_same(lambda renderer: ItemLogForm(data, renderer=renderer))
    assert_same(lambda renderer: CaseForm(data, renderer=renderer))
    assert_same(lambda renderer: ReferralFilterForm(data or {"status": "sent"}, renderer=renderer))
    for form_class in (ApproveForm, ReturnForm, RejectForm):
        assert_same(lambda renderer, form_class=form_class: form_class(data, prefix="approve-3", renderer=renderer))


def partial_html(name: str, context: dict) -> str:
    """What {% include name %} prints, without the file's final newline."""
    return render_to_string(name, context).removesuffix("\n")


@pytest.mark.parametrize("when", [
    datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC),
    datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))),
    None,
])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Brussels", "Asia/Kolkata"])
def test_time_cell_is_the_time_partial(when, zone):
    with dj_timezone.override(zone):
        partial = partial_html("_time.html", {"dt": when})
        assert time_html(when) == partial
        assert time_html(when, dj_timezone.get_current_timezone()) == partial


def test_status_cell_is_the_status_partial():
    for value, label in [("queued", "Queued"), ("on_hold", "On hold"), ('x"<', "A & <b>")]:
        assert status_html(value, label) == partial_html("_status.html", {"value": value, "label": label})
    assert NONE == '<span class="none">—</span>'


def test_href_format_is_reverse():
    for name in ("item-detail", "case-detail", "referral-detail", "item-propose", "item-approve"):
        assert href_format(name).format(42) == reverse(name, args=[42])


def test_html_row_escapes_all_but_safe_values():
    row = html_row('<td title="{a}">{b}</td><td>{c}</td>', {"a": '"><script>', "b": mark_safe("<i>ok</i>"), "c": 5})
    assert row == '<td title="&quot;&gt;&lt;script&gt;"><i>ok</i></td><td>5</td>'
