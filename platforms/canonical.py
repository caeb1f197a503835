"""The machinery behind canonicalize(): hosts, paths, queries, and the per-platform rules of platforms/rules.py.

Nothing here names a platform; platform knowledge is data in rules.py. The public entry points live in
platforms/urls.py (canonicalize, canonicalize_lenient, account_key, url_warnings), which validates first.

Registered domains come from tldextract's bundled Public Suffix List snapshot: no URL is fetched and no cache
is written (`suffix_list_urls=()` skips the download, `cache_dir=None` disables the disk cache, and the
snapshot is the fallback that then always applies).
"""

import ipaddress
import re
import string
import unicodedata
from functools import cache, lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import idna
import tldextract

from platforms.rules import (
    PLATFORM_RULES,
    STRIPPED_HOST_PREFIXES,
    TRACKING_PARAM_PREFIXES,
    TRACKING_PARAMS,
    AccountPattern,
    PlatformRules,
)

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_ESCAPE_OR_CHAR = re.compile(r"%[0-9A-Fa-f]{2}|.", re.DOTALL)
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")  # _PATH_SAFE's characters alone: nothing to rewrite

_BY_HOST: dict[str, PlatformRules] = {}
_BY_DOMAIN: dict[str, PlatformRules] = {}
for _rules in PLATFORM_RULES:
    for _host in (_rules.canonical_host, *_rules.aliases):
        _BY_HOST[_host] = _rules
    for _domain in _rules.domains:
        _BY_DOMAIN[_domain] = _rules
_SHORT_HOSTS = {host: rules for rules in PLATFORM_RULES for host in rules.short_hosts}


@cache
def _rx(pattern: str) -> re.Pattern:
    # ASCII: paths are percent-encoded by then, and `\w` in a rule means [A-Za-z0-9_].
    return re.compile(pattern, re.ASCII)


# --- hosts -----------------------------------------------------------------------------------------------


class InvalidHost(UnicodeError):
    """A host name no resolver takes; the message says why."""


# Host names repeat across a bulk import's rows (a few hundred hosts in a million URLs): the per-host steps are kept.
# The answers are strings (immutable); a host with no valid form raises each time, as exceptions are not kept.
_HOSTS_KEPT = 4096


@lru_cache(maxsize=_HOSTS_KEPT)
def host_to_ascii(host: str) -> str:
    """Lower-case, no trailing dot, IDN as punycode, IP addresses in their compressed form.

    Internationalised names follow IDNA 2008 with the UTS 46 mapping, non-transitional (the `idna` package), as
    browsers do: `faß.example` is its own domain, xn--fa-hia.example, not `fass.example` (IDNA 2003, Python's
    codec). Raises UnicodeError (InvalidHost, or idna's own) for a host with no such form: an empty label
    (`a..b.example`), a label over 63 characters, a name over 253, a code point IDNA 2008 does not allow.
    """
    host = host.rstrip(".").lower()
    if _could_be_ip(host):
        try:
            return ipaddress.ip_address(host).compressed
        except ValueError:
            pass
    if not host.isascii():
        host = idna.uts46_remap(host, std3_rules=False, transitional=False).rstrip(".")
        host = ".".join(label if label.isascii() else idna.alabel(label).decode("ascii") for label in host.split("."))
    _check_labels(host)
    return host


def _check_labels(host: str) -> None:
    if not host:
        return  # `https://./`: validate_url says the URL has no host
    if host.startswith(".") or ".." in host:
        raise InvalidHost("it has an empty label (two dots in a row)")
    if len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
        raise InvalidHost("a label is longer than 63 characters, or the name longer than 253")


def host_to_unicode(ascii_host: str) -> str:
    """The readable form of host_to_ascii's answer (IDNA 2008): raises UnicodeError for a label that is not."""
    return ".".join(idna.ulabel(label) if label.startswith("xn--") else label for label in ascii_host.split("."))


def _could_be_ip(host: str) -> bool:
    """Cheap pre-check (ipaddress raising for every domain name costs a bulk import seconds): an IPv6 literal
    has a colon, an IPv4 one ends in a digit; no domain name's top-level label is all digits."""
    return ":" in host or (host[-1:].isdigit())


