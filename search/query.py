"""What the search box's text asks for: a URL, a number (optionally of one kind), the unit's own reference of a
message, or words. Pure functions, no database: the selector (search/selectors.py) runs what this decides.

- A URL with a scheme (`https://youtu.be/…`) is validated and canonicalised as an item's URL is
  (platforms/content_urls.py), so `youtu.be/x`, `m.youtube.com/watch?v=x&si=…` and `youtube.com/watch?v=x` are one
  search. Text shaped like a URL without a scheme (`youtu.be/x`, `www.example.org`) is read as `https://…`.
- `123` or `#123`: the item, referral and case with that number; `I-123`, `R-123`, `C-123` (also `item 123`,
  `referral #123`, `case:123`) only that kind.
- `<UNIT_REFERENCE_PREFIX>-89ABCDEF`: the referrals in the message the platform received with that reference
  (referral/outbox/formatters.py `unit_reference`).
- Anything but a URL is also a platform's reference (Referral.platform_reference, case-insensitive); words are
  searched in case titles and item notes.
"""

import re
import unicodedata
import uuid
from dataclasses import dataclass, field

from django.conf import settings

from core.errors import InvalidInput
from platforms.content_urls import MAX_URL_LENGTH, InvalidURL, canonicalize, validate_url

MAX_QUERY_LENGTH = MAX_URL_LENGTH  # the longest URL an item may have
MAX_WORDS = 8
MAX_REFERENCE_LENGTH = 200  # Referral.platform_reference's max_length
MAX_NUMBER = 2**63 - 1  # a bigint primary key

URL = "url"
NUMBER = "number"
UNIT_REFERENCE = "unit_reference"
TEXT = "text"

ITEMS, REFERRALS, CASES = "items", "referrals", "cases"
_KIND_WORDS = {"i": ITEMS, "item": ITEMS, "r": REFERRALS, "ref": REFERRALS, "referral": REFERRALS,
               "c": CASES, "case": CASES}
_NUMBER = re.compile(r"(?:(?P<kind>item|i|referral|ref|r|case|c)\s*[-#:]?\s*)?#?(?P<n>\d{1,19})", re.IGNORECASE)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# A host with a dot and an alphabetic top label, then optionally a port and a path, query or fragment.
_BARE_URL = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,63}\.?(?::\d{1,5})?(?:[/?#]\S*)?", re.IGNORECASE)
_REFUSED = ("Cc", "Cf", "Cs")  # control, formatting (RTL overrides, zero-width), lone surrogates

EMPTY_MESSAGE = "Enter a URL, a number, a platform's reference or some words to search for."


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, field_errors={"q": [message]})


@dataclass(frozen=True)
class Query:
    text: str
    kind: str
    urls: tuple[str, ...] = ()  # URL: the canonical form first, then the URL as typed
    number: int | None = None
    number_kinds: frozenset = frozenset()  # NUMBER: which groups the number is looked up in
    delivery_ids: tuple[uuid.UUID, uuid.UUID] | None = None  # UNIT_REFERENCE: the range of Delivery ids
    words: tuple[str, ...] = field(default=())

    @property
    def canonical_url(self) -> str | None:
        return self.urls[0] if self.urls else None

    @property
    def platform_reference(self) -> str | None:
        """The text as a platform's reference: anything but a URL, if it fits the field."""
        return self.text if self.kind != URL and len(self.text) <= MAX_REFERENCE_LENGTH else None


def parse(raw) -> Query:
    """Read the search box's text, or raise InvalidInput with a message for the person who typed it."""
    if not isinstance(raw, str):
        raise _invalid("Enter the search as text.")
    text = raw.strip()
    if not text:
        raise _invalid(EMPTY_MESSAGE)
    if len(text) > MAX_QUERY_LENGTH:
        raise _invalid(f"The search is longer than {MAX_QUERY_LENGTH:,} characters.")
    if any(unicodedata.category(ch) in _REFUSED for ch in text):
        raise _invalid("The search contains control or formatting characters (such as a line break or a "
                       "right-to-left mark); type or paste it as plain text.")
    if _SCHEME.match(text):
        return _url_query(text, text)
    if " " not in text and _BARE_URL.fullmatch(text):
        try:
            return _url_query(text, f"https://{text}")
        except InvalidInput:
            pass  # not a URL after all (`a.b:99999`): searched as words and a reference
    if match := _unit_reference(text):
        first = uuid.UUID(match.ljust(32, "0"))
        last = uuid.UUID(match.ljust(32, "f"))
        return Query(text=text, kind=UNIT_REFERENCE, delivery_ids=(first, last))
    if (match := _NUMBER.fullmatch(text)) and int(match["n"]) <= MAX_NUMBER:
        kind = match["kind"]
        kinds = frozenset({_KIND_WORDS[kind.lower()]}) if kind else frozenset({ITEMS, REFERRALS, CASES})
        return Query(text=text, kind=NUMBER, number=int(match["n"]), number_kinds=kinds)
    return Query(text=text, kind=TEXT, words=tuple(dict.fromkeys(text.split()))[:MAX_WORDS])


def _url_query(text: str, url: str) -> Query:
    try:
        valid = validate_url(url)
    except InvalidURL as exc:
        raise _invalid(f"That URL cannot be searched: {exc}") from exc
    canonical = canonicalize(valid)
    return Query(text=text, kind=URL, urls=tuple(dict.fromkeys([canonical, valid])))


def _unit_reference(text: str) -> str | None:
    """The 8 hex digits of `IRU-89ABCDEF` (the unit's prefix, any case, `-` or a blank), else None."""
    prefix = re.escape(settings.UNIT_REFERENCE_PREFIX.strip()).replace(r"\ ", r"\s+")
    match = re.fullmatch(rf"{prefix}[-\s]?(?P<hex>[0-9a-f]{{8}})", text, re.IGNORECASE)
    return match["hex"].lower() if match else None
