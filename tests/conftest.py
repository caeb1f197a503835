"""Personas and platforms, built through the services, shared by every test."""

import os
import time

import pytest
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts import two_factor
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from platforms import services as platform_services
from referral.actions import approval
from referral.outbox.webhook import generate_secret

PASSWORD = "correct-horse-battery-9"

def pytest_configure(config):
    """Static files under their own names: with DEBUG off the settings pick hashed names from collectstatic's
    manifest, which the live server (it finds files in the source folders) does not know. The collected,
    hashed files are tested under gunicorn in tests/browser/test_production_static.py."""
    from django.conf import settings
    from django.test.utils import override_settings

    override_settings(STORAGES={
        **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }).enable()

# The suite runs on PostgreSQL. The tests marked `both_databases` (the lists: every filter, sort and page) run on
# the embedded SQLite of `make run` too: `make test` runs them a second time with DATABASE_URL=sqlite:///… and
# TEST_ON_SQLITE=1, and only them (the rest needs PostgreSQL: workers, COPY, row locks, real processes).
BOTH_DATABASES = "both_databases"


def _on_sqlite() -> bool:
    return connection.vendor == "sqlite" and os.environ.get("TEST_ON_SQLITE") == "1"


def pytest_sessionstart(session):
    if connection.vendor != "postgresql" and not _on_sqlite():
        raise pytest.UsageError(
            "The tests run on PostgreSQL: set DATABASE_URL (make test does; see README, 'Tests'). "
            f"Only the `{BOTH_DATABASES}` tests run on SQLite: TEST_ON_SQLITE=1 pytest -m {BOTH_DATABASES}."
        )


def pytest_collection_finish(session):
    if not _on_sqlite():
        return
    others = [item.nodeid for item in session.items if item.get_closest_marker(BOTH_DATABASES) is None]
    if others:
        raise pytest.UsageError(
            f"On SQLite only the `{BOTH_DATABASES}` tests run (add -m {BOTH_DATABASES}); {len(others)} others were "
            f"selected, e.g. {others[0]}"
        )

def pytest_sessionfinish(session, exitstatus):
    """Drop this run's broker queue (nudges nobody consumed); the queue name is unique to the run."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("redis://") and settings.CELERY_TASK_DEFAULT_QUEUE.startswith("test-"):
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        try:
            client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
        except redis.RedisError:
            pass

@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The audit table refuses TRUNCATE (audit/migrations/0004_append_only.py) except where `audit.allow_truncate`
    is on: this test database only, whose flushes between transactional tests truncate every table."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} SET audit.allow_truncate = 'on'")
            cursor.execute("SET audit.allow_truncate = 'on'")
    yield


# The issuing authority of removal orders (TCO Annex I, E), as a unit's deployment sets it in the environment.
UNIT_AUTHORITY = {"UNIT_AUTHORITY_NAME": "Internet Referral Unit (test)",
                  "UNIT_AUTHORITY_TYPE": "Law enforcement authority", "UNIT_MEMBER_STATE": "NL",
                  "UNIT_CONTACT_EMAIL": "iru@police.example"}
# What a supervisor gives when approving a removal order (the rest comes from the item, the platform, the unit).
ORDER = {"statement_of_reasons": "Incites to commit a terrorist offence (Directive (EU) 2017/541, Art 3)."}


@pytest.fixture(autouse=True)
def _unit_authority(settings):
    for name, value in UNIT_AUTHORITY.items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _no_check_before_sending(settings):
    """Most tests dispatch right after approving: the message must be due at once. The check just before sending
    (which holds a new message up to PRESEND_CHECK_SECONDS) is turned on by its own tests (tests/liveness/)."""
    settings.PRESEND_CHECK_SECONDS = 0


@pytest.fixture(autouse=True)
def _fresh_platform_directory():
    """Each process keeps a snapshot of the platforms (platforms/directory.py), refreshed when a platform is saved
    or deleted. A test's rows are rolled back or flushed without either: start every test from the database."""
    from platforms import directory

    directory.reset()
    yield
    directory.reset()


def make_user(username, role, platform=None):
    """A user through the service. Whoever must sign in with a second factor (supervisors, admins) gets a confirmed
    authenticator, as each has in a real deployment: tests type its current code (totp_code) or use signed_in."""
    user = account_services.user_create(
        actor=None, username=username, role=role, platform_slug=platform.slug if platform else None,
        password=PASSWORD,
    )
    if two_factor.required_for(user):
        enrol_totp(user)
    return user


