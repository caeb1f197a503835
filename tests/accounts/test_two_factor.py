"""Two-factor sign-in: supervisors and admins give a code from their authenticator app (or a recovery code) after
their password; whoever must and has none enrols first and can do nothing else; analysts may; API keys never ask."""

import base64
import re
import time

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from accounts import two_factor
from audit.models import AuditEvent
from cases.models import ItemStatus
from core.errors import NotPermitted
from tests.conftest import PASSWORD, api_for, sign_in, totp_code


def password_step(client, user, password=PASSWORD, **extra):
    return client.post("/login/", {"username": user.username, "password": password}, **extra)


def code_step(client, token, **extra):
    return client.post("/login/verify/", {"otp_token": token}, **extra)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def new_user(username, role, platform=None):
    """A user just created by an admin: no authenticator yet (unlike the persona fixtures)."""
    return account_services.user_create(actor=None, username=username, role=role, password=PASSWORD,
                                        platform_slug=platform.slug if platform else None)


def events(verb):
    return list(AuditEvent.objects.filter(verb=verb).order_by("id"))


def enrol_through_the_page(client, user) -> list[str]:
    """Open the enrolment page, read its QR code and key, confirm with the app's first code: the recovery codes."""
    page = client.get("/me/two-factor/").content.decode()
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="QR code', page)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown_key = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert base64.b32decode(shown_key.replace(" ", "") + "=" * (-len(shown_key.replace(" ", "")) % 8)) \
        == device.bin_key
    res = client.post("/me/two-factor/", {"otp_token": totp_code(device)})
    assert res.status_code == 200
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", res.content.decode())


