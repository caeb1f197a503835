"""The deployment files say what they should: compose services, one image, Celery's safety settings."""

from pathlib import Path

import yaml
from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_parses_and_names_the_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis")
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert images == {"referral-desk:latest"}
    assert all(services[name]["build"] == "." for name in ("web", "worker", "beat"))
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"} <= set(env)


def test_dockerfile_builds_one_image_from_the_project():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11" in text
    assert "pip install" in text and "gunicorn" in text


def test_celery_is_configured_for_at_least_once_without_loss():
    """reference/reliability.md R3: late acks, requeue on worker loss, no prefetch hoarding, bounded tasks."""
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit <= settings.CELERY_VISIBILITY_TIMEOUT / 2
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert conf.worker_soft_shutdown_timeout > 0
    if conf.broker_url.startswith("redis"):
        assert conf.broker_transport_options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
    # The beat schedule sweeps the outbox.
    assert conf.beat_schedule["deliveries-sweep"]["task"] == "referral.dispatch_due"


APPS = ("core", "audit", "platforms", "accounts", "alerts", "cases", "intake", "evidence", "referral", "devtools")


def test_no_long_countdown_or_eta_in_the_code():
    """Backoff lives in Delivery.next_attempt_at, never in broker ETAs that outlive the visibility timeout. The one
    countdown is the nudge coalescing of core/enqueue.py, bounded by TASK_NUDGE_WINDOW_SECONDS (at most 5 s)."""
    from django.conf import settings

    offenders = [
        str(path) for app in APPS for path in (ROOT / app).rglob("*.py")
        if ("countdown=" in path.read_text() or "eta=" in path.read_text()) and path != ROOT / "core" / "enqueue.py"
    ]
    assert offenders == []
    assert 0 <= settings.TASK_NUDGE_WINDOW_SECONDS <= 5
