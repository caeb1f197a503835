"""Reading the search box's text: URLs in any form, numbers with or without a kind, the unit's reference, words;
and the text that cannot be searched, each with its message."""

import uuid

import pytest

from core.errors import InvalidInput
from search import query as q


@pytest.mark.parametrize("text", [
    "https://youtu.be/dQw4w9WgXcQ",
    "  https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share  ",
    "http://m.youtube.com/watch?v=dQw4w9WgXcQ&si=abc#t=1",
    "youtu.be/dQw4w9WgXcQ",  # no scheme: read as https://
    "www.youtube.com/watch?v=dQw4w9WgXcQ",
])
def test_every_form_of_a_url_is_searched_canonical(text):
    parsed = q.parse(text)
    assert parsed.kind == q.URL
    assert parsed.canonical_url == "https://youtube.com/watch?v=dQw4w9WgXcQ"
    assert parsed.platform_reference is None and parsed.words == ()


@pytest.mark.parametrize(("text", "number", "kinds"), [
    ("123", 123, {q.ITEMS, q.REFERRALS, q.CASES}),
    ("#123", 123, {q.ITEMS, q.REFERRALS, q.CASES}),
    ("I-5", 5, {q.ITEMS}),
    ("item 5", 5, {q.ITEMS}),
    ("r123", 123, {q.REFERRALS}),
    ("Referral #9", 9, {q.REFERRALS}),
    ("ref:9", 9, {q.REFERRALS}),
    ("C-7", 7, {q.CASES}),
    ("case 7", 7, {q.CASES}),
])
def test_numbers_with_and_without_a_kind(text, number, kinds):
    parsed = q.parse(text)
    assert (parsed.kind, parsed.number, set(parsed.number_kinds)) == (q.NUMBER, number, kinds)
    assert parsed.platform_reference == text  # a platform's ticket may look like a number too


def test_a_number_too_large_for_an_id_is_words():
    parsed = q.parse("9" * 19)
    assert parsed.kind == q.TEXT and parsed.number is None


def test_the_units_reference_names_a_range_of_delivery_ids(settings):
    settings.UNIT_REFERENCE_PREFIX = "EU IRU"
    parsed = q.parse("eu iru-89ABCDEF")
    assert parsed.kind == q.UNIT_REFERENCE
    first, last = parsed.delivery_ids
    assert first == uuid.UUID("89abcdef-0000-0000-0000-000000000000")
    assert last == uuid.UUID("89abcdef-ffff-ffff-ffff-ffffffffffff")
    assert q.parse("IRU-89ABCDEF").kind == q.TEXT  # another unit's prefix is just a reference


def test_words_are_kept_once_and_at_most_eight():
    parsed = q.parse("hydra  outlet hydra " + " ".join(f"w{n}" for n in range(20)))
    assert parsed.kind == q.TEXT
    assert parsed.words[:3] == ("hydra", "outlet", "w0") and len(parsed.words) == q.MAX_WORDS


def test_text_with_a_dot_that_is_no_url_is_words():
    parsed = q.parse("v1.2 notes")
    assert parsed.kind == q.TEXT


@pytest.mark.parametrize(("text", "message"), [
    ("", "Enter a URL, a number"),
    ("   \t ", "Enter a URL, a number"),
    ("x" * 10_000, "longer than 2,048 characters"),
    ("hydra\x00outlet", "control or formatting characters"),
    ("line one\nline two", "control or formatting characters"),
    ("abc\u202edef", "control or formatting characters"),
    ("ftp://example.org/file", "That URL cannot be searched: Only http and https"),
    ("https://", "That URL cannot be searched"),
    ("https://user:pw@example.org/", "That URL cannot be searched"),
    ("https://example.org:99999/", "That URL cannot be searched"),
    (None, "Enter the search as text"),
])
def test_text_that_cannot_be_searched_says_why(text, message):
    with pytest.raises(InvalidInput) as caught:
        q.parse(text)
    assert message in caught.value.message
    assert caught.value.field_errors == {"q": [caught.value.message]}
