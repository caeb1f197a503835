"""Hosts follow IDNA 2008 with UTS 46 (the `idna` package), as browsers do: `faß.example` stays its own domain;
a host with an empty label (`a..b.example`) or an over-long one is refused with a message where URLs come in."""

import pytest

from cases.models import Item
from intake import actions as intake_actions
from platforms.canonical import host_warnings
from platforms.content_urls import InvalidURL, canonicalize, normalise_domain, validate_url
from tests.intake.test_import_api import upload


def test_sharp_s_stays_its_own_domain():
    assert canonicalize("https://faß.example/x") == "https://xn--fa-hia.example/x"
    assert canonicalize("https://FASS.example/x") == "https://fass.example/x"
    assert canonicalize("https://faß.example/x") != canonicalize("https://fass.example/x")
    assert normalise_domain("Faß.Example") == "xn--fa-hia.example"
    # UTS 46 still maps what it should: case, full-width letters and dots; the Greek final sigma is kept.
    assert canonicalize("https://ＢÜcher．example/") == "https://xn--bcher-kva.example/"
    assert canonicalize("https://ς.example/") == "https://xn--3xa.example/"
    assert any("faß.example" in w for w in host_warnings("faß.example"))


@pytest.mark.parametrize("url, reason", [
    ("https://a..b.example/x", "empty label"),
    ("https://.tube.example/x", "empty label"),
    ("https://" + "a" * 64 + ".example/", "longer than 63"),
    ("https://\u2603.example/", ""),  # a symbol (a snowman): IDNA 2003 took it, IDNA 2008 does not
])
def test_invalid_hosts_are_refused_with_a_message(url, reason):
    with pytest.raises(InvalidURL, match=f"host name is not valid.*{reason}"):
        validate_url(url)


def test_the_item_api_answers_400_for_an_empty_label(api, analyst, case, platform_a):
    res = api(analyst).post("/api/v1/items/", {"case": case.pk, "url": "https://a..b.example/x", "kind": "post",
                                               "categories": ["incitement"]}, format="json")
    assert res.status_code == 400
    assert res.json()["errors"]["url"] == [
        "The URL's host name is not valid: it has an empty label (two dots in a row)."]
    assert Item.objects.count() == 0


def test_an_import_rejects_the_line_with_an_empty_label(api, analyst, case, platform_a):
    res = upload(api(analyst), case, "url,kind\nhttps://a..b.example/x,post\nhttps://faß.example/1,post\n".encode())
    job_id = res.json()["id"]
    intake_actions.run_import(job_id)
    done = api(analyst).get(f"/api/v1/imports/{job_id}/").json()
    assert done["accepted"] == 1 and done["rejected"] == 1
    assert done["errors"] == [{"line": 2, "reason": "The URL's host name is not valid: it has an empty label "
                                                   "(two dots in a row)."}]
    assert Item.objects.get().canonical_url == "https://xn--fa-hia.example/1"
