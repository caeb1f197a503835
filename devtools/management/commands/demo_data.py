"""Demo data: a platform per channel (two on the sandbox's webhooks, one by email, one by web form), one user
per role (a liaison per platform that answers over the API), and a case with items.

Idempotent: a second run changes nothing. Writes var/demo.json (the demo logins) and var/sandbox.json (the
sandbox platform's secrets and liaison keys). Both files stay under var/, which is never committed.
The supervisor and the admin sign in with a second factor: the loader enrols an authenticator for each (its key
and recovery codes in demo.json; `python manage.py demo_code USERNAME` prints its current code).
Review has work waiting: proposals of several priorities and one threat to life (PROPOSALS), so that its order
(threat to life, priority, oldest proposal) shows. The sandbox answers some referrals `needs_info` (run_demo).
"""

import json
import os
import secrets
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.oath import TOTP

from accounts import services as account_services
from accounts import two_factor
from accounts.models import User
from cases.actions import assessment as assessment_actions
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Case
from platforms import services as platform_services
from platforms.models import Platform
from referral.outbox.webhook import generate_secret

PLATFORMS = [  # two on the sandbox's webhooks, one by email to the local SMTP sink, one by web form
    ("tube", "ExampleTube", ["tube.example", "tu.be.example"], "webhook"),
    ("chirp", "Chirp", ["chirp.example"], "webhook"),
    ("pinboard", "Pinboard", ["pinboard.example"], "email"),
    ("formhost", "FormHost", ["formhost.example"], "manual"),
]
# The removal-order directory (TCO Regulation) of each: main establishment, and when the procedures (Art 3(2)) were
# sent. Pinboard is established in Ireland: its orders go with a copy to the Irish authority below (Art 4).
# FormHost was never sent them: a first removal order to it waits for them (send them from the API or a referral).
LEGAL = {
    "tube": {"main_establishment": "NL", "languages": ["en"], "pre_information_sent_at": "2026-01-05T09:00:00Z"},
    "chirp": {"main_establishment": "NL", "languages": ["en"], "pre_information_sent_at": "2026-01-05T09:00:00Z"},
    "pinboard": {"main_establishment": "IE", "languages": ["en", "fr"],
                 "legal_representative": "Pinboard Ireland Ltd, 1 Dock Road, Dublin",
                 "pre_information_sent_at": "2026-01-05T09:00:00Z"},
    "formhost": {"main_establishment": "NL", "languages": ["en"]},
}
# The competent authority of another Member State, which gets its copy of orders to platforms established there.
AUTHORITY = ("ie-authority", "Competent authority of Ireland (demo)", "IE", "tco-copies@authority.ie.example")
USERS = [("analyst", "analyst", None), ("supervisor", "supervisor", None), ("admin", "admin", None),
         ("tube-liaison", "liaison", "tube"), ("chirp-liaison", "liaison", "chirp"),
         ("pinboard-liaison", "liaison", "pinboard")]
ITEMS = [
    ("https://www.tube.example/watch?v=aMq7x1", "post", ["incitement"], "ar", "Nashid video with a call to attack"),
    ("https://chirp.example/amaq_relay_17", "account", ["participation"], "ar", "Relay account for official output"),
    ("https://chirp.example/amaq_relay_17/status/99812", "post", ["incitement", "threat"], "en", "Threat post"),
    ("https://files.unclaimed.example/manual.pdf", "file", ["instruction"], "en", "Host claimed by no platform"),
    ("https://pinboard.example/pin/5521", "media", ["incitement"], "fr", "Poster glorifying an attack (email)"),
    ("https://formhost.example/u/82/video.mp4", "media", ["instruction"], "en", "Bomb-making video (web form)"),
]

# Proposed for Review, each with its assessment: (url, kind, categories, language, notes, severity, confidence,
# threat to life).
PROPOSALS = [
    ("https://www.tube.example/watch?v=kP2f8s", "media", ["incitement"], "ar", "Attack claim video, high reach",
     6, 3, False),
    ("https://chirp.example/nashir_bot/status/4410", "post", ["solicitation"], "ar", "Donation appeal", 4, 2, False),
    ("https://tube.example/watch?v=Zt71qq", "media", ["instruction"], "en", "Drone modification guide", 5, 1, False),
    ("https://chirp.example/lone_wolf_88/status/7", "post", ["threat"], "en",
     "Names a school and a date: threat to life", 7, 3, True),
    ("https://pinboard.example/pin/9001", "media", ["incitement"], "fr", "Old poster, low confidence", 2, 1, False),
    ("https://formhost.example/u/91/manual.pdf", "file", ["instruction"], "en",
     "Attack manual. For a removal order: FormHost has not had the procedures yet (TCO Art 3(2))", 5, 3, False),
]


