"""Reading an import file: lines, the header, and each row checked into an item's fields."""

import csv
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

from cases.models import Category, Group, ItemKind
from core.errors import DomainError
from platforms import canonical as platform_canonical
from platforms.content_urls import (
    MAX_URL_LENGTH,
    InvalidURL,
    canonicalize,
    first_claim,
    host_candidates,
    validate_url,
)
from platforms.models import PlatformDomain

COLUMNS = ("url", "kind", "categories", "language", "notes", "group")


DELIMITERS = (",", ";", "\t")


LINE_LIMIT = 262_144  # characters in one line; a longer line is rejected and the import goes on


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes that are not UTF-8


_CATEGORY_SPLIT = re.compile(r"[;,]")


_KINDS = frozenset(ItemKind.values)


_CATEGORIES = frozenset(Category.values)


csv.field_size_limit(LINE_LIMIT)


class _Lines:
    """The file's physical lines, never more than LINE_LIMIT characters held; longer lines become blank and are
    remembered in `oversized` (by line number) so the row can be rejected with its reason. `number` is the
    number of lines read so far."""

    def __init__(self, text):
        self.text = text
        self.number = 0
        self.oversized: set[int] = set()
        self._lines = self._read()  # one generator: the header's loop and the CSV reader share it

    def __iter__(self):
        return self._lines

    def _read(self):
        readline = self.text.readline
        number = 0
        while line := readline(LINE_LIMIT + 1):
            number += 1
            self.number = number
            if len(line) > LINE_LIMIT and line[-1] not in "\r\n":
                while (rest := readline(LINE_LIMIT)) and rest[-1] not in "\r\n":
                    pass
                self.oversized.add(number)
                line = "\n"
            yield line


def _header(lines: _Lines) -> tuple[str, list[str]]:
    """The delimiter (comma, semicolon or tab: the one whose split names a `url` column) and the column names."""
    for first in lines:
        if first.strip():
            break
    else:
        raise ImportFailed("The file is empty.")
    first = first.rstrip("\r\n")
    best = None
    for delimiter in DELIMITERS:
        names = [n.strip().strip('"').strip().lower() for n in next(csv.reader([first], delimiter=delimiter))]
        if "url" in names and (best is None or len(names) > len(best[1])):
            best = (delimiter, names)
    if best is None:
        shown = first[:200].encode("utf-8", "replace").decode("utf-8")
        raise ImportFailed(
            "No url column: the first line must name the columns (url, kind, categories, language, notes, group),"
            f" separated by commas, semicolons or tabs. It reads: {shown!r}."
        )
    return best


@dataclass
class _Context:
    """What a row is checked against, loaded once per import, and the caches of per-host work."""

    domains: dict[str, int]
    groups: dict[str, int]
    hosts: dict[str, tuple[list[str], int | None]] = field(default_factory=dict)  # netloc → host_facts
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the column's text → the checked list

    @classmethod
    def load(cls) -> "_Context":
        domains = dict(PlatformDomain.objects.filter(platform__active=True).values_list("domain", "platform_id"))
        groups: dict[str, int] = {}
        rows = list(Group.objects.values_list("id", "name", "aliases"))
        for group_id, _name, aliases in rows:
            for alias in aliases.splitlines():
                if alias.strip():
                    groups.setdefault(alias.strip().casefold(), group_id)
        for group_id, name, _aliases in rows:
            groups[name.strip().casefold()] = group_id  # a name beats another group's alias
        return cls(domains=domains, groups=groups)

    def host_facts(self, url: str) -> tuple[list[str], int | None]:
        """A valid URL's host warnings and its platform (the one resolve_platform would find, by
        platforms.content_urls.host_candidates' rule, with the domains in memory). Both depend on the host alone,
        so they are kept per netloc: a file names few hosts, and the netloc comes without parsing (urlsplit keeps
        its last answers, and validate_url has just split this URL)."""
        netloc = urlsplit(url).netloc
        try:
            return self.hosts[netloc]
        except KeyError:
            pass
        hostname = urlsplit(url).hostname or ""
        found = (platform_canonical.host_warnings(hostname),
                 first_claim(host_candidates(platform_canonical.host_to_ascii(hostname)), self.domains))
        if len(self.hosts) > 100_000:
            self.hosts.clear()
        self.hosts[netloc] = found
        return found

    def categories_of(self, text: str) -> tuple[str, ...]:
        """The categories column checked (raises RowRejected); the few distinct texts of a file are kept."""
        try:
            return self.categories[text]
        except KeyError:
            pass
        found = _categories(text)
        if len(self.categories) > 10_000:
            self.categories.clear()
        self.categories[text] = found
        return found