def _is_ip(host: str) -> bool:
    if not _could_be_ip(host):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def registered_domain(host: str) -> str:
    """The domain its owner registered (`a.b.example.co.uk` → `example.co.uk`), from the bundled suffix list.

    A host under no known public suffix (`tube.example`, `intranet`) counts its last two labels.
    """
    if not host or _is_ip(host):
        return host
    result = _EXTRACT(host)
    if result.domain and result.suffix:
        return f"{result.domain}.{result.suffix}"
    return ".".join(host.split(".")[-2:])


@lru_cache(maxsize=_HOSTS_KEPT)
def strip_host_prefixes(host: str) -> str:
    """Remove `www.`, `m.`, `mobile.` (repeatedly) while they sit above the registered domain."""
    registered = registered_domain(host)
    while host != registered:
        prefix = next((p for p in STRIPPED_HOST_PREFIXES if host.startswith(p)), None)
        if prefix is None:
            break
        host = host[len(prefix):]
    return host


def fold_host(host: str) -> str:
    """An ASCII host as canonicalize() writes it: prefixes removed, platform aliases folded."""
    host = strip_host_prefixes(host)
    rules = _BY_HOST.get(host)
    return rules.canonical_host if rules else host


def platform_family(host: str) -> str | None:
    """The slug of the platform family whose registered domains include the host's, or None."""
    rules = _BY_DOMAIN.get(registered_domain(host)) or _BY_HOST.get(strip_host_prefixes(host))
    return rules.slug if rules else None


# --- paths and queries -----------------------------------------------------------------------------------


def _normalise_escapes(text: str, safe: frozenset[str]) -> str:
    """Percent-encode what must be, upper-case escapes, decode escaped unreserved characters (RFC 3986 6.2.2).

    A `%` that starts no escape is written `%25`, so the result reads the same when normalised again.
    """
    out = []
    for token in _ESCAPE_OR_CHAR.findall(text):
        if len(token) == 3:
            char = chr(int(token[1:], 16))
            out.append(char if char in _UNRESERVED else token.upper())
        elif token in safe:
            out.append(token)
        else:
            out.append("".join(f"%{byte:02X}" for byte in token.encode("utf-8", "surrogatepass")))
    return "".join(out)


def _lower(text: str) -> str:
    """Lower-case, leaving percent-escapes upper-case (`%C3%A9` stays as it is)."""
    return "".join(t if t.startswith("%") else t.lower() for t in _ESCAPE_OR_CHAR.findall(text))


