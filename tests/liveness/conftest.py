"""Liveness fixtures: platform pages on 127.0.0.1 behind a local forward proxy, a platform whose webhook is a real
local receiver (so referrals are really sent, and sent_at is the outbox's), and every test bounded in time."""

import signal
import uuid
from datetime import timedelta

import pytest

from cases.actions import items as item_actions
from liveness import checking
from liveness.schedule import schedule_received
from referral.actions import approval
from referral.models import Instrument
from referral.outbox import dispatcher
from tests.conftest import ORDER, make_platform
from tests.liveness.servers import ForwardProxy, Pages
from tests.receiver import Receiver

TEST_SECONDS = 120
HOSTS = ["tube.example", "chirp.example"]


@pytest.fixture(autouse=True)
def _bounded_in_time():
    """No liveness test runs longer than TEST_SECONDS: a hung server or loop fails the test instead."""
    def stop(signum, frame):
        raise TimeoutError(f"the test ran past {TEST_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(TEST_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def _liveness_settings(settings):
    settings.LIVENESS_REDIS_PREFIX = f"test-liveness-{uuid.uuid4().hex}:"  # politeness slots of this test only
    settings.LIVENESS_SCHEDULE = [900, 3600, 21600, 86400, 259200]
    settings.LIVENESS_DAILY_DAYS = 30
    settings.LIVENESS_TIMEOUT_SECONDS = 3
    settings.LIVENESS_HOST_INTERVAL_MS = 0
    settings.LIVENESS_PROXY = ""
    settings.LIVENESS_CA_BUNDLE = ""
    settings.DELIVERY_BATCH_WINDOW_SECONDS = 0


@pytest.fixture(scope="session")
def certificate_authority(tmp_path_factory):
    import trustme

    ca = trustme.CA()
    bundle = tmp_path_factory.mktemp("liveness-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return ca, str(bundle)


@pytest.fixture
def pages():
    with Pages() as server:
        yield server


@pytest.fixture
def tls_pages(certificate_authority):
    import ssl

    ca, _ = certificate_authority
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*HOSTS).configure_cert(context)
    with Pages(ssl_context=context) as server:
        yield server


@pytest.fixture
def proxy(pages, tls_pages, certificate_authority, settings):
    """The unit's egress: every check goes through it (LIVENESS_PROXY), which trusts the test CA."""
    with ForwardProxy(http_port=pages.port, tls_port=tls_pages.port) as server:
        settings.LIVENESS_PROXY = server.url
        settings.LIVENESS_CA_BUNDLE = certificate_authority[1]
        yield server


@pytest.fixture
def platform_inbox():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def tube(platform_inbox):
    return make_platform("tube", ["tube.example"], endpoint=f"{platform_inbox.url}/hooks/tube")


@pytest.fixture
def received(case, analyst, supervisor, tube):
    """received(url, instrument=…) → a referral of that URL, logged and proposed by the analyst, approved by the
    supervisor, delivered by the outbox to the platform's (local) webhook, and scheduled for liveness checks."""
    def make(url: str, instrument: str = Instrument.REFERRAL, platform_slug: str | None = None):
        item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["incitement"],
                                     platform_slug=platform_slug)
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        order = ORDER if instrument == Instrument.REMOVAL_ORDER else None
        referral = approval.item_approve(actor=supervisor, item_id=item.pk, instrument=instrument,
                                         order=order).referrals.get()
        dispatcher.dispatch_due(time_budget=10)
        referral.refresh_from_db()
        assert referral.sent_at is not None, "the platform's webhook did not take the referral"
        schedule_received()
        return referral
    return make


def check_at(referral, **after_receipt):
    """Run the checker as if the clock read sent_at + the given time (timedelta keywords)."""
    return checking.check_due(time_budget=15, now=referral.sent_at + timedelta(**after_receipt))
