"""The admin's contact-point form (platforms/admin.py) judges endpoints and secrets as the API does: for each
input, the same fields refused with the same messages (both call platforms.services._check_contact_point)."""

import pytest

from platforms.admin import ContactPointForm
from platforms.secrets import generate_secret

GOOD = generate_secret()
CASES = [
    ("webhook", "http://169.254.169.254/latest/meta-data/", GOOD),  # cloud metadata
    ("webhook", "http://10.0.0.5/hook", GOOD),
    ("webhook", "http://[64:ff9b::a9fe:a9fe]/hook", GOOD),  # NAT64 spelling of the metadata address
    ("webhook", "http://[::ffff:127.0.0.1]/hook", GOOD),
    ("webhook", "https://a..b.example/hook", GOOD),  # an empty label
    ("webhook", "ftp://hooks.example/x", GOOD),
    ("webhook", "https://8.8.8.8/hook", ""),  # a webhook without a secret
    ("webhook", "https://8.8.8.8/hook", "whsec_short"),
    ("email", "abuse@tube.example", GOOD),  # a secret on another channel
    ("email", "not-an-address", ""),
    ("webhook", "https://8.8.8.8/hook", GOOD),  # fine (a literal public address: nothing is resolved)
]


def api_errors(api, admin_user, channel, endpoint, secret) -> dict:
    cp = {"channel": channel, "endpoint": endpoint, **({"secret": secret} if secret else {})}
    res = api(admin_user).post("/api/v1/platforms/", {"slug": "vid", "name": "Vid", "domains": ["vid.example"],
                                                      "contact_points": [cp]}, format="json")
    if res.status_code == 201:
        return {}
    assert res.status_code == 400, res.content
    return res.json()["errors"]["contact_points"]["0"]


@pytest.mark.parametrize("channel, endpoint, secret", CASES)
def test_the_admin_form_refuses_what_the_api_refuses(api, admin_user, settings, channel, endpoint, secret):
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    form = ContactPointForm(data={"channel": channel, "endpoint": endpoint, "secret": secret,
                                  "format": "json-v1" if channel == "webhook" else "email-v1", "language": "en",
                                  "max_items_per_message": 100, "timeout_seconds": 15, "active": "on"})
    form.is_valid()
    assert dict(form.errors) == api_errors(api, admin_user, channel, endpoint, secret)
    assert bool(form.errors) == ((channel, endpoint, secret) != CASES[-1])  # only the last one is fine