def _write_private(path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)


def _enrol(user) -> dict:
    """Enrol the user's authenticator as the enrolment page does, the loader playing the app. It confirms with the
    previous time step's code (accepted), so that the current one is still unused for the first sign-in."""
    device = two_factor.totp_enrolment(actor=user)
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits)
    clock.time = time.time() - device.step
    _, codes = two_factor.totp_enrol_confirm(actor=user, token=f"{clock.token():06d}")
    return {"totp_key": two_factor.secret_text(device), "recovery_codes": codes}


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and write var/demo.json and var/sandbox.json."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8025")

    def handle(self, *args, sandbox_url, **options):
        demo_path = settings.VAR_DIR / "demo.json"
        sandbox_path = settings.VAR_DIR / "sandbox.json"
        if Platform.objects.filter(slug="tube").exists():
            if demo_path.exists() and sandbox_path.exists():
                self.stdout.write("Demo data already loaded.")
                return
            raise CommandError(f"The demo platforms exist but {demo_path.name} or {sandbox_path.name} is missing "
                               f"from {settings.VAR_DIR}; remove that folder to start the demo afresh.")
        logins, sandbox = {}, {"platforms": {}}
        call_command("seed_groups")
        with transaction.atomic():
            for slug, name, domains, channel in PLATFORMS:
                if channel == "webhook":
                    secret = generate_secret()
                    contact_point = {"channel": "webhook", "endpoint": f"{sandbox_url}/hooks/{slug}",
                                     "secret": secret, "timeout_seconds": 10}
                    sandbox["platforms"][slug] = {"secret": secret}
                elif channel == "email":
                    contact_point = {"channel": "email", "endpoint": f"abuse@{domains[0]}", "language": "en"}
                else:
                    contact_point = {"channel": "manual", "endpoint": f"https://{domains[0]}/report-content"}
                platform_services.platform_create(actor=None, slug=slug, name=name, domains=domains,
                                                  legal=LEGAL[slug], contact_points=[contact_point])
            slug, name, member_state, address = AUTHORITY
            platform_services.platform_create(actor=None, slug=slug, name=name, domains=[], kind="authority",
                                              legal={"main_establishment": member_state, "languages": ["en"]},
                                              contact_points=[{"channel": "email", "endpoint": address,
                                                               "language": "en"}])
            for username, role, platform in USERS:
                password = f"demo-{secrets.token_urlsafe(9)}"
                user = account_services.user_create(actor=None, username=username, role=role,
                                                    platform_slug=platform, password=password)
                logins[username] = {"role": role, "password": password, "platform": platform}
                if two_factor.required_for(user):
                    logins[username].update(_enrol(user))
                if platform in sandbox["platforms"]:
                    _, key = account_services.api_key_issue(actor=None, user=user, name="sandbox platform")
                    sandbox["platforms"][platform]["api_key"] = key
            analyst = User.objects.get(username="analyst")
            case = Case.objects.filter(title="Demo: action day").first() or case_actions.case_create(
                actor=analyst, title="Demo: action day",
                description="Items collected for the demo action day. Log more with the form below.",
            )
            for url, kind, categories, language, notes in ITEMS:
                item = item_actions.item_log(actor=analyst, case=case, url=url, kind=kind, categories=categories,
                                         language=language, notes=notes)
                if kind == "account":
                    item_actions.item_propose(actor=analyst, item_id=item.pk)
            for url, kind, categories, language, notes, severity, confidence, threat in PROPOSALS:
                item = item_actions.item_log(actor=analyst, case=case, url=url, kind=kind, categories=categories,
                                             language=language, notes=notes)
                assessment_actions.item_assess_fields(actor=analyst, item_id=item.pk, changes={
                    "severity": severity, "confidence": confidence, "threat_to_life": threat})
                item_actions.item_propose(actor=analyst, item_id=item.pk)
        _write_private(demo_path, logins)
        _write_private(sandbox_path, sandbox)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