class RowRejected(ValueError):
    pass


def _categories(text: str) -> tuple[str, ...]:
    categories = sorted({c.strip().lower() for c in _CATEGORY_SPLIT.split(text) if c.strip()})
    bad = [c for c in categories if c not in _CATEGORIES]
    if bad:
        raise RowRejected(f"Unknown categories {', '.join(bad)}; use: {', '.join(Category.values)}.")
    return tuple(categories)


def parse_row(values: dict[str, str], extra: list[tuple[str, str]], ctx: _Context) -> dict:
    """Check one row (column name → text) and return the item's fields, or raise RowRejected with the reason.

    `extra` holds the columns this importer does not know, kept in the notes as `name: value` lines.
    """
    raw_url = values.get("url", "")
    try:
        url = validate_url(raw_url)
        canonical_url = canonicalize(url)
    except InvalidURL as exc:
        raise RowRejected(str(exc)) from exc
    except ValueError as exc:  # IDNA errors from hosts validate_url let through
        raise RowRejected(f"The URL cannot be put in canonical form: {exc}.") from exc
    if len(canonical_url) > MAX_URL_LENGTH:
        raise RowRejected(f"The URL's canonical form is longer than {MAX_URL_LENGTH} characters.")
    kind = values.get("kind", "").strip().lower() or ItemKind.POST
    if kind not in _KINDS:
        raise RowRejected(f"Unknown kind '{kind}'; use one of: {', '.join(ItemKind.values)}.")
    categories = list(ctx.categories_of(values.get("categories", "")))
    language = values.get("language", "").strip()
    if len(language) > 16:
        raise RowRejected("The language is longer than 16 characters (give a code such as 'ar' or 'en').")
    group_name = values.get("group", "").strip()
    group_id = None
    if group_name:
        group_id = ctx.groups.get(group_name.casefold())
        if group_id is None:
            raise RowRejected(f"Unknown group '{group_name}': it is not in the list of groups (ask an admin).")
    warnings, platform_id = ctx.host_facts(url)
    notes = values.get("notes", "").strip()
    if extra or warnings:
        lines = [notes, *(f"{name}: {value.strip()}" for name, value in extra if value.strip()),
                 *(f"URL warning: {w}" for w in warnings)]
        notes = "\n".join(n for n in lines if n)
    return {
        "url": url, "canonical_url": canonical_url, "platform_id": platform_id, "kind": kind,
        "categories": categories, "language": language, "notes": notes,
        "group_id": group_id, "warnings": warnings,
    }


def _check(fields: list[str], known: dict, others: list, width: int, ctx: _Context):
    """A row's fields as an item's values (dict), or the reason it is rejected (str)."""
    joined = "".join(fields)
    bad = _NOT_UTF8.search(joined)
    if bad:
        byte = ord(bad.group()) - 0xDC00
        return (f"The line is not valid UTF-8 (byte 0x{byte:02X}); save the file as UTF-8 "
                "(in Excel: CSV UTF-8) and import it again.")
    if "\x00" in joined:
        return "The line contains a NUL character."
    values = {name: fields[i] if i < len(fields) else "" for name, i in known.items()}
    extra = [(name, fields[i]) for i, name in others if i < len(fields)]
    extra += [(f"column {i + 1}", fields[i]) for i in range(width, len(fields))]
    try:
        return parse_row(values, extra, ctx)
    except RowRejected as exc:
        return str(exc)


ERRORS_SHOWN = 100  # in the API's job view and the page


class ImportTooLarge(DomainError):
    status_code = 413


class ImportFailed(Exception):
    """The file as a whole cannot be imported (no url column, empty); nothing was created."""


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 200 * 1024 * 1024)


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 2_000_000)
