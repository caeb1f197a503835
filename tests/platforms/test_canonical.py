"""The canonical URL is the deduplication key: real-world URL shapes of the major platforms and what they fold to."""

import re
import socket

import pytest
import tldextract

from platforms import canonical
from platforms.content_urls import (
    InvalidURL,
    account_key,
    canonicalize,
    canonicalize_lenient,
    platform_family,
    url_warnings,
    validate_url,
)
from platforms.rules import PLATFORM_RULES

VIDEO = "dQw4w9WgXcQ"
PLAYLIST = "PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"
TWEET = "1234567890123456789"

CANONICAL_FORMS = [
    # YouTube: every way of naming a video folds to watch?v=ID; only `v` and `list` survive.
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", f"https://youtube.com/watch?v={VIDEO}"),
    ("https://youtu.be/dQw4w9WgXcQ?si=AbCdEf123", f"https://youtube.com/watch?v={VIDEO}"),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=youtu.be&t=42s", f"https://youtube.com/watch?v={VIDEO}"),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ?feature=share", f"https://youtube.com/watch?v={VIDEO}"),
    (f"https://www.youtube.com/watch?v={VIDEO}&list={PLAYLIST}&index=3&pp=iAQB",
     f"https://youtube.com/watch?list={PLAYLIST}&v={VIDEO}"),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ?autoplay=1", f"https://youtube.com/watch?v={VIDEO}"),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", f"https://youtube.com/watch?v={VIDEO}"),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?si=x1", f"https://youtube.com/watch?v={VIDEO}"),
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ&feature=share", f"https://youtube.com/watch?v={VIDEO}"),
    ("https://youtu.be/dQw4w9WgXcQ?list=PLabc", f"https://youtube.com/watch?list=PLabc&v={VIDEO}"),
    ("https://www.youtube.com/@SomeChannel/videos", "https://youtube.com/@somechannel"),
    ("https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw/", "https://youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw"),
    (f"https://www.youtube.com/playlist?list={PLAYLIST}&si=abc", f"https://youtube.com/playlist?list={PLAYLIST}"),
    # X / Twitter: one host, the post id decides, `s`/`t` are share trackers.
    (f"https://twitter.com/SomeUser/status/{TWEET}?s=20&t=AbCdEf", f"https://x.com/someuser/status/{TWEET}"),
    (f"https://mobile.twitter.com/someuser/status/{TWEET}", f"https://x.com/someuser/status/{TWEET}"),
    (f"https://x.com/SomeUser/status/{TWEET}/photo/1", f"https://x.com/someuser/status/{TWEET}"),
    (f"https://fxtwitter.com/SomeUser/status/{TWEET}", f"https://x.com/someuser/status/{TWEET}"),
    ("https://www.twitter.com/SomeUser", "https://x.com/someuser"),
    ("https://x.com/SomeUser/media", "https://x.com/someuser"),
    (f"https://x.com/i/web/status/{TWEET}", f"https://x.com/i/web/status/{TWEET}"),
    ("https://t.co/AbCdEf123", "https://t.co/AbCdEf123"),
    ("https://x.com/search?q=%23tag&src=typed_query", "https://x.com/search?q=%23tag"),
    ("https://twitter.com/hashtag/Something?src=hashtag_click", "https://x.com/hashtag/Something"),
    # Telegram: t.me, case-insensitive channel names, the /s/ web preview is the channel.
    ("https://t.me/SomeChannel", "https://t.me/somechannel"),
    ("https://telegram.me/SomeChannel/123", "https://t.me/somechannel/123"),
    ("https://telegram.dog/somechannel/123?single", "https://t.me/somechannel/123"),
    ("https://t.me/s/SomeChannel/123", "https://t.me/somechannel/123"),
    ("https://t.me/joinchat/AAAAAEhJk1c2NtQ5x", "https://t.me/+AAAAAEhJk1c2NtQ5x"),
    ("https://t.me/+AbCdEfGhIjK", "https://t.me/+AbCdEfGhIjK"),
    ("https://t.me/c/1234567890/45", "https://t.me/c/1234567890/45"),
    ("https://t.me/somechannel/123?comment=456", "https://t.me/somechannel/123?comment=456"),
    # Facebook: fb.com and the mobile/basic hosts fold; only content-selecting parameters stay.
    ("https://www.facebook.com/SomePage/", "https://facebook.com/somepage"),
    ("https://m.facebook.com/story.php?story_fbid=1234&id=5678&mibextid=abc",
     "https://facebook.com/story.php?id=5678&story_fbid=1234"),
    ("https://fb.com/groups/SomeGroup/", "https://facebook.com/groups/somegroup"),
    ("https://www.facebook.com/watch/?v=1234567890&ref=sharing", "https://facebook.com/watch?v=1234567890"),
    ("https://web.facebook.com/profile.php?id=100012345678901&sk=photos",
     "https://facebook.com/profile.php?id=100012345678901"),
    ("https://www.facebook.com/people/Some-Name/100012345678901/",
     "https://facebook.com/profile.php?id=100012345678901"),
    ("https://www.facebook.com/SomePage/posts/pfbid02abcDEF?__cft__[0]=AZx&__tn__=%2CO%2CP-R",
     "https://facebook.com/SomePage/posts/pfbid02abcDEF"),
    ("https://mbasic.facebook.com/reel/1234567890?fs=e&s=TIeQ9V", "https://facebook.com/reel/1234567890"),
    ("https://fb.watch/abcDEF123/", "https://fb.watch/abcDEF123"),
    # Instagram: instagr.am folds, no query parameter selects content.
    ("https://www.instagram.com/p/Cabc123XYZ/?igsh=MWQ1ZGUxMzBkMA==", "https://instagram.com/p/Cabc123XYZ"),
    ("https://instagr.am/p/Cabc123XYZ/", "https://instagram.com/p/Cabc123XYZ"),
    ("https://www.instagram.com/reel/Cabc123XYZ/?utm_source=ig_web_copy_link", "https://instagram.com/reel/Cabc123XYZ"),
    ("https://www.instagram.com/reels/Cabc123XYZ/", "https://instagram.com/reel/Cabc123XYZ"),
    ("https://www.instagram.com/someuser/p/Cabc123XYZ/", "https://instagram.com/p/Cabc123XYZ"),
    ("https://www.instagram.com/SomeUser/?hl=en", "https://instagram.com/someuser"),
    # TikTok: short links stay as they are (they cannot be resolved offline).
    ("https://www.tiktok.com/@Some.User/video/7234567890123456789?is_from_webapp=1&sender_device=pc",
     "https://tiktok.com/@some.user/video/7234567890123456789"),
    ("https://m.tiktok.com/@someuser/video/7234567890123456789", "https://tiktok.com/@someuser/video/7234567890123456789"),
    ("https://vm.tiktok.com/ZMabc123/", "https://vm.tiktok.com/ZMabc123"),
    ("https://vt.tiktok.com/ZSabc123/", "https://vt.tiktok.com/ZSabc123"),
    ("https://www.tiktok.com/@SomeUser?lang=en", "https://tiktok.com/@someuser"),
    # Rumble
    ("https://rumble.com/v4abcd-some-title.html?mref=6zof&mc=3", "https://rumble.com/v4abcd-some-title.html"),
    ("https://rumble.com/c/SomeChannel/videos", "https://rumble.com/c/somechannel"),
    ("https://rumble.com/embed/v4abcd/?pub=4", "https://rumble.com/embed/v4abcd"),
    # Odysee: LBRY names are case-sensitive; lbry.tv is the old host.
    ("https://odysee.com/@SomeChannel:a/some-video:b?r=AbCdEf", "https://odysee.com/@SomeChannel:a/some-video:b"),
    ("https://lbry.tv/@SomeChannel:a", "https://odysee.com/@SomeChannel:a"),
    ("https://odysee.com/$/embed/some-video/abc123", "https://odysee.com/$/embed/some-video/abc123"),
    # BitChute
    ("https://www.bitchute.com/video/AbCdEf12345/", "https://bitchute.com/video/AbCdEf12345"),
    ("https://old.bitchute.com/channel/SomeChannel/", "https://bitchute.com/channel/SomeChannel"),
    ("https://www.bitchute.com/embed/AbCdEf12345/", "https://bitchute.com/video/AbCdEf12345"),
    # Archives: a snapshot keeps its embedded URL; archive.today's mirrors fold.
    ("https://web.archive.org/web/20230101000000/https://example.com/page",
     "https://web.archive.org/web/20230101000000/https://example.com/page"),
    ("https://archive.org/details/some-item?utm_campaign=x", "https://archive.org/details/some-item"),
    ("https://archive.is/AbCdE", "https://archive.ph/AbCdE"),
    ("https://archive.today/AbCdE#selection-1.2", "https://archive.ph/AbCdE"),
    # VK
    ("https://vk.com/wall-12345_678", "https://vk.com/wall-12345_678"),
    ("https://m.vk.com/SomeGroup", "https://vk.com/somegroup"),
    ("https://vkontakte.ru/id12345", "https://vk.com/id12345"),
    ("https://vk.com/video-12345_456789?list=abc&from=wall", "https://vk.com/video-12345_456789?list=abc"),
    # Reddit: the title slug is decoration, redd.it is the short host of a post.
    ("https://www.reddit.com/r/SomeSub/comments/abc123/some_title_here/?utm_source=share&utm_medium=web2x&context=3",
     "https://reddit.com/r/somesub/comments/abc123?context=3"),
    ("https://old.reddit.com/r/somesub/comments/abc123/some_title/def456/",
     "https://reddit.com/r/somesub/comments/abc123/some_title/def456"),
    ("https://redd.it/abc123", "https://reddit.com/comments/abc123"),
    ("https://www.reddit.com/u/SomeUser/", "https://reddit.com/user/someuser"),
    ("https://np.reddit.com/r/SomeSub/", "https://reddit.com/r/somesub"),
    ("https://www.reddit.com/r/somesub/s/AbCdEf123?share_id=x", "https://reddit.com/r/somesub/s/AbCdEf123"),
    # Discord invites
    ("https://discord.gg/AbCdEf", "https://discord.com/invite/AbCdEf"),
    ("https://discordapp.com/invite/AbCdEf/", "https://discord.com/invite/AbCdEf"),
    ("https://discord.com/channels/123/456/789", "https://discord.com/channels/123/456/789"),
    # WhatsApp channels
    ("https://whatsapp.com/channel/0029VaABCDEFGHIJKLMNOP12", "https://whatsapp.com/channel/0029VaABCDEFGHIJKLMNOP12"),
    ("https://www.whatsapp.com/channel/0029VaABCDEFGHIJKLMNOP12?utm_source=x",
     "https://whatsapp.com/channel/0029VaABCDEFGHIJKLMNOP12"),
    ("https://chat.whatsapp.com/AbCdEfGhIjK", "https://chat.whatsapp.com/AbCdEfGhIjK"),
    ("https://wa.me/15551234567?text=hi", "https://wa.me/15551234567?text=hi"),
    # Generic websites: the shared rules only; non-tracking parameters stay, sorted.
    ("https://www.tube.example/watch?v=1&utm_source=x", "https://tube.example/watch?v=1"),
    ("HTTP://Example.COM:80/Path/?b=2&a=1#section", "https://example.com/Path?a=1&b=2"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://www.example.co.uk/news/article-1.html?utm_source=tw&ref=home",
     "https://example.co.uk/news/article-1.html?ref=home"),
    ("https://blog.example.org/2023/01/post/?fbclid=IwAR0abc&gclid=xyz", "https://blog.example.org/2023/01/post"),
    ("https://example.com/search?q=a+b&q=c&feature=x&lang=", "https://example.com/search?lang=&q=a+b&q=c"),
    ("https://example.com/a?q=%2B&r=%&s=%e2%82%ac", "https://example.com/a?q=%2B&r=%25&s=%E2%82%AC"),
    ("https://bücher.de/katalog", "https://xn--bcher-kva.de/katalog"),
    ("https://f\u0430cebook.com/page", "https://xn--fcebook-2fg.com/page"),
    ("https://example.com/caf%c3%a9/%7Euser/", "https://example.com/caf%C3%A9/~user"),
    ("https://example.com/café", "https://example.com/caf%C3%A9"),
    ("https://192.168.0.1:443/x", "https://192.168.0.1/x"),
    ("https://[2001:DB8::1]:8080/x", "https://[2001:db8::1]:8080/x"),
    ("https://example.com./", "https://example.com/"),
    ("https://www.m.example.com/page", "https://example.com/page"),
    ("https://m.co.uk/page", "https://m.co.uk/page"),
]


