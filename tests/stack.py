"""Fixtures that bring up the real stack around pytest-django's live server: the sandbox platform as a
process (it calls the live server back as platform 'tube''s liaison) and, on demand, a Celery worker."""

import json
import sys

import pytest

from accounts import services as account_services
from referral.outbox.webhook import generate_secret
from tests.conftest import make_platform, make_user
from tests.processes import Processes, answers, database_url, free_port, wait_for


@pytest.fixture
def processes(tmp_path):
    procs = Processes(tmp_path)
    yield procs
    procs.stop()


@pytest.fixture
def stack(request, live_server, processes, tmp_path, settings):
    """Platform 'tube' whose webhook points at a real sandbox process that calls the live server back. A test's
    `@pytest.mark.sandbox_args("--needs-info-share", "1")` adds options to the sandbox's command."""
    marker = request.node.get_closest_marker("sandbox_args")
    extra = [str(arg) for arg in marker.args] if marker else []
    settings.SITE_URL = live_server.url
    sandbox_port = free_port()
    secret = generate_secret()
    platform = make_platform("tube", ["tube.example"], endpoint=f"http://127.0.0.1:{sandbox_port}/hooks/tube",
                             secret=secret)
    liaison = make_user("lena_tube", "liaison", platform)
    _, key = account_services.api_key_issue(actor=None, user=liaison, name="sandbox")
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"platforms": {"tube": {"secret": secret, "api_key": key}}}))
    env = {"DATABASE_URL": database_url(), "SITE_URL": live_server.url, "ALLOW_PRIVATE_ENDPOINTS": "1",
           "DELIVERY_SWEEP_SECONDS": "1"}
    processes.start("sandbox", [sys.executable, "manage.py", "sandbox_platform", "--port", str(sandbox_port),
                                "--config", str(config), "--api-url", live_server.url,
                                "--ack-delay", "0.5", "--outcome-delay", "0.3", "--decline-share", "0", *extra], env)
    wait_for(lambda: answers(f"http://127.0.0.1:{sandbox_port}/"), 20, "the sandbox platform to listen")
    return {"live": live_server.url, "sandbox": f"http://127.0.0.1:{sandbox_port}", "env": env, "platform": platform}