def _normalise_path(path: str) -> str:
    path = path or "/"
    if not _PLAIN_PATH.fullmatch(path):  # most paths: no escape, nothing to encode, so no pass per character
        path = _normalise_escapes(path, _PATH_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    return path.rstrip("/") or "/"


def _is_tracking(name: str, rules: PlatformRules | None) -> bool:
    lowered = name.lower()
    return (
        lowered.startswith(TRACKING_PARAM_PREFIXES)
        or lowered in TRACKING_PARAMS
        or (rules is not None and name in rules.drop_query)
    )


def _split_template(text: str) -> tuple[str, list[tuple[str, str]]]:
    path, _, query = text.partition("?")
    return path, parse_qsl(query, keep_blank_values=True)


def _apply_rewrites(rules: PlatformRules, host: str, path: str, query: list) -> tuple[str, list]:
    for rewrite in rules.rewrites:
        if rewrite.hosts and host not in rewrite.hosts:
            continue
        match = _rx(rewrite.pattern).fullmatch(path)
        if match is None:
            continue
        groups = {k: (_lower(v) if k in rewrite.lower else v) for k, v in match.groupdict(default="").items()}
        path, added = _split_template(rewrite.template.format(**groups))
        names = {k for k, _ in added}
        query = added + [(k, v) for k, v in query if k not in names]
    return path, query


def _match_account(rules: PlatformRules, path: str, query: list) -> tuple[AccountPattern, dict] | None:
    params = dict(reversed(query))  # the first value of a repeated parameter
    for account in rules.accounts:
        match = _rx(account.pattern).fullmatch(path)
        if match is None:
            continue
        groups = match.groupdict(default="")
        for name, pattern in account.params:
            param_match = _rx(pattern).fullmatch(params[name]) if name in params else None
            if param_match is None:
                break
            groups.update(param_match.groupdict(default=""))
        else:
            if account.case_insensitive:
                groups = {k: _lower(v) for k, v in groups.items()}
            if groups.get("handle", "").lower() in account.reserved:
                continue
            return account, groups
    return None


# --- the canonical form ----------------------------------------------------------------------------------


def canonicalize_url(url: str) -> str:
    """The canonical form of a URL that passed validate_url (see docs/url-canonicalisation.md)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = strip_host_prefixes(host_to_ascii(parts.hostname or ""))
    rules = _BY_HOST.get(host)
    path = _normalise_path(parts.path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if rules is not None:
        path, query = _apply_rewrites(rules, host, path, query)
        host = rules.canonical_host
    query = [(k, v) for k, v in query if not _is_tracking(k, rules)]
    if rules is not None:
        if rules.keep_query is not None:
            query = [(k, v) for k, v in query if k in rules.keep_query]
        found = _match_account(rules, path, query)
        if found is not None and found[0].canonical is not None:
            path, query = _split_template(found[0].canonical.format(**found[1]))
    query.sort()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    # The scheme becomes https, so 443 is a default port whatever the URL said.
    netloc = host if port in (None, 443, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    out_scheme = "https" if scheme in _DEFAULT_PORTS else scheme
    return urlunsplit((out_scheme, netloc, path, urlencode(query), ""))


def account_key_of(canonical_url: str) -> str | None:
    """`platform:handle` for a canonical URL naming an account or channel, else None."""
    parts = urlsplit(canonical_url)
    rules = _BY_HOST.get(parts.hostname or "")
    if rules is None or rules.canonical_host != parts.hostname:
        return None
    found = _match_account(rules, parts.path, parse_qsl(parts.query, keep_blank_values=True))
    if found is None:
        return None
    account, groups = found
    return f"{rules.slug}:{account.key.format(**groups)}"


# --- warnings --------------------------------------------------------------------------------------------

# Letters of other scripts (and a few rare Latin ones) that read as a Latin letter. Not the full Unicode
# confusables table: enough to catch the usual imitations of platform names.
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "у": "y",
    "ү": "y", "ѵ": "v", "ԝ": "w", "х": "x", "п": "n", "ь": "b",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "γ": "y",
    # Armenian
    "ա": "w", "գ": "q", "զ": "q", "հ": "h", "ո": "n", "ս": "u", "ց": "g", "օ": "o", "ք": "p",
    # Latin letters that imitate plain ones
    "ɑ": "a", "ɡ": "g", "ı": "i", "ɩ": "i", "ɪ": "i", "ʟ": "l", "ɴ": "n", "ʀ": "r", "ꜱ": "s",
}


def _script(char: str) -> str:
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def host_warnings(hostname: str) -> list[str]:
    """Warnings an analyst should read about a host: look-alike letters, IDN, short links."""
    try:
        ascii_host = host_to_ascii(hostname)
    except UnicodeError:
        return ["The host name is not a valid internationalised domain name."]
    warnings = []
    labels = []
    for label in ascii_host.split("."):
        try:
            labels.append(host_to_unicode(label))
        except UnicodeError:
            warnings.append(f"The host has a label that is not valid punycode: {label}.")
            labels.append(label)
    unicode_host = ".".join(labels)
    if unicode_host != ascii_host:
        letters = [ch for ch in unicode_host if ch.isalpha()]
        scripts = {_script(ch) for ch in letters}
        lookalikes = [ch for ch in letters if ch in _LOOKALIKES]
        non_latin = scripts - {"LATIN"}
        if lookalikes and (len(lookalikes) == len([c for c in letters if not c.isascii()]) or "LATIN" in scripts):
            warnings.append(
                f"The host contains non-Latin characters that look like Latin ones: shown as {ascii_host}."
            )
            skeleton = "".join(_LOOKALIKES.get(ch, ch) for ch in unicode_host)
            imitated = _BY_DOMAIN.get(registered_domain(skeleton)) if skeleton.isascii() else None
            if imitated is not None:
                warnings.append(
                    f"The host {unicode_host} imitates {registered_domain(skeleton)} ({imitated.slug}); "
                    "it is a different site."
                )
        elif non_latin and "LATIN" in scripts:
            names = ", ".join(sorted(s.title() for s in scripts))
            warnings.append(f"The host mixes letters of several scripts ({names}): shown as {ascii_host}.")
        else:
            warnings.append(f"The host is an internationalised name ({unicode_host}): shown as {ascii_host}.")
    short = _SHORT_HOSTS.get(strip_host_prefixes(ascii_host))
    if short is not None:
        warnings.append(
            f"{ascii_host} is a {short.slug} short link: it is kept as it is (it cannot be resolved offline), "
            "so it will not match the full URL it points to."
        )
    return warnings