@pytest.mark.parametrize("url, expected", CANONICAL_FORMS)
def test_url_canonicalises_to_its_dedup_key(url, expected):
    assert canonicalize(validate_url(url)) == expected


@pytest.mark.parametrize("url, expected", CANONICAL_FORMS)
def test_canonical_form_is_a_fixed_point(url, expected):
    once = canonicalize(url)
    assert canonicalize(once) == once
    assert validate_url(once) == once


def test_table_covers_enough_shapes_and_every_platform_family():
    assert len(CANONICAL_FORMS) >= 60
    families = {platform_family(url) for url, _ in CANONICAL_FORMS}
    assert {rules.slug for rules in PLATFORM_RULES} <= families


ACCOUNT_KEYS = [
    ("https://twitter.com/SomeUser", "x:someuser"),
    ("https://x.com/someuser/with_replies", "x:someuser"),
    ("https://mobile.twitter.com/SomeUser?lang=en", "x:someuser"),
    ("https://x.com/home", None),
    ("https://x.com/explore", None),
    (f"https://x.com/someuser/status/{TWEET}", None),
    ("https://t.me/SomeChannel", "telegram:somechannel"),
    ("https://t.me/s/SomeChannel", "telegram:somechannel"),
    ("https://telegram.dog/SomeChannel", "telegram:somechannel"),
    ("https://t.me/somechannel/123", None),
    ("https://t.me/joinchat/AbCdEfGh", "telegram:+AbCdEfGh"),
    ("https://t.me/share/url?url=x", None),
    ("https://www.youtube.com/@SomeHandle", "youtube:@somehandle"),
    ("https://m.youtube.com/@somehandle/shorts", "youtube:@somehandle"),
    ("https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw", "youtube:channel/UCuAXFkgsw1L7xaCfnd5JJOw"),
    ("https://www.youtube.com/c/SomeName", "youtube:c/somename"),
    ("https://www.youtube.com/user/SomeName/videos", "youtube:user/somename"),
    ("https://youtu.be/dQw4w9WgXcQ", None),
    ("https://www.tiktok.com/@Some.User", "tiktok:@some.user"),
    ("https://www.tiktok.com/@someuser/video/7234567890123456789", None),
    ("https://www.instagram.com/SomeUser/", "instagram:someuser"),
    ("https://instagr.am/someuser/reels", "instagram:someuser"),
    ("https://www.instagram.com/p/Cabc123XYZ/", None),
    ("https://www.instagram.com/explore", None),
    ("https://www.facebook.com/SomePage", "facebook:somepage"),
    ("https://www.facebook.com/profile.php?id=100012345678901", "facebook:id:100012345678901"),
    ("https://www.facebook.com/people/Some-Name/100012345678901/", "facebook:id:100012345678901"),
    ("https://fb.com/groups/SomeGroup", "facebook:groups/somegroup"),
    ("https://www.facebook.com/watch?v=1234567890", None),
    ("https://www.facebook.com/SomePage/posts/pfbid02abcDEF", None),
    ("https://rumble.com/c/SomeChannel", "rumble:c/somechannel"),
    ("https://odysee.com/@SomeChannel:a", "odysee:@SomeChannel"),
    ("https://odysee.com/@SomeChannel:a/some-video:b", None),
    ("https://www.bitchute.com/channel/AbCdEf123/", "bitchute:channel/AbCdEf123"),
    ("https://www.bitchute.com/video/AbCdEf12345/", None),
    ("https://vk.com/SomeGroup", "vk:somegroup"),
    ("https://vk.com/wall-12345_678", None),
    ("https://www.reddit.com/u/SomeOne", "reddit:u/someone"),
    ("https://old.reddit.com/user/SomeOne/submitted/", "reddit:u/someone"),
    ("https://www.reddit.com/r/SomeSub/", "reddit:r/somesub"),
    ("https://www.reddit.com/r/somesub/comments/abc123/title/", None),
    ("https://discord.gg/AbCdEf", "discord:invite/AbCdEf"),
    ("https://whatsapp.com/channel/0029VaABCDEFGHIJKLMNOP12", "whatsapp:channel/0029VaABCDEFGHIJKLMNOP12"),
    ("https://example.com/someuser", None),
    ("https://vm.tiktok.com/ZMabc123/", None),
    ("not a url", None),
    ("", None),
]


