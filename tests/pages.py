"""A small HTML reader for the page tests: tags seen, form controls, labels, table headers."""

from html.parser import HTMLParser


class PageReader(HTMLParser):
    """Collects what the accessibility checks need: tags seen, form controls, labels, table headers."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "form":
            self.forms.append({"method": (attrs.get("method") or "get").lower(), "csrf": False})
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea"):
            if attrs.get("name") == "csrfmiddlewaretoken" and self.forms:
                self.forms[-1]["csrf"] = True
            if attrs.get("type") not in ("hidden", "submit"):
                self.controls.append(attrs)


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


class FormReader(HTMLParser):
    """What a browser would submit from one form, as it is rendered (inline templates, `__prefix__`, left out)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def _add(self, name, value):
        if name and "__prefix__" not in name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        kind = (attrs.get("type") or "text").lower()
        if tag == "input" and "disabled" not in attrs and kind not in ("submit", "button", "image", "file", "reset"):
            if kind not in ("checkbox", "radio") or "checked" in attrs:
                self._add(attrs.get("name"), attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and self._select and "selected" in attrs:
            self._add(self._select, attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea, self._text = attrs.get("name"), ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._add(self._textarea, self._text.removeprefix("\n"))
            self._textarea = None


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    """The fields of the form `form_id` with their current values, ready to change and post back."""
    reader = FormReader(form_id)
    reader.feed(html)
    return reader.data
