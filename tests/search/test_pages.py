"""The search page (/search/?q=), the header's box on every page, and GET /api/v1/search/?q=. The basic flows
run on SQLite too (both_databases): a URL, a number, words, bad input."""

import pytest

from tests.conftest import api_for, signed_in
from tests.search.conftest import YOUTU_BE

pytestmark = pytest.mark.django_db
both = pytest.mark.both_databases

BAD = [
    ("", "Enter a URL, a number"),
    ("x" * 10_000, "longer than 2,048 characters"),
    ("hydra\x00outlet", "control or formatting characters"),
    ("hydra\u202eoutlet", "control or formatting characters"),
    ("https://exa mple.org/", "That URL cannot be searched"),
    ("ftp://example.org/", "That URL cannot be searched"),
]


@both
def test_a_youtu_be_link_goes_straight_to_its_item(analyst, youtube_item):
    res = signed_in(analyst).get("/search/", {"q": YOUTU_BE})
    assert res.status_code == 302 and res["Location"] == f"/items/{youtube_item.pk}/"


@both
def test_list_shows_a_single_result_instead_of_going_to_it(analyst, youtube_item):
    res = signed_in(analyst).get("/search/", {"q": YOUTU_BE, "list": "1"})
    html = res.content.decode()
    assert res.status_code == 200
    assert f'<a href="/items/{youtube_item.pk}/">Item {youtube_item.pk}</a>' in html
    assert "https://youtube.com/watch?v=dQw4w9WgXcQ" in html  # the canonical form searched is shown


@both
def test_results_are_grouped_by_kind(supervisor, noted_item, referral_a):
    html = signed_in(supervisor).get("/search/", {"q": "hydra"}).content.decode()
    assert html.index('id="search-items"') < html.index('id="search-referrals"') < html.index('id="search-cases"')
    assert f'href="/items/{noted_item.pk}/">Item {noted_item.pk}</a>' in html
    assert f'href="/cases/{noted_item.case_id}/">Case {noted_item.case_id}</a>' in html
    assert "No referrals found." in html


@both
def test_a_number_finds_every_kind_with_that_number(analyst, referral_a):
    number = referral_a.pk
    html = signed_in(analyst).get("/search/", {"q": f"#{number}", "list": "1"}).content.decode()
    assert f'href="/referrals/{number}/">Referral {number}</a>' in html
    res = signed_in(analyst).get("/search/", {"q": f"R-{number}"})
    assert res.status_code == 302 and res["Location"] == f"/referrals/{number}/"


@both
def test_a_platforms_reference_on_the_page(analyst, liaison_b, referral_a):
    res = signed_in(analyst).get("/search/", {"q": "tube-4411"})
    assert res.status_code == 302 and res["Location"] == f"/referrals/{referral_a.pk}/"
    html = signed_in(liaison_b).get("/search/", {"q": "TUBE-4411"}).content.decode()
    assert "Nothing found for" in html and f"/referrals/{referral_a.pk}/" not in html


@both
@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_input_is_a_message_on_the_page(analyst, text, message):
    res = signed_in(analyst).get("/search/", {"q": text})
    assert res.status_code == 400
    html = res.content.decode()
    assert 'role="alert"' in html and message in html
    assert 'aria-invalid="true"' in html


@both
def test_the_empty_page_explains_what_can_be_searched(analyst):
    res = signed_in(analyst).get("/search/")
    assert res.status_code == 200 and "A URL in any form" in res.content.decode()


def test_anonymous_is_sent_to_sign_in_and_the_api_answers_401(client):
    res = client.get("/search/", {"q": "hydra"})
    assert res.status_code == 302 and res["Location"].startswith("/login/")
    res = client.get("/api/v1/search/", {"q": "hydra"})
    assert res.status_code == 401 and set(res.json()) == {"detail", "errors"}


@both
def test_the_header_has_the_search_box_for_the_unit_and_liaisons(client, analyst, supervisor, liaison_a):
    for user, page in [(analyst, "/queue/"), (supervisor, "/cases/"), (liaison_a, "/referrals/")]:
        html = signed_in(user).get(page).content.decode()
        assert '<form method="get" action="/search/" class="site-search" role="search">' in html
        assert '<label for="site-search-q"' in html and 'aria-keyshortcuts="/"' in html
    assert 'class="site-search"' not in client.get("/login/").content.decode()


def test_the_header_box_keeps_the_search_on_the_results_page(analyst, noted_item):
    html = signed_in(analyst).get("/search/", {"q": "hydra outlet"}).content.decode()
    assert 'name="q" maxlength="2048" autocomplete="off" aria-keyshortcuts="/"' in html
    assert 'value="hydra outlet"' in html


# --- The API ---------------------------------------------------------------------------------------------------

@both
def test_the_api_answers_the_same_groups(analyst, noted_item, referral_a):
    res = api_for(analyst).get("/api/v1/search/", {"q": "hydra"})
    assert res.status_code == 200
    body = res.json()
    assert body["interpreted_as"] == "text" and body["searched"] == ["items", "referrals", "cases"]
    assert [row["id"] for row in body["items"]] == [noted_item.pk]
    assert body["items"][0]["page_url"] == f"/items/{noted_item.pk}/"
    assert body["items"][0]["api_url"] == f"/api/v1/items/{noted_item.pk}/"
    assert body["items"][0]["match"] == "notes"
    assert [row["id"] for row in body["cases"]] == [noted_item.case_id]
    assert body["referrals"] == [] and body["more"] == {"items": False, "referrals": False, "cases": False}


@both
def test_the_api_canonicalises_urls(analyst, youtube_item):
    body = api_for(analyst).get("/api/v1/search/", {"q": YOUTU_BE}).json()
    assert body["interpreted_as"] == "url"
    assert body["canonical_url"] == "https://youtube.com/watch?v=dQw4w9WgXcQ"
    assert [row["id"] for row in body["items"]] == [youtube_item.pk]


def test_the_api_scopes_a_liaison_to_their_platform(liaison_a, referral_a, referral_b):
    body = api_for(liaison_a).get("/api/v1/search/", {"q": "tube-4411"}).json()
    assert body["searched"] == ["referrals"] and [r["id"] for r in body["referrals"]] == [referral_a.pk]
    assert body["referrals"][0]["platform_reference"] == "TUBE-4411"
    assert body["referrals"][0]["api_url"] == f"/api/v1/referrals/{referral_a.pk}/"
    assert api_for(liaison_a).get("/api/v1/search/", {"q": "CHIRP-77"}).json()["referrals"] == []
    assert api_for(liaison_a).get("/api/v1/search/", {"q": str(referral_b.pk)}).json()["referrals"] == []


@both
@pytest.mark.parametrize(("text", "message"), BAD)
def test_the_api_answers_400_with_the_message(analyst, text, message):
    res = api_for(analyst).get("/api/v1/search/", {"q": text})
    assert res.status_code == 400
    body = res.json()
    assert message in body["detail"] and body["errors"] == {"q": [body["detail"]]}


def test_the_api_without_q_is_a_400(analyst):
    res = api_for(analyst).get("/api/v1/search/")
    assert res.status_code == 400 and "Enter a URL" in res.json()["detail"]