@pytest.mark.parametrize("url, expected", ACCOUNT_KEYS)
def test_account_url_gives_platform_and_handle(url, expected):
    assert account_key(url) == expected


@pytest.mark.parametrize("url, expected", [(u, k) for u, k in ACCOUNT_KEYS if k is not None])
def test_account_key_survives_canonicalisation(url, expected):
    assert account_key(canonicalize(validate_url(url))) == expected


def test_same_account_written_two_ways_has_one_canonical_url():
    assert canonicalize("https://twitter.com/SomeUser/media") == canonicalize("https://x.com/someuser")
    assert canonicalize("https://t.me/s/SomeChannel") == canonicalize("https://telegram.me/somechannel/")


def test_case_sensitive_handles_keep_their_case():
    assert account_key("https://t.me/+AbCdEfGh") != account_key("https://t.me/+abcdefgh")
    assert account_key("https://discord.gg/AbCdEf") != account_key("https://discord.gg/abcdef")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("  https://www.tube.example/a/?utm_medium=x  ", "https://tube.example/a"),
        ("not a url", "not a url"),
        ("  tube.example/watch  ", "tube.example/watch"),
        ("https://tube.example/\u202eevil", "https://tube.example/\u202eevil"),
        ("https://exa mple.com", "https://exa mple.com"),
        ("", ""),
        ("\x00", "\x00"),
    ],
)
def test_lenient_variant_returns_text_it_cannot_parse_stripped(text, expected):
    assert canonicalize_lenient(text) == expected