def enrol_totp(user) -> TOTPDevice:
    """The user's confirmed authenticator (made here as fixture state, without the enrolment page's audit event)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name=two_factor.TOTP_DEVICE_NAME, confirmed=True)


def totp_code(user_or_device) -> str:
    """The code the user's authenticator app shows now, computed from the device's key (django_otp.oath). A code is
    accepted once: when this time step's was already used, wait for the next step, as a person would."""
    device = user_or_device if isinstance(user_or_device, TOTPDevice) else TOTPDevice.objects.get(
        user=user_or_device, confirmed=True)
    device.refresh_from_db()
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    clock.time = time.time()
    if clock.t() <= device.last_t:
        time.sleep(device.step - (time.time() - device.t0) % device.step + 0.05)
        clock.time = time.time()
    return f"{clock.token():0{device.digits}d}"

# A platform that received the removal-order procedures (TCO Art 3(2)) long ago: orders may go to it at once.
INFORMED = {"main_establishment": "NL", "languages": ["en"], "pre_information_sent_at": "2026-01-05T09:00:00Z"}


def make_platform(slug, domains, endpoint="http://127.0.0.1:9/hook", secret=None, legal=INFORMED):
    return platform_services.platform_create(
        actor=None, slug=slug, name=slug.title(), domains=domains,
        contact_points=[{"channel": "webhook", "endpoint": endpoint, "secret": secret or generate_secret()}],
        legal=legal,
    )

@pytest.fixture
def platform_a(db):
    return make_platform("tube", ["tube.example"])

@pytest.fixture
def platform_b(db):
    return make_platform("chirp", ["chirp.example", "chrp.example"])

@pytest.fixture
def analyst(db):
    return make_user("anna_analyst", "analyst")

@pytest.fixture
def analyst_2(db):
    return make_user("omar_analyst", "analyst")

@pytest.fixture
def supervisor(db):
    return make_user("sara_supervisor", "supervisor")

@pytest.fixture
def supervisor_2(db):
    return make_user("sven_supervisor", "supervisor")

@pytest.fixture
def admin_user(db):
    return make_user("adam_admin", "admin")

@pytest.fixture
def liaison_a(db, platform_a):
    return make_user("lena_tube", "liaison", platform_a)

@pytest.fixture
def liaison_b(db, platform_b):
    return make_user("liam_chirp", "liaison", platform_b)

@pytest.fixture
def case(db, analyst):
    return case_actions.case_create(actor=analyst, title="Action day 2026-11", description="Demo case")

def sign_in(client: Client, user) -> Client:
    """Give `client` a browser session for `user` that has passed the second factor when the user has one (the
    session key django-otp keeps the verifying device under). Without it, a supervisor's or admin's session can do
    nothing but give a code (accounts/middleware.py)."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def signed_in(user) -> Client:
    """A Django test client with a browser session for `user` (second factor passed)."""
    return sign_in(Client(), user)


@pytest.fixture
def browser():
    """browser(user) → a test client signed in as that user (a fresh client each call)."""
    return signed_in


def api_for(user) -> APIClient:
    """An API client authenticated the way real clients are: a Bearer API key."""
    _, key = account_services.api_key_issue(actor=None, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client

@pytest.fixture
def api():
    return api_for

@pytest.fixture
def proposed_item(case, analyst, platform_a):
    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=abc123", kind="post",
                             categories=["incitement"])
    return item_actions.item_propose(actor=analyst, item_id=item.pk)

@pytest.fixture
def approved_referral(proposed_item, supervisor):
    item = approval.item_approve(actor=supervisor, item_id=proposed_item.pk)
    return item.referrals.get()

@pytest.fixture
def approved_referral_b(case, analyst, supervisor, platform_b):
    item = item_actions.item_log(actor=analyst, case=case, url="https://chirp.example/u/someone/status/42",
                             kind="post", categories=["threat"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    return approval.item_approve(actor=supervisor, item_id=item.pk).referrals.get()


from tests.stack import processes, stack  # noqa: E402, F401  (fixtures for the tests that run the real stack)
