"""The admin is no side door around the audit: every change made there is an AuditEvent by the admin, with no
secret in it; a contact point is checked there exactly as the services check it."""

import json

import pytest
from django.contrib.auth.models import Group

from accounts.models import User, UserAPIKey
from audit.chain import verify_chain
from audit.models import AuditEvent
from platforms.models import ContactPoint, Platform, PlatformDomain
from referral.outbox.webhook import generate_secret
from tests.conftest import make_platform, sign_in
from tests.pages import form_data

PLATFORM = "/admin/platforms/platform/{}/change/"


@pytest.fixture
def admin_client(client, admin_user):
    sign_in(client, admin_user)
    return client


@pytest.fixture
def events():
    """events() → the AuditEvents written since the fixture was set up."""
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return lambda: list(AuditEvent.objects.filter(id__gt=start).order_by("id"))


def the_form(client, path, form_id):
    res = client.get(path)
    assert res.status_code == 200
    return form_data(res.content.decode(), form_id)


def post(client, path, data):
    return client.post(path, {**data, "_save": "Save"})


def nothing_secret_in(evts, *secrets):
    text = json.dumps([[e.before, e.after, e.object_id] for e in evts])
    for secret in secrets:
        assert secret not in text and secret[6:] not in text


# --- Contact points -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value, before, after", [
    ("endpoint", "http://127.0.0.1:9/new-hook", "http://127.0.0.1:9/hook", "http://127.0.0.1:9/new-hook"),
    ("secret", "NEW", "<set>", "<changed>"),
    ("active", None, True, False),  # unticked
])
def test_a_contact_point_change_is_one_audit_event_by_the_admin(admin_client, admin_user, platform_a, events,
                                                                field, value, before, after):
    cp = platform_a.contact_points.get()
    old_secret, new_secret = cp.secret, generate_secret()
    data = the_form(admin_client, PLATFORM.format(platform_a.pk), "platform_form")
    key = f"contact_points-0-{field}"
    if value is None:
        data.pop(key)
    else:
        data[key] = [new_secret if value == "NEW" else value]
    res = post(admin_client, PLATFORM.format(platform_a.pk), data)
    assert res.status_code == 302, res.content.decode()[:3000]
    cp.refresh_from_db()
    assert getattr(cp, field) == (new_secret if value == "NEW" else value if value else False)
    [event] = events()
    assert (event.verb, event.actor, event.object_type, event.object_id) == (
        "admin.contactpoint.changed", admin_user, "contactpoint", str(cp.pk))
    assert (event.before, event.after) == ({field: before}, {field: after})
    nothing_secret_in(events(), old_secret, new_secret)
    assert verify_chain() is None


def test_saving_with_no_change_writes_nothing_and_keeps_the_secret(admin_client, platform_a, events):
    secret = platform_a.contact_points.get().secret
    data = the_form(admin_client, PLATFORM.format(platform_a.pk), "platform_form")
    assert data["contact_points-0-secret"] == [""]  # never rendered
    assert post(admin_client, PLATFORM.format(platform_a.pk), data).status_code == 302
    assert events() == [] and platform_a.contact_points.get().secret == secret


@pytest.mark.parametrize("endpoint", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/hook",
                                      "http://127.0.0.1:9/elsewhere"])
def test_admin_refuses_a_private_or_metadata_endpoint(admin_client, platform_a, events, settings, endpoint):
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    data = the_form(admin_client, PLATFORM.format(platform_a.pk), "platform_form")
    data["contact_points-0-endpoint"] = [endpoint]
    res = post(admin_client, PLATFORM.format(platform_a.pk), data)
    assert res.status_code == 200
    assert "resolves to a private, loopback or link-local address" in res.content.decode()
    assert platform_a.contact_points.get().endpoint == "http://127.0.0.1:9/hook" and events() == []


def test_admin_refuses_a_new_webhook_without_a_valid_secret(admin_client, platform_a, events):
    data = the_form(admin_client, PLATFORM.format(platform_a.pk), "platform_form")
    data.update({"contact_points-TOTAL_FORMS": ["2"], "contact_points-1-channel": ["webhook"],
                 "contact_points-1-endpoint": ["http://127.0.0.1:9/second"], "contact_points-1-secret": [""],
                 "contact_points-1-format": ["json-v1"], "contact_points-1-language": ["en"],
                 "contact_points-1-max_items_per_message": ["100"], "contact_points-1-timeout_seconds": ["15"],
                 "contact_points-1-active": ["on"]})
    res = post(admin_client, PLATFORM.format(platform_a.pk), data)
    assert res.status_code == 200 and "A webhook secret starts with" in res.content.decode()
    assert platform_a.contact_points.count() == 1 and events() == []
    data["contact_points-1-secret"] = [secret := generate_secret()]
    assert post(admin_client, PLATFORM.format(platform_a.pk), data).status_code == 302
    [event] = events()
    assert event.verb == "admin.contactpoint.created" and event.after["secret"] == "<set>"
    assert event.after["endpoint"] == "http://127.0.0.1:9/second"
    nothing_secret_in(events(), secret)