@pytest.mark.parametrize(
    "url",
    ["https://tube.example/\ud800", "https://./x", "https://../x", "https://xn--fcebook-2fg.com\u202e/"],
)
def test_urls_the_database_or_a_browser_cannot_take_are_refused(url):
    with pytest.raises(InvalidURL):
        validate_url(url)


def test_look_alike_letters_are_flagged_and_kept_apart_from_the_real_platform():
    url = "https://f\u0430cebook.com/SomePage"
    warnings = url_warnings(url)
    assert warnings[0] == (
        "The host contains non-Latin characters that look like Latin ones: shown as xn--fcebook-2fg.com."
    )
    assert "imitates facebook.com" in warnings[1]
    assert platform_family(url) is None
    assert account_key(url) is None


def test_punycode_host_is_read_back_for_the_warning():
    assert url_warnings("https://xn--fcebook-2fg.com/x")[0].startswith(
        "The host contains non-Latin characters that look like Latin ones"
    )


def test_all_cyrillic_imitation_is_flagged():
    warnings = url_warnings("https://\u0430\u0440\u0440\u04cf\u0435.com/")  # аррӏе
    assert warnings and "look like Latin ones" in warnings[0]


def test_mixed_scripts_without_look_alikes_are_flagged():
    warnings = url_warnings("https://face\u0431ook.com/")  # б
    assert warnings == ["The host mixes letters of several scripts (Cyrillic, Latin): shown as xn--faceook-egg.com."]


