"""URL checks, canonical form and host → platform resolution.

The canonical URL is the deduplication key of an item. This first version normalises what every URL shares
(scheme and host case, default ports, `www.`/`m.` prefixes, fragments, tracking parameters); platform alias
rules come later as data per platform.
"""

import ipaddress
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_STRIPPED_HOST_PREFIXES = ("www.", "m.", "mobile.")
_TRACKING_PARAMS = {"fbclid", "gclid", "igshid", "si", "mc_cid", "mc_eid", "ref_src", "_ga"}


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
    if any(unicodedata.category(ch) in ("Cc", "Cf") or ch.isspace() for ch in url):
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
        _host_to_ascii(parts.hostname)
    except UnicodeError as exc:
        raise InvalidURL("The URL's host name is not valid.") from exc
    return url


def _host_to_ascii(host: str) -> str:
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return host.encode("idna").decode("ascii") if not host.isascii() else host


def canonicalize(url: str) -> str:
    """The deduplication key of a valid URL (see validate_url)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _host_to_ascii(parts.hostname or "")
    for prefix in _STRIPPED_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path or "/"
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ]
    query.sort()
    return urlunsplit(("https" if scheme in ("http", "https") else scheme, netloc, path, urlencode(query), ""))


def host_of(url: str) -> str:
    return _host_to_ascii(urlsplit(url.strip()).hostname or "")


def candidate_domains(host: str) -> list[str]:
    """`a.b.example.com` → [`a.b.example.com`, `b.example.com`, `example.com`, `com`]."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def resolve_platform(url: str):
    """The active platform whose registered domains claim the URL's host (longest match), or None."""
    from .models import PlatformDomain

    host = host_of(url)
    if host.startswith("www."):
        host = host[4:]
    candidates = candidate_domains(host)
    matches = {
        d.domain: d.platform
        for d in PlatformDomain.objects.select_related("platform").filter(
            domain__in=candidates, platform__active=True
        )
    }
    for candidate in candidates:
        if candidate in matches:
            return matches[candidate]
    return None


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
