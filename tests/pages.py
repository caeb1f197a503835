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
