"""`manage.py check --deploy` is clean with the production settings docs/operations.md gives ("Sessions and
HTTPS"), run in a process of its own as a deployer would; and the session and HTTPS settings come from the
environment."""

import json
import os
import subprocess
import sys

from cryptography.fernet import Fernet

from tests.processes import ROOT

# What docs/operations.md tells a deployer to set for production (its "Sessions and HTTPS" section).
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-only-7f3a9c2e5d1b8a4f6e0c3b9d2a7f5e1c",
    "ALLOWED_HOSTS": "desk.iru.example",
    "SITE_URL": "https://desk.iru.example",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "AUDIT_SIGNING_KEY": "a" * 16 + "audit-signing-key-kept-apart-0123456789abcdef",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}


def deployer_env(**changes) -> dict:
    """This machine's environment less the test run's own settings, plus the production ones."""
    ours = {"DEBUG", "SECRET_KEY", "SITE_URL", "ALLOWED_HOSTS", "AUDIT_SIGNING_KEY", "FIELD_ENCRYPTION_KEY",
            "ALLOW_PRIVATE_ENDPOINTS", "FAST_PASSWORD_HASHER", "STATIC_MANIFEST"}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECURE_", "SESSION_", "DJANGO_")) and k not in ours}
    env.update(PRODUCTION)
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def check_deploy(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_production_settings():
    run = check_deploy(deployer_env())
    assert run.returncode == 0, run.stdout + run.stderr
    assert "System check identified no issues" in run.stdout, run.stdout + run.stderr
    assert "WARNING" not in run.stdout + run.stderr


def test_check_deploy_fails_without_hsts_or_with_debug():
    """The test above would pass on a check that says nothing: these settings must make it fail."""
    for changes, finding in [({"SECURE_HSTS_SECONDS": None}, "security.W004"), ({"DEBUG": "1"}, "security.W018"),
                             ({"SECURE_HSTS_PRELOAD": "0", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0"}, "security.W005")]:
        run = check_deploy(deployer_env(**changes))
        assert run.returncode != 0 and finding in run.stdout + run.stderr, (changes, run.stdout + run.stderr)


def settings_of(env, *names) -> dict:
    code = ("import json, django; django.setup(); from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_sessions_last_a_working_day_unless_told():
    names = ("SESSION_COOKIE_AGE", "SESSION_EXPIRE_AT_BROWSER_CLOSE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
             "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER",
             "SESSION_COOKIE_SECURE")
    production = settings_of(deployer_env(), *names)
    assert production == {"SESSION_COOKIE_AGE": 36000, "SESSION_EXPIRE_AT_BROWSER_CLOSE": False,
                          "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000,
                          "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": False,
                          "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"], "SESSION_COOKIE_SECURE": True}
    told = settings_of(deployer_env(SESSION_HOURS="2.5", SESSION_EXPIRE_AT_BROWSER_CLOSE="1", SECURE_HSTS_PRELOAD="1",
                                    SECURE_SSL_REDIRECT="0", SECURE_PROXY_SSL_HEADER=None), *names)
    assert told["SESSION_COOKIE_AGE"] == 9000 and told["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert told["SECURE_HSTS_PRELOAD"] is True and told["SECURE_SSL_REDIRECT"] is False
    assert told["SECURE_PROXY_SSL_HEADER"] is None
