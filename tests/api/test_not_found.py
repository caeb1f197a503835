"""A path under /api/ that matches no route answers the API's JSON 404; elsewhere the site's HTML 404 page."""

import pytest
from django.test import Client

from tests.conftest import api_for

UNKNOWN_API_PATHS = ["/api/", "/api/nope", "/api/v1/nope/", "/api/v2/cases/", "/api/v1/items/1/bogus/"]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
def test_unknown_api_path_is_a_json_404(db, settings, debug, method, path):
    settings.DEBUG = debug
    res = Client().generic(method, path, "{}", content_type="application/json")
    assert res.status_code == 404
    assert res["Content-Type"] == "application/json"
    assert res.json() == {"detail": "Not found.", "errors": {}}


def test_unknown_api_path_is_the_same_404_for_a_signed_in_client(analyst):
    res = api_for(analyst).get("/api/v1/nope/", HTTP_ACCEPT="text/html")
    assert res.status_code == 404 and res["Content-Type"] == "application/json"
    assert res.json() == {"detail": "Not found.", "errors": {}}
    # The same body as a known route's missing object.
    missing = api_for(analyst).get("/api/v1/cases/987654/")
    assert missing.status_code == 404 and missing.json() == res.json()


def test_api_path_without_its_slash_still_redirects(db):
    res = Client().get("/api/v1/cases")
    assert res.status_code == 301 and res["Location"] == "/api/v1/cases/"


@pytest.mark.parametrize("path", ["/nope/", "/apiary/", "/cases/nope/"])
def test_unknown_page_stays_the_html_404(db, path):
    res = Client().get(path)
    assert res.status_code == 404
    assert res["Content-Type"].startswith("text/html")
    assert b"Not found" in res.content
