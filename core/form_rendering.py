"""Django's form renderer with its commonest templates written in Python: the same HTML, byte for byte, without a
template render per widget, per select option and per attribute list.

Django renders every widget through templates: a select of 60 platforms is 60 `{% include %}`s of
select_option.html, each including attrs.html. On a list page's filter form that is most of the page's cost. This
renderer writes the templates below as Python functions of the context Django's widgets already build (so the
attributes, ids and aria-* stay Django's own) and hands every other template to Django unchanged.
tests/core/test_form_rendering.py renders every widget and form of the list pages both ways and compares.

Use it per form: `SomeForm(..., renderer=FAST_RENDERER)`, or for the whole project with
FORM_RENDERER = "core.form_rendering.FastFormRenderer".
"""

from html import escape

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData

_CONTEXT = Context(autoescape=True)  # for values that are not strings: Django's own localising and escaping


def _value(value) -> str:
    """`{{ value }}` in a template: a str escaped (html.escape, as django.utils.html.escape), a safe str as is."""
    if type(value) is str:
        return escape(value)
    if isinstance(value, SafeData):
        return str(value)
    return render_value_in_context(value, _CONTEXT)


def _stringformat(value) -> str:
    """`{{ value|stringformat:'s' }}` in a template (a safe value stays unescaped, as the filter is_safe)."""
    if type(value) is str:
        return escape(value)
    if isinstance(value, SafeData):
        return str(value)
    if isinstance(value, tuple):
        value = str(value)
    return escape(str(value))  # "%s" % value: a tuple was made a str above


def _attrs(attrs) -> str:
    """django/forms/widgets/attrs.html and django/forms/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {_value(name)}")
        else:
            out.append(f' {_value(name)}="{_stringformat(value)}"')
    return "".join(out)


def _input(widget) -> str:
    """django/forms/widgets/input.html, without the file's final newline."""
    value = "" if widget["value"] is None else f' value="{_stringformat(widget["value"])}"'
    return f'<input type="{_value(widget["type"])}" name="{_value(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select_option(option) -> str:
    """django/forms/widgets/select_option.html, without the file's final newline."""
    return (f'<option value="{_stringformat(option["value"])}"{_attrs(option["attrs"])}>'
            f'{_value(option["label"])}</option>')


def _input_option(option) -> str:
    """django/forms/widgets/input_option.html (radio and checkbox options), without the file's final newline."""
    if not option.get("wrap_label"):
        return _input(option) + "\n"
    option_id = option["attrs"].get("id")
    label_for = f' for="{_value(option_id)}"' if option_id else ""
    return f"<label{label_for}>{_input(option)}\n {_value(option['label'])}</label>"


def _included_input_option(option) -> str:
    """checkbox_option.html and radio_option.html: an include of input_option.html, and their own final newline."""
    return _input_option(option) + "\n"


OPTION_TEMPLATES = {
    "django/forms/widgets/select_option.html": _select_option,
    "django/forms/widgets/checkbox_option.html": _included_input_option,
    "django/forms/widgets/radio_option.html": _included_input_option,
    "django/forms/widgets/input_option.html": _input_option,
}


def _options_known(widget) -> bool:
    return all(option["template_name"] in OPTION_TEMPLATES
               for _group, options, _index in widget["optgroups"] for option in options)


