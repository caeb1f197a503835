"""A URL's host resolves to the platform that registered it, through the platform's alias hosts too."""

import pytest

from platforms.content_urls import resolve_platform
from platforms.services import platform_create


def make_platform(slug, domains):
    return platform_create(actor=None, slug=slug, name=slug.title(), domains=domains, contact_points=[])


@pytest.fixture
def x_platform(db):
    return make_platform("x", ["x.com"])


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/someuser/status/1",
        "https://www.x.com/someuser",
        "https://twitter.com/someuser/status/1",
        "https://mobile.twitter.com/SomeUser/status/1?s=20",
        "https://www.twitter.com/someuser",
        "https://fxtwitter.com/someuser/status/1",
    ],
)
def test_platform_registered_as_x_claims_its_alias_hosts(x_platform, url):
    assert resolve_platform(url) == x_platform


def test_youtube_short_host_resolves_to_the_platform_registered_as_youtube(db):
    youtube = make_platform("youtube", ["youtube.com"])
    assert resolve_platform("https://youtu.be/dQw4w9WgXcQ") == youtube
    assert resolve_platform("https://m.youtube.com/watch?v=dQw4w9WgXcQ") == youtube


def test_telegram_mirrors_resolve_to_t_me(db):
    telegram = make_platform("telegram", ["t.me"])
    assert resolve_platform("https://telegram.me/somechannel/1") == telegram
    assert resolve_platform("https://telegram.dog/somechannel") == telegram


def test_subdomains_resolve_to_the_registered_domain(db):
    video = make_platform("video", ["video.example"])
    assert resolve_platform("https://cdn.eu.video.example/v/1") == video
    assert resolve_platform("https://VIDEO.example./v/1") == video


def test_longest_registered_suffix_wins(db):
    portal = make_platform("portal", ["portal.example"])
    news = make_platform("news", ["news.portal.example"])
    assert resolve_platform("https://a.news.portal.example/story") == news
    assert resolve_platform("https://news.portal.example/story") == news
    assert resolve_platform("https://shop.portal.example/item") == portal


def test_an_explicitly_registered_alias_host_wins_over_folding(db):
    x = make_platform("x", ["x.com"])
    legacy = make_platform("legacy-twitter", ["twitter.com"])
    assert resolve_platform("https://twitter.com/someuser") == legacy
    assert resolve_platform("https://x.com/someuser") == x


def test_mobile_prefix_is_not_needed_in_the_registration(db):
    tube = make_platform("tube", ["tube.example"])
    assert resolve_platform("https://m.tube.example/watch?v=1") == tube
    assert resolve_platform("https://www.m.tube.example/watch?v=1") == tube


def test_internationalised_domain_resolves_in_either_spelling(db):
    books = make_platform("books", ["bücher.de"])
    assert resolve_platform("https://www.bücher.de/katalog") == books
    assert resolve_platform("https://xn--bcher-kva.de/katalog") == books


def test_look_alike_host_does_not_resolve_to_the_imitated_platform(db):
    make_platform("facebook", ["facebook.com"])
    assert resolve_platform("https://f\u0430cebook.com/SomePage") is None


def test_unknown_host_resolves_to_nothing(x_platform):
    assert resolve_platform("https://unclaimed.example/p/1") is None
    assert resolve_platform("https://x.com.evil.example/someuser") is None
    assert resolve_platform("https://notx.com/someuser") is None
