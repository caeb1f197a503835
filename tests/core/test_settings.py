"""Settings read the environment and nothing else: importing them writes no file, a value they do not understand is
refused by name, and what the embedded mode keeps on disk is made by `manage.py prepare_var`."""

import os
import subprocess
import sys

from tests.processes import ROOT

SETUP = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def run_python(code: str, env: dict, *args) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DEBUG", "VAR_DIR"}}
    return subprocess.run([sys.executable, *args, "-c", code] if code else [sys.executable, *args], cwd=ROOT,
                          env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
                          capture_output=True, text=True, timeout=60)


def test_importing_settings_creates_no_folder_and_writes_no_file(tmp_path):
    var = tmp_path / "var"
    result = run_python(SETUP, {"VAR_DIR": str(var), "DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    assert not var.exists()


def test_a_yes_no_value_settings_do_not_understand_is_refused_by_name(tmp_path):
    result = run_python(SETUP, {"VAR_DIR": str(tmp_path), "DEBUG": "flase"})
    assert result.returncode != 0
    assert "DEBUG='flase' is not a yes/no value" in result.stderr


def test_a_number_settings_do_not_understand_is_refused_by_name(tmp_path):
    result = run_python(SETUP, {"VAR_DIR": str(tmp_path), "DEBUG": "1", "REFERRAL_SLA_HOURS": "three days"})
    assert result.returncode != 0
    assert "REFERRAL_SLA_HOURS='three days' is not a whole number" in result.stderr


def test_production_without_a_secret_key_is_refused(tmp_path):
    result = run_python(SETUP, {"VAR_DIR": str(tmp_path), "DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_prepare_var_makes_the_embedded_folders_and_keeps_one_secret_key(tmp_path):
    var = tmp_path / "var"
    env = {"VAR_DIR": str(var), "DEBUG": "1"}
    first = run_python("", env, "manage.py", "prepare_var")
    assert first.returncode == 0, first.stderr
    key = (var / "secret_key").read_text()
    assert len(key) > 40 and oct((var / "secret_key").stat().st_mode)[-3:] == "600"
    assert all((var / "broker" / sub).is_dir() for sub in ("queue", "processed", "control"))
    again = run_python("", env, "manage.py", "prepare_var")
    assert again.returncode == 0, again.stderr
    assert (var / "secret_key").read_text() == key
    # And now production settings find the key prepare_var keeps.
    result = run_python(SETUP, {"VAR_DIR": str(var), "DEBUG": "0"})
    assert result.returncode == 0, result.stderr