def test_admin_refuses_a_secret_on_an_email_contact_point(admin_client, platform_a, events):
    data = the_form(admin_client, PLATFORM.format(platform_a.pk), "platform_form")
    data.update({"contact_points-0-channel": ["email"], "contact_points-0-endpoint": ["abuse@tube.example"],
                 "contact_points-0-format": ["email-v1"], "contact_points-0-secret": [generate_secret()]})
    res = post(admin_client, PLATFORM.format(platform_a.pk), data)
    assert res.status_code == 200 and "Only webhook contact points take a secret." in res.content.decode()
    del data["contact_points-0-secret"]  # the kept webhook secret is dropped with the channel change
    assert post(admin_client, PLATFORM.format(platform_a.pk), data).status_code == 302
    cp = platform_a.contact_points.get()
    assert (cp.channel, cp.secret) == ("email", "")
    [event] = events()
    assert event.after == {"channel": "email", "endpoint": "abuse@tube.example", "format": "email-v1", "secret": ""}
    assert event.before["secret"] == "<set>"


def test_deleting_a_platform_records_it_and_what_went_with_it(admin_client, admin_user, events):
    platform = make_platform("gone", ["gone.example"])
    cp, domain = platform.contact_points.get(), platform.domains.get()
    res = admin_client.post(f"/admin/platforms/platform/{platform.pk}/delete/", {"post": "yes"})
    assert res.status_code == 302 and not Platform.objects.filter(pk=platform.pk).exists()
    evts = [e for e in events() if e.verb.startswith("admin.")]  # not make_platform's own event
    by_verb = {e.verb: e for e in evts}
    # The platform's legal directory (test platforms have one: tests/conftest.py INFORMED) goes with it, audited too.
    assert set(by_verb) == {"admin.platform.deleted", "admin.contactpoint.deleted", "admin.platformdomain.deleted",
                            "admin.platformlegal.deleted"}
    assert len(evts) == 4 and all(e.actor == admin_user for e in evts)
    assert by_verb["admin.contactpoint.deleted"].object_id == str(cp.pk)
    assert by_verb["admin.platformdomain.deleted"].before["domain"] == "gone.example"
    assert by_verb["admin.platform.deleted"].before["slug"] == "gone"
    assert not ContactPoint.objects.filter(pk=cp.pk).exists() and not PlatformDomain.objects.filter(pk=domain.pk)
    nothing_secret_in(events(), cp.secret)


def test_the_change_and_its_event_are_one_transaction(admin_client, platform_a, events, monkeypatch):
    from audit import audited_admin

    def fail(entries):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(audited_admin.audit, "record_many", fail)
    data = the_form(admin_client, PLATFORM.format(platform_a.pk), "platform_form")
    data["contact_points-0-endpoint"] = ["http://127.0.0.1:9/unaudited"]
    with pytest.raises(RuntimeError):
        post(admin_client, PLATFORM.format(platform_a.pk), data)
    assert platform_a.contact_points.get().endpoint == "http://127.0.0.1:9/hook" and events() == []


def test_a_domain_added_in_the_admin_is_normalised_and_audited(admin_client, platform_a, events):
    data = the_form(admin_client, PLATFORM.format(platform_a.pk), "platform_form")
    free = [k for k in data if k.startswith("domains-") and k.endswith("-domain") and data[k] == [""]]
    data[free[0]] = ["WWW.Tube-Mirror.Example."]
    assert post(admin_client, PLATFORM.format(platform_a.pk), data).status_code == 302
    assert platform_a.domains.filter(domain="tube-mirror.example").exists()
    [event] = events()
    assert (event.verb, event.after["domain"]) == ("admin.platformdomain.created", "tube-mirror.example")
    data[free[0]] = ["https://not-a-domain.example/x"]
    res = post(admin_client, PLATFORM.format(platform_a.pk), data)
    assert res.status_code == 200 and "is not a domain name" in res.content.decode()


# --- Users, groups, API keys ----------------------------------------------------------------------------


def test_a_users_role_and_platform_change_is_audited(admin_client, admin_user, analyst, platform_a, events):
    path = f"/admin/accounts/user/{analyst.pk}/change/"
    data = the_form(admin_client, path, "user_form")
    data.update({"role": ["liaison"], "platform": [str(platform_a.pk)]})
    assert post(admin_client, path, data).status_code == 302
    analyst.refresh_from_db()
    assert (analyst.role, analyst.platform) == ("liaison", platform_a)
    [event] = events()
    assert (event.verb, event.actor, event.object_id) == ("admin.user.changed", admin_user, str(analyst.pk))
    assert (event.before, event.after) == ({"role": "analyst", "platform": None},
                                           {"role": "liaison", "platform": platform_a.pk})


