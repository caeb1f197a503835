"""Properties of canonicalisation over generated input: never raises, idempotent, clean output."""

from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from platforms.canonical import registered_domain
from platforms.content_urls import (
    InvalidURL,
    account_key,
    canonicalize,
    canonicalize_lenient,
    url_warnings,
    validate_url,
)
from platforms.rules import PLATFORM_RULES

BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PLATFORM_HOSTS = sorted({h for r in PLATFORM_RULES for h in (r.canonical_host, *r.aliases, *r.short_hosts)})
URLISH = st.sampled_from(list(":/?#[]@!$&'()*+,;=%.-_~ ")) | st.characters()

label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
unicode_label = st.sampled_from(["bücher", "f\u0430cebook", "пример", "δοκιμή", "例え", "straße", "xn--bcher-kva"])
tld = st.sampled_from(["com", "org", "co.uk", "de", "example", "me", "be", "рф", "COM"])
prefix = st.sampled_from(["", "", "www.", "m.", "mobile.", "WWW.", "www.m."])


@st.composite
def hosts(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        host = draw(st.sampled_from(PLATFORM_HOSTS))
    elif kind == 1:
        host = ".".join(draw(st.lists(label | unicode_label, min_size=1, max_size=3))) + "." + draw(tld)
    elif kind == 2:
        host = draw(st.ip_addresses(v=4)).exploded
    else:
        host = ".".join(draw(st.lists(label, min_size=1, max_size=4))) + "." + draw(tld)
    host = draw(prefix) + host
    if ":" in host:
        host = f"[{host}]"
    return draw(st.sampled_from([host, host.upper(), host + "."]))


segment = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"),
                                         blacklist_characters="/?#\\") | st.sampled_from(list("%@:~._-")),
                  max_size=12)
query_key = st.sampled_from(["v", "list", "id", "q", "s", "t", "si", "utm_source", "UTM_Medium", "fbclid", "igshid",
                             "feature", "ref_src", "page", "story_fbid", "comment"]) | st.from_regex(r"[a-z_]{1,8}",
                                                                                                    fullmatch=True)
query_value = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"),
                                             blacklist_characters="&#"), max_size=10)
platform_path = st.sampled_from([
    "/@SomeUser", "/SomeUser", "/SomeUser/status/123", "/s/SomeChannel/5", "/joinchat/AbCdEf", "/watch",
    "/shorts/dQw4w9WgXcQ", "/dQw4w9WgXcQ", "/profile.php", "/people/A-B/123", "/groups/G", "/r/Sub/comments/ab1/x",
    "/u/SomeOne", "/channel/UCuAXFkgsw1L7xaCfnd5JJOw", "/c/Name", "/invite/AbC", "/embed/abc", "/reels/Cab",
    "/user/p/Cab", "/@x:1/v:2", "/channel/0029VaABCDEFGHIJKLMNOP12", "/home", "/p/Cab", "/+AbCdEfGh",
])


@st.composite
def valid_urls(draw):
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "Http"]))
    host = draw(hosts())
    port = draw(st.sampled_from(["", "", ":80", ":443", ":8080", ":0443"]))
    if draw(st.booleans()):
        path = draw(platform_path) + draw(st.sampled_from(["", "/", "/videos", "//"]))
    else:
        path = "".join("/" + s for s in draw(st.lists(segment, max_size=4))) + draw(st.sampled_from(["", "/"]))
    pairs = draw(st.lists(st.tuples(query_key, query_value), max_size=5))
    query = "&".join(f"{k}={v}" if v else k for k, v in pairs)
    fragment = draw(st.sampled_from(["", "#", "#frag", "#!/x/y?z=1"]))
    url = f"{scheme}://{host}{port}{path}" + (f"?{query}" if query or draw(st.booleans()) else "") + fragment
    try:
        return validate_url(url)
    except InvalidURL:
        assume(False)


@BOUNDED
@given(st.text())
def test_lenient_never_raises_and_is_idempotent_on_any_text(text):
    once = canonicalize_lenient(text)
    assert isinstance(once, str)
    assert canonicalize_lenient(once) == once


@BOUNDED
@given(st.builds(lambda a, b: a + b, st.sampled_from(["https://", "http://", "HTTPS://www.", "https://[", ""]),
                 st.text(alphabet=URLISH)))
def test_lenient_never_raises_on_url_like_text(text):
    once = canonicalize_lenient(text)
    assert canonicalize_lenient(once) == once
    url_warnings(text)
    account_key(text)


@BOUNDED
@given(valid_urls())
def test_canonical_form_of_a_valid_url_is_clean_and_idempotent(url):
    once = canonicalize(url)
    assert canonicalize(once) == once
    parts = urlsplit(once)
    assert parts.scheme == "https"
    assert "#" not in once and parts.fragment == ""
    host = parts.hostname
    assert host and host.isascii() and host == host.lower()
    assert host == registered_domain(host) or not host.startswith(("www.", "m.", "mobile."))
    names = [k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not any(n.startswith("utm_") or n in ("fbclid", "igshid", "gclid", "si") for n in names)
    assert parts.port != 443  # the scheme is https, whatever the URL said
    assert once.isascii() and " " not in once
    if len(once) <= 2048:
        assert validate_url(once) == once


@BOUNDED
@given(valid_urls())
def test_account_key_and_warnings_never_raise_and_agree_with_the_canonical_form(url):
    key = account_key(url)
    assert key is None or (":" in key and key.split(":", 1)[1])
    assert account_key(canonicalize(url)) == key
    assert all(isinstance(w, str) and w for w in url_warnings(url))
