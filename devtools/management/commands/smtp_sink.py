import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.smtp_sink import SmtpSink


class Command(BaseCommand):
    help = "Run a local SMTP sink that keeps every message as an .eml file (demo and tests; relays nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8026)
        parser.add_argument("--dir", default=str(settings.VAR_DIR / "mail"))

    def handle(self, *args, host, port, dir, **options):
        from pathlib import Path

        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be between 0 and 65535, not {port}.")
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            sink = SmtpSink(host=host, port=port, folder=Path(dir)).start()
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}.") from exc
        self.stdout.write(f"SMTP sink on {host}:{sink.port}, keeping mail in {dir}")
        stop.wait()
        sink.stop()
