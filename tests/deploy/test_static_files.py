"""Static files in production: WhiteNoise in the middleware, hashed names when DEBUG is off, collected into the
image. Served for real under gunicorn in tests/browser/test_production_static.py."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_whitenoise_comes_right_after_the_security_middleware():
    """Only the request id comes before them (so that a static file's log line has one too)."""
    middleware = settings.MIDDLEWARE
    assert middleware[:3] == ["core.request_log.RequestLogMiddleware", "django.middleware.security.SecurityMiddleware",
                              "whitenoise.middleware.WhiteNoiseMiddleware"]


def production_storage(**env) -> str:
    code = "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, text=True,
                         capture_output=True, check=True, timeout=60,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "STATIC_MANIFEST": "",
                              **env})
    return out.stdout.strip()


def test_debug_off_means_hashed_compressed_names_and_debug_on_plain_ones():
    assert production_storage(DEBUG="0") == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert production_storage(DEBUG="1") == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert production_storage(DEBUG="0", STATIC_MANIFEST="0") == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_image_collects_static_files_outside_the_var_volume():
    text = (ROOT / "Dockerfile").read_text()
    assert "STATIC_ROOT=/app/static_root" in text and "VAR_DIR=/app/var" in text
    assert "python manage.py collectstatic --noinput" in text
    assert text.index("collectstatic") > text.index("USER desk")  # written by the user that serves them