def test_plain_internationalised_name_is_explained_not_accused():
    assert url_warnings("https://bücher.de/") == [
        "The host is an internationalised name (bücher.de): shown as xn--bcher-kva.de."
    ]
    assert url_warnings("https://пример.рф/")[0].startswith("The host is an internationalised name")


def test_short_link_is_flagged():
    [warning] = url_warnings("https://vm.tiktok.com/ZMabc123/")
    assert "short link" in warning


@pytest.mark.parametrize("url", ["https://example.com/", "https://x.com/someuser", "not a url", "", "https://[::1"])
def test_ordinary_or_unparseable_urls_have_no_warnings(url):
    assert url_warnings(url) == []


# --- the rules are data: check the data is well-formed -------------------------------------------------


def test_rule_hosts_are_lower_case_ascii_and_claimed_once():
    seen: dict[str, str] = {}
    for rules in PLATFORM_RULES:
        for host in (rules.canonical_host, *rules.aliases, *rules.short_hosts):
            assert host == host.lower() and host.isascii(), host
            assert canonical.strip_host_prefixes(host) == host or host in rules.short_hosts, host
            assert seen.setdefault(host, rules.slug) == rules.slug, f"{host} is claimed twice"
        assert canonical.registered_domain(rules.canonical_host) in rules.domains, rules.slug