def test_a_user_added_in_the_admin_is_audited_without_the_hash(admin_client, admin_user, platform_a, events):
    res = admin_client.post("/admin/accounts/user/add/", {
        "username": "new_liaison", "password1": "a-new-pass-phrase-77", "password2": "a-new-pass-phrase-77",
        "usable_password": "true", "role": "liaison", "platform": str(platform_a.pk), "_save": "Save"})
    assert res.status_code == 302, res.content.decode()[:3000]
    user = User.objects.get(username="new_liaison")
    [event] = events()
    assert (event.verb, event.actor, event.object_id) == ("admin.user.created", admin_user, str(user.pk))
    assert (event.after["role"], event.after["platform"], event.after["password"]) == (
        "liaison", platform_a.pk, "<set>")
    assert user.password not in json.dumps(event.after)


def test_a_users_groups_and_superuser_flag_are_audited(admin_client, analyst, events):
    group = Group.objects.create(name="Helpdesk")
    path = f"/admin/accounts/user/{analyst.pk}/change/"
    data = the_form(admin_client, path, "user_form")
    data.update({"groups": [str(group.pk)], "is_superuser": ["on"]})
    assert post(admin_client, path, data).status_code == 302
    [event] = events()
    assert event.after == {"groups": ["Helpdesk"], "is_superuser": True}
    assert event.before == {"groups": [], "is_superuser": False}


def test_a_password_change_is_audited_without_the_hash(admin_client, admin_user, analyst, events):
    old_hash = analyst.password
    res = admin_client.post(f"/admin/accounts/user/{analyst.pk}/password/", {
        "password1": "a-new-pass-phrase-77", "password2": "a-new-pass-phrase-77", "set_usable_password": "true"})
    assert res.status_code == 302
    analyst.refresh_from_db()
    [event] = events()
    assert (event.verb, event.actor, event.after) == ("admin.user.password_changed", admin_user,
                                                      {"password": "<changed>", "usable": True})
    text = json.dumps([event.before, event.after])
    assert old_hash not in text and analyst.password not in text


def test_an_api_key_made_and_revoked_in_the_admin_is_audited_by_prefix(admin_client, admin_user, analyst, events):
    res = admin_client.post("/admin/accounts/userapikey/add/", {
        "name": "ci key", "user": str(analyst.pk), "expiry_date_0": "", "expiry_date_1": "", "_save": "Save"},
        follow=True)
    assert res.status_code == 200
    key = UserAPIKey.objects.get(name="ci key")
    [shown] = [str(m) for m in res.context["messages"] if "The API key for" in str(m)]
    clear = shown.split("is: ")[1].split(". ")[0]
    assert UserAPIKey.objects.get_from_key(clear) == key
    [created] = events()
    assert (created.verb, created.actor, created.object_id) == ("admin.userapikey.created", admin_user, key.prefix)
    assert created.after["user"] == analyst.pk and created.after["revoked"] is False

    path = f"/admin/accounts/userapikey/{key.pk}/change/"
    data = the_form(admin_client, path, "userapikey_form")
    data["revoked"] = ["on"]
    assert post(admin_client, path, data).status_code == 302
    assert UserAPIKey.objects.get(pk=key.pk).revoked
    revoked = events()[-1]
    assert (revoked.verb, revoked.object_id, revoked.before, revoked.after) == (
        "admin.userapikey.changed", key.prefix, {"revoked": False}, {"revoked": True})
    text = json.dumps([[e.before, e.after, e.object_id] for e in events()])
    assert clear not in text and key.hashed_key not in text and key.pk not in text


def test_permission_groups_and_the_managed_list_are_audited(admin_client, admin_user, events):
    res = admin_client.post("/admin/auth/group/add/", {"name": "Editors", "_save": "Save"})
    assert res.status_code == 302
    res = admin_client.post("/admin/cases/group/add/", {"name": "Amaq", "aliases": "", "active": "on",
                                                        "_save": "Save"})
    assert res.status_code == 302
    assert [(e.verb, e.actor, e.after.get("name")) for e in events()] == [
        ("admin.auth_group.created", admin_user, "Editors"), ("admin.group.created", admin_user, "Amaq")]


def test_bulk_delete_from_the_list_is_audited(admin_client, admin_user, analyst, events):
    keys = [UserAPIKey.objects.create_key(user=analyst, name=f"k{i}")[0] for i in range(2)]
    res = admin_client.post("/admin/accounts/userapikey/", {
        "action": "delete_selected", "_selected_action": [k.pk for k in keys], "post": "yes"})
    assert res.status_code == 302 and not UserAPIKey.objects.filter(pk__in=[k.pk for k in keys]).exists()
    assert sorted((e.verb, e.object_id) for e in events()) == sorted(
        ("admin.userapikey.deleted", k.prefix) for k in keys)
    assert User.objects.filter(pk=analyst.pk).exists()


def test_the_librarys_own_api_key_model_is_not_in_the_admin(client, admin_user):
    """Only UserAPIKey authenticates; the library's APIKey table would be a key minted outside the audit."""
    sign_in(client, admin_user)
    assert client.get("/admin/rest_framework_api_key/apikey/").status_code == 404
    assert client.get("/admin/accounts/userapikey/").status_code == 200
