"""Arbitrary JSON at every write endpoint, from every role: a 4xx (or a 2xx for what happens to be valid),
never a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import api_for

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=50)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)
FIELDS = ["case", "url", "kind", "categories", "language", "notes", "platform", "instrument", "reason", "status",
          "platform_reference", "note", "action_taken_at", "items", "slug", "name", "domains", "contact_points",
          "title", "description", "ticket", "secret"]
bodies = st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))

ENDPOINTS = ["/api/v1/items/", "/api/v1/cases/", "/api/v1/platforms/", "/api/v1/items/approve/",
             "/api/v1/items/{item}/propose/", "/api/v1/items/{item}/approve/", "/api/v1/items/{item}/reject/",
             "/api/v1/items/{item}/return/", "/api/v1/referrals/{referral}/status/",
             "/api/v1/contact-points/{cp}/rotate-secret/"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_body_makes_a_500(path, analyst, supervisor, liaison_a, admin_user, approved_referral):
    clients = [api_for(user) for user in (analyst, supervisor, liaison_a, admin_user)]
    url = path.format(item=approved_referral.item_id, referral=approved_referral.pk,
                      cp=approved_referral.platform.contact_points.first().pk)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=bodies, who=st.integers(0, 3))
    def check(body, who):
        res = clients[who].post(url, body, format="json")
        assert res.status_code < 500, (res.status_code, body)
        assert "detail" in res.json() or res.status_code < 300

    check()


url_text = st.one_of(
    st.text(max_size=120),
    st.builds(lambda host, path: f"https://{host}/{path}", st.text(min_size=1, max_size=30), st.text(max_size=60)),
    st.sampled_from(["https://tube.example/", "http://[::1]/", "https://xn--/", "https://a..b/", "https://-/",
                     "https://tube.example:0/", "https://\u0430pple.example/", "https://tube.example/%zz"]),
)


def test_item_bodies_with_hostile_urls_never_500(analyst, case, platform_a):
    client = api_for(analyst)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(url=url_text, kind=st.sampled_from(["post", "account", "nope"]), language=st.text(max_size=20),
           notes=st.text(max_size=200))
    def check(url, kind, language, notes):
        res = client.post("/api/v1/items/", {"case": case.pk, "url": url, "kind": kind, "language": language,
                                             "notes": notes}, format="json")
        assert res.status_code in (201, 400), (res.status_code, url, res.content[:300])

    check()
