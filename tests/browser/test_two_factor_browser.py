"""A new supervisor's first sign-in in a real browser: the password, the enrolment page (its QR code drawn without
any script, within the CSP), the key typed into an "app" (here: django_otp.oath computing the code from the key the
page shows), the recovery codes once; then the next sign-in asks for the app's code."""

import base64
import time

from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts import services as account_services
from tests.browser.conftest import login, logout
from tests.conftest import PASSWORD


def code_from_the_key(shown_key: str, at: float | None = None) -> str:
    key = shown_key.replace(" ", "")
    clock = TOTP(base64.b32decode(key + "=" * (-len(key) % 8)))
    clock.time = time.time() if at is None else at
    return f"{clock.token():06d}"


def test_a_new_supervisor_enrols_an_authenticator_then_signs_in_with_it(page, screenshot):
    boss = account_services.user_create(actor=None, username="new_boss", role="supervisor", password=PASSWORD)
    csp_violations = []
    page.on("console", lambda msg: csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    page.goto("/login/")
    page.get_by_label("Username").fill(boss.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/me/two-factor/**")
    page.goto("/review/")  # nothing else opens before enrolment
    page.wait_for_url("**/me/two-factor/**")
    qr = page.get_by_role("img", name="QR code of the key for your authenticator app")
    expect(qr).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", qr.element_handle()) > 0
    screenshot(page, "two-factor-enrolment.png")
    key = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(code_from_the_key(key, time.time() - 30))  # the previous step's code: accepted
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert page.get_by_role("list", name="Recovery codes").get_by_role("listitem").count() == 10
    page.get_by_role("link", name="Continue").click()
    page.goto("/review/")
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    assert not csp_violations, csp_violations

    logout(page)
    login(page, boss)  # the password, then the code the app shows now
    page.goto("/review/")
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