def test_a_supervisor_gives_a_code_after_the_password(supervisor):
    client = Client()
    res = password_step(client, supervisor)
    assert res.status_code == 302 and res["Location"].startswith("/login/verify/")
    assert signed_in_as(client) is None  # the password alone signs nobody in
    assert client.get("/review/")["Location"].startswith("/login/")
    page = client.get("/login/verify/").content.decode()
    assert 'name="otp_token"' in page and 'autocomplete="one-time-code"' in page
    res = code_step(client, "000000" if totp_code(supervisor) != "000000" else "111111")
    assert res.status_code == 200 and "That code is not right" in res.content.decode()
    assert signed_in_as(client) is None
    time.sleep(1.1)  # django-otp's own throttle: after a wrong code, the device waits 1 s (then 2, 4, ...)
    res = code_step(client, totp_code(supervisor))
    assert res.status_code == 302 and res["Location"] == "/"
    assert signed_in_as(client) == str(supervisor.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == TOTPDevice.objects.get(user=supervisor).persistent_id
    assert client.get("/review/").status_code == 200


def test_a_used_code_is_refused_a_second_time(supervisor):
    first = Client()
    password_step(first, supervisor)
    code = totp_code(supervisor)
    assert code_step(first, code).status_code == 302
    second = Client()
    password_step(second, supervisor)
    assert code_step(second, code).status_code == 200 and signed_in_as(second) is None


def test_a_session_that_skipped_the_second_step_cannot_act(supervisor, proposed_item):
    """A session signed in some other way (here force_login, as the admin's own login form would) is held by the
    middleware: no page, no action, no API through the session, until the code is given."""
    client = Client()
    client.force_login(supervisor)
    assert client.get("/review/")["Location"] == "/login/verify/?next=%2Freview%2F"
    res = client.post(f"/items/{proposed_item.pk}/approve/", {f"approve-{proposed_item.pk}-instrument": "referral"})
    assert res.status_code == 302 and res["Location"].startswith("/login/verify/")
    proposed_item.refresh_from_db()
    assert proposed_item.status == ItemStatus.PROPOSED
    assert client.get("/api/v1/cases/").status_code == 403
    assert client.get("/admin/login/")["Location"].startswith("/login/")  # the admin's form: ours, both steps
    res = code_step(client, totp_code(supervisor))
    assert res.status_code == 302
    assert client.get("/review/").status_code == 200


def test_api_keys_never_ask_for_a_second_factor(db):
    boss = new_user("new_boss", "supervisor")
    assert api_for(boss).get("/api/v1/cases/").status_code == 200


def test_a_supervisor_without_an_authenticator_enrols_first_and_gets_recovery_codes(db):
    boss = new_user("new_boss", "supervisor")
    client = Client()
    res = password_step(client, boss)
    assert res.status_code == 302
    for path in ("/review/", "/cases/", "/me/preferences/", "/admin/"):
        assert client.get(path)["Location"].startswith("/me/two-factor/"), path
    assert client.get("/api/v1/cases/").status_code == 403
    codes = enrol_through_the_page(client, boss)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/review/").status_code == 200  # enrolled and verified on this session
    [enrolled] = events("two_factor.enrolled")
    assert enrolled.actor_id == boss.pk and enrolled.after == {"device": "Authenticator app", "recovery_codes": 10}
    assert codes[0] not in str(enrolled.after)
    # The codes are shown once: the page now only says the app is enrolled.
    page = client.get("/me/two-factor/").content.decode()
    assert "is enrolled" in page and codes[0] not in page


def test_a_wrong_first_code_does_not_enrol(db):
    boss = new_user("new_boss", "supervisor")
    client = Client()
    password_step(client, boss)
    client.get("/me/two-factor/")
    res = client.post("/me/two-factor/", {"otp_token": "12345x"})
    assert res.status_code == 200 and "That code is not right" in res.content.decode()
    assert not TOTPDevice.objects.filter(user=boss, confirmed=True).exists() and not events("two_factor.enrolled")
    assert client.get("/review/")["Location"].startswith("/me/two-factor/")


def test_a_recovery_code_signs_in_once_and_is_audited(db):
    boss = new_user("new_boss", "supervisor")
    client = Client()
    password_step(client, boss)
    codes = enrol_through_the_page(client, boss)
    client.post("/logout/")
    again = Client()
    password_step(again, boss)
    assert code_step(again, codes[3].upper()).status_code == 302 and signed_in_as(again) == str(boss.pk)
    [used] = events("two_factor.recovery_code_used")
    assert used.actor_id == boss.pk and used.after == {"recovery_codes_left": 9}
    assert not StaticToken.objects.filter(token=codes[3]).exists()
    third = Client()
    password_step(third, boss)
    assert code_step(third, codes[3]).status_code == 200 and signed_in_as(third) is None


def test_analysts_may_sign_in_without_and_are_asked_once_enrolled(analyst):
    client = Client()
    assert password_step(client, analyst)["Location"] == "/"
    assert client.get("/cases/").status_code == 200
    enrol_through_the_page(client, analyst)
    client.post("/logout/")
    client = Client()
    assert password_step(client, analyst)["Location"].startswith("/login/verify/")
    assert signed_in_as(client) is None
    assert code_step(client, totp_code(analyst)).status_code == 302


def test_a_setting_requires_it_of_everyone(analyst, liaison_a, settings):
    settings.OTP_REQUIRED_FOR_ALL = True
    for user in (analyst, liaison_a):
        client = Client()
        password_step(client, user)
        assert client.get("/referrals/")["Location"].startswith("/me/two-factor/")
    assert api_for(liaison_a).get("/api/v1/referrals/").status_code == 200


def test_wrong_codes_count_towards_the_lockout(supervisor, settings):
    client = Client()
    password_step(client, supervisor)
    wrong = "000000" if totp_code(supervisor) != "000000" else "111111"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert code_step(client, wrong).status_code == 200
    res = code_step(client, wrong)
    assert res.status_code == 429 and "Sign-in is locked for 15 minutes" in res.content.decode()
    assert not AccessAttempt.objects.filter(post_data__contains=wrong).exists()  # codes are not kept
    assert signed_in_as(client) is None  # the half-finished sign-in is forgotten: the right code comes too late
    assert code_step(client, totp_code(supervisor))["Location"] == "/login/" and signed_in_as(client) is None
    # The right password does not reopen it (nor does it clear the count, unlike a full sign-in).
    assert password_step(Client(), supervisor).status_code == 429


def test_a_password_step_does_not_reset_the_count_of_wrong_codes(supervisor, settings):
    wrong = "000000" if totp_code(supervisor) != "000000" else "111111"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client = Client()
        password_step(client, supervisor)
        code_step(client, wrong)
    client = Client()
    password_step(client, supervisor)
    assert code_step(client, wrong).status_code == 429


def test_an_admin_resets_a_lost_device_and_the_user_enrols_again(admin_user, supervisor):
    held = sign_in(Client(), supervisor)
    assert held.get("/review/").status_code == 200
    admin = sign_in(Client(), admin_user)
    res = admin.post("/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [supervisor.pk]})
    assert res.status_code == 302
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    [reset] = events("two_factor.reset")
    assert reset.actor_id == admin_user.pk and reset.object_id == str(supervisor.pk)
    assert reset.before == {"devices": ["Authenticator app"]}
    # The session verified with the lost device is verified no more.
    assert held.get("/review/")["Location"].startswith("/me/two-factor/")


def test_the_operator_resets_from_the_command_line(admin_user, capsys):
    call_command("reset_two_factor", admin_user.username)
    assert "Removed 1" in capsys.readouterr().out
    [reset] = events("two_factor.reset")
    assert reset.actor_id is None and not TOTPDevice.objects.filter(user=admin_user).exists()


def test_only_admins_reset_and_no_admin_page_edits_devices_outside_the_audit(admin_user, supervisor, supervisor_2):
    """django-otp's own device pages would change second factors without an audit event (and show the keys)."""
    admin_client = sign_in(Client(), admin_user)
    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert admin_client.get("/admin/otp_static/staticdevice/").status_code == 404
    with pytest.raises(NotPermitted):
        two_factor.two_factor_reset(actor=supervisor, user_id=supervisor_2.pk)
    assert TOTPDevice.objects.filter(user=supervisor_2).exists() and not events("two_factor.reset")


def test_the_preferences_page_leads_to_enrolment(analyst):
    client = sign_in(Client(), analyst)
    assert 'href="/me/two-factor/"' in client.get("/me/preferences/").content.decode()


def test_a_mistyped_recovery_code_does_not_hold_up_the_apps_code(supervisor):
    """Codes go to the device they look like: a wrong recovery code is not tried (and throttled) as the app's."""
    recovery = StaticDevice.objects.create(user=supervisor, name=two_factor.RECOVERY_DEVICE_NAME)
    recovery.token_set.create(token="mnop6723")
    client = Client()
    password_step(client, supervisor)
    assert code_step(client, "abcd2345").status_code == 200
    assert code_step(client, totp_code(supervisor)).status_code == 302  # at once: the app's device was not throttled


def test_an_analyst_may_remove_their_own_authenticator_a_supervisor_may_not(analyst, supervisor):
    client = Client()
    password_step(client, analyst)
    enrol_through_the_page(client, analyst)
    assert 'action="/me/two-factor/remove/"' in client.get("/me/two-factor/").content.decode()
    assert client.post("/me/two-factor/remove/")["Location"] == "/me/two-factor/"
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    [removed] = events("two_factor.removed")
    assert removed.actor_id == analyst.pk and removed.before == {"devices": ["Authenticator app", "Recovery codes"]}
    boss = sign_in(Client(), supervisor)
    assert 'action="/me/two-factor/remove/"' not in boss.get("/me/two-factor/").content.decode()
    boss.post("/me/two-factor/remove/")
    assert TOTPDevice.objects.filter(user=supervisor).exists() and len(events("two_factor.removed")) == 1