def _select(widget) -> str | None:
    """django/forms/widgets/select.html."""
    if not _options_known(widget):
        return None
    out = [f'<select name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f'\n  <optgroup label="{_value(group)}">')
        for option in options:
            out.append("\n  " + OPTION_TEMPLATES[option["template_name"]](option) + "\n")
        if group:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _multiple_input(widget) -> str | None:
    """django/forms/widgets/multiple_input.html (CheckboxSelectMultiple, RadioSelect)."""
    if not _options_known(widget):
        return None
    attrs = widget["attrs"]
    widget_id, css = attrs.get("id"), attrs.get("class")
    out = ["<div", f' id="{_value(widget_id)}"' if widget_id else "", f' class="{_value(css)}"' if css else "", ">"]
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{_value(group)}</label>")
        for option in options:
            out.append("<div>\n    " + OPTION_TEMPLATES[option["template_name"]](option) + "\n</div>")
        if group:
            out.append("\n  </div>")
    out.append("\n</div>")
    return "".join(out)


def _textarea(widget) -> str:
    """django/forms/widgets/textarea.html."""
    value = _value(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _label(context) -> str:
    """django/forms/label.html."""
    if not context["use_tag"]:
        return _value(context["label"])
    tag = _value(context["tag"])
    return f"<{tag}{_attrs(context['attrs'] or {})}>{_value(context['label'])}</{tag}>"


def _field_group(context) -> str:
    """django/forms/field.html: a field's label (or legend), help text, errors and widget."""
    field = context["field"]
    out = []
    if field.use_fieldset:
        described = field.aria_describedby
        aria = f' aria-describedby="{_value(described)}"' if described else ""
        out.append(f"\n  <fieldset{aria}>\n  ")
        if field.label:
            out.append(_value(field.legend_tag()))
    else:
        out.append("\n  ")
        if field.label:
            out.append(_value(field.label_tag()))
    out.append("\n\n")
    if field.help_text:
        auto_id = field.auto_id
        help_id = f' id="{_value(auto_id)}_helptext"' if auto_id else ""
        out.append(f'<div class="helptext"{help_id}>{field.help_text}</div>')
    out.append(f"\n{_value(field.errors)}\n{_value(field)}{'</fieldset>' if field.use_fieldset else ''}\n")
    return "".join(out)


def _form_div(context) -> str:
    """django/forms/div.html: the whole form, a <div> per visible field."""
    errors, fields, hidden = context["errors"], context["fields"], context["hidden_fields"]
    hidden_html = "".join(_value(field) for field in hidden)
    out = [_value(errors), "\n"]
    if errors and not fields:
        out.append(f"\n  <div>{hidden_html}</div>\n")
    out.append("\n")
    for n, (field, _errors) in enumerate(fields):
        classes = field.css_classes()
        css = f' class="{_value(classes)}"' if classes else ""
        out.append(f"\n  <div{css}>\n    {_value(field.as_field_group())}\n    ")
        if n == len(fields) - 1:
            out.append(f"\n      {hidden_html}\n    ")
        out.append("\n</div>\n")
    out.append("\n")
    if not fields and not errors:
        out.append(f"\n  {hidden_html}\n")
    out.append("\n")
    return "".join(out)


def _errors(context) -> str | None:
    """django/forms/errors/list/default.html when there is no error (the common case); any error: the template."""
    return "" if not context["errors"] else None


INPUT_TYPES = ("text", "number", "email", "url", "password", "hidden", "checkbox", "date", "datetime", "time",
               "search", "tel", "color", "input")
WIDGETS = {f"django/forms/widgets/{name}.html": _input for name in INPUT_TYPES} | {
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/checkbox_select.html": _multiple_input,
    "django/forms/widgets/radio.html": _multiple_input,
    "django/forms/widgets/multiple_input.html": _multiple_input,
    "django/forms/widgets/textarea.html": _textarea,
}


TEMPLATES = {  # templates whose context is not a widget's
    "django/forms/label.html": _label,
    "django/forms/field.html": _field_group,
    "django/forms/div.html": _form_div,
    "django/forms/errors/list/default.html": _errors,
}


class FastFormRenderer(DjangoTemplates):
    """DjangoTemplates (Django's default form renderer), with the templates above in Python."""

    def render(self, template_name, context, request=None):
        html = None
        if (write := WIDGETS.get(template_name)) is not None:
            html = write(context["widget"])
        elif (write := TEMPLATES.get(template_name)) is not None:
            html = write(context)
        if html is None:
            return super().render(template_name, context, request=request)
        return html.strip()


FAST_RENDERER = FastFormRenderer()