def test_rule_patterns_compile_and_templates_survive_the_query_filter():
    for rules in PLATFORM_RULES:
        for rewrite in rules.rewrites:
            groups = set(re.compile(rewrite.pattern).groupindex)
            assert set(rewrite.lower) <= groups, rewrite
            _, _, query = rewrite.template.partition("?")
            for pair in filter(None, query.split("&")):
                name = pair.split("=")[0]
                assert rules.keep_query is None or name in rules.keep_query, (rules.slug, name)
                assert name not in rules.drop_query
        for account in rules.accounts:
            groups = set(re.compile(account.pattern).groupindex)
            for _, param_pattern in account.params:
                groups |= set(re.compile(param_pattern).groupindex)
            assert "handle" in groups, account
            account.key.format(**dict.fromkeys(groups, "x"))
            if account.canonical:
                account.canonical.format(**dict.fromkeys(groups, "x"))


def test_suffix_list_is_the_bundled_one_and_nothing_is_cached():
    assert canonical._EXTRACT.suffix_list_urls == ()
    assert canonical._EXTRACT._cache.enabled is False


def test_registered_domains_need_no_network_and_write_no_cache(monkeypatch, tmp_path):
    """Built as platforms/canonical.py builds its extractor, with the network cut and every cache dir pointed
    at an empty directory: it still answers (from the bundled snapshot) and writes nothing."""
    for variable in ("HOME", "XDG_CACHE_HOME", "TLDEXTRACT_CACHE"):
        monkeypatch.setenv(variable, str(tmp_path))
    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "https://publicsuffix.org/list/public_suffix_list.dat")

    def no_network(*args, **kwargs):
        raise AssertionError("tldextract tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    assert extractor("a.b.example.co.uk").top_domain_under_public_suffix == "example.co.uk"
    assert list(tmp_path.iterdir()) == []
