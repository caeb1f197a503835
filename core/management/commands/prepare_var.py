"""Make what the desk keeps on local disk: VAR_DIR and, in the embedded mode, its secret key, SQLite database folder
and the filesystem broker's folders. Settings only read these (importing them writes nothing); `make run` runs
this first, and so can a deployment's entrypoint. Safe to run again: what exists is left as it is."""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create VAR_DIR, the local secret key (when SECRET_KEY is unset) and the embedded broker's folders."

    def handle(self, *args, **options):
        var = Path(settings.VAR_DIR)
        var.mkdir(parents=True, exist_ok=True)
        made = []
        if not os.environ.get("SECRET_KEY") and not settings.SECRET_KEY_FILE.exists():
            fd = os.open(settings.SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
            made.append("a secret key")
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        options_ = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options_.get(key):
                Path(options_[key]).mkdir(parents=True, exist_ok=True)
        if Path(settings.MEDIA_ROOT).is_relative_to(var):
            Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
        if options["verbosity"] > 1:
            self.stdout.write(f"{var} ready" + (f"; made {', '.join(made)}" if made else ""))
