"""URL checks, canonical form and host → platform resolution.

The canonical URL is the deduplication key of an item: scheme and host case, IDN, default ports,
`www.`/`m.`/`mobile.` prefixes, fragments and tracking parameters are normalised away, and platform aliases are
folded by the per-platform rules kept as data in platforms/rules.py (interpreted by platforms/canonical.py).
docs/url-canonicalisation.md describes the rules and how to add a platform's.
"""

import re
import unicodedata
from urllib.parse import urlsplit

from platforms import canonical
from platforms.canonical import host_to_ascii as _host_to_ascii

MAX_URL_LENGTH = 2048
# Control, formatting (RTL overrides, zero-width joiners) and lone surrogates (which JSON can carry but the
# database cannot store).
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs")
_ASCII_REFUSED = re.compile(r"[\x00-\x20\x7f]")  # control characters and blanks, the ASCII part of the rule


class InvalidURL(ValueError):
    """The URL cannot be referred; the message says why, in words an analyst understands."""


def validate_url(raw: str) -> str:
    """Return the URL stripped of surrounding blanks, or raise InvalidURL with the reason."""
    if not isinstance(raw, str):
        raise InvalidURL("Enter the URL as text.")
    url = raw.strip()
    if not url:
        raise InvalidURL("Enter a URL.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    # ASCII (nearly every URL) takes one regex; anything else is checked character by character.
    if _ASCII_REFUSED.search(url) if url.isascii() else any(
        unicodedata.category(ch) in _REFUSED_CATEGORIES or ch.isspace() for ch in url
    ):
        raise InvalidURL("The URL contains control, formatting or blank characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"The URL cannot be parsed: {exc}.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidURL("Only http and https URLs can be referred.")
    if not parts.hostname:
        raise InvalidURL("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidURL("The URL must not contain credentials (user:password@).")
    if port == 0:
        raise InvalidURL("The URL has an invalid port.")
    try:
        host = _host_to_ascii(parts.hostname)
    except canonical.InvalidHost as exc:
        raise InvalidURL(f"The URL's host name is not valid: {exc}.") from exc
    except UnicodeError as exc:
        raise InvalidURL("The URL's host name is not valid.") from exc
    if not host:  # only dots, e.g. `https://./`
        raise InvalidURL("The URL has no host.")
    return url


def canonicalize(url: str) -> str:
    """The deduplication key of a valid URL (see validate_url); never raises on a URL that passed it."""
    return canonical.canonicalize_url(url)


def canonicalize_lenient(text: str) -> str:
    """The canonical form of any text that is a valid URL; any other text comes back stripped, as it was.

    Never raises, whatever the input (for imports and search boxes, where text may be anything).
    """
    if not isinstance(text, str):
        return text
    try:
        return canonicalize(validate_url(text))
    except ValueError:  # InvalidURL, and UnicodeError from IDNA, are ValueErrors
        return text.strip()


def account_key(url: str) -> str | None:
    """`platform:handle` (e.g. `x:someuser`) when the URL names an account or channel, else None.

    Handles are lower-cased where the platform treats them case-insensitively. Invalid URLs give None.
    """
    try:
        return canonical.account_key_of(canonicalize(validate_url(url)))
    except ValueError:  # InvalidURL, and UnicodeError from IDNA, are ValueErrors
        return None


def url_warnings(url: str) -> list[str]:
    """Human-readable warnings about a URL's host: look-alike letters, IDN, short links. Never raises."""
    try:
        hostname = urlsplit(url.strip()).hostname
    except (AttributeError, ValueError):
        return []
    return canonical.host_warnings(hostname) if hostname else []


def platform_family(url: str) -> str | None:
    """The platform family (a slug of platforms/rules.py, e.g. `tiktok`) of the URL's host, by registered domain."""
    try:
        return canonical.platform_family(host_of(url))
    except ValueError:
        return None


def host_of(url: str) -> str:
    return _host_to_ascii(urlsplit(url.strip()).hostname or "")


def candidate_domains(host: str) -> list[str]:
    """`a.b.example.com` → [`a.b.example.com`, `b.example.com`, `example.com`, `com`]."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def host_candidates(host: str) -> list[str]:
    """The registered domains that could claim an (ASCII) host, in the order they win: the host as written, then
    without www./m./mobile., then folded to the platform's canonical host (so a platform registered as x.com claims
    twitter.com URLs); within each, the longest suffix first. The one rule of platform resolution: a single URL
    (resolve_platform) and a bulk import (intake's in-memory domain table) both match with it."""
    hosts = dict.fromkeys([host, canonical.strip_host_prefixes(host), canonical.fold_host(host)])
    return list(dict.fromkeys(c for h in hosts for c in candidate_domains(h)))


def first_claim(candidates: list[str], claims):
    """The value `claims` (a mapping of registered domain → platform) holds for the first candidate it knows."""
    for candidate in candidates:
        if candidate in claims:
            return claims[candidate]
    return None


def resolve_platform(url: str):
    """The active platform whose registered domains claim the URL's host (host_candidates' order), or None.

    Alias hosts resolve too: a platform registered as `x.com` claims `twitter.com` and `mobile.twitter.com`.
    """
    from platforms import directory

    candidates = host_candidates(host_of(url))
    return first_claim(candidates, directory.claims(candidates))


def normalise_domain(raw: str) -> str:
    """A domain as registered for a platform: lower-case, IDNA, no scheme, no trailing dot."""
    value = (raw or "").strip().lower().rstrip(".")
    if "://" in value or "/" in value or not value or " " in value:
        raise InvalidURL(f"'{raw}' is not a domain name (give a host such as 'example.com').")
    try:
        value = _host_to_ascii(value)
    except UnicodeError as exc:
        raise InvalidURL(f"'{raw}' is not a valid domain name.") from exc
    if value.startswith("www."):
        value = value[4:]
    return value
