"""`python manage.py sandbox_platform --port 8025`: run the sandbox platform until Ctrl-C or SIGTERM.

A thin wrapper around `referral.sandbox.SandboxPlatform`; see that module and docs/platform-integration.md.
"""

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.sandbox import SandboxConfigError, SandboxPlatform, load_config
from devtools.sandbox_pages import DemoPages


class Command(BaseCommand):
    help = ("Run a sandbox hosting platform: receives referral webhooks on POST /hooks/<slug>, verifies them and "
            "calls the API back as the platform's liaison (acknowledged, then removed or declined).")
    requires_system_checks = []  # it never touches the database

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8025, help="Port to listen on (default 8025; 0 = any).")
        parser.add_argument("--config", default=str(settings.VAR_DIR / "sandbox.json"),
                            help='JSON: {"platforms": {"<slug>": {"secret": "whsec_...", "api_key": "..."}}} '
                                 "(default var/sandbox.json, written by demo_data).")
        parser.add_argument("--api-url", default=settings.SITE_URL,
                            help="The desk's base URL; only status URLs on this host are called back "
                                 "(default SITE_URL).")
        parser.add_argument("--ack-delay", type=float, default=1.0,
                            help="Seconds from receiving a webhook to acknowledging its referrals (default 1).")
        parser.add_argument("--outcome-delay", type=float, default=1.0,
                            help="Seconds from the acknowledgement to the outcome (default 1).")
        parser.add_argument("--decline-share", type=float, default=0.2,
                            help="Share of referrals declined instead of removed, 0..1, deterministic per "
                                 "referral id (default 0.2).")
        parser.add_argument("--needs-info-share", type=float, default=0.0,
                            help="Share of referrals answered needs_info first (their outcome follows the unit's "
                                 "clarification), 0..1, deterministic per referral id (default 0).")
        parser.add_argument("--cannot-execute-share", type=float, default=0.0,
                            help="Share of removal orders answered cannot_execute (insufficient_information) first; "
                                 "the outcome follows the unit's clarification (default 0).")
        parser.add_argument("--fail-first", type=int, default=0,
                            help="Answer 500 to the first N verified deliveries, to show retries (default 0).")
        parser.add_argument("--tolerance", type=int, default=300,
                            help="Accepted webhook-timestamp skew in seconds (default 300).")
        parser.add_argument("--pages-proxy-port", type=int, default=-1,
                            help="Also serve the referred items' pages (404 once removed) behind a forward proxy "
                                 "on this port, for the desk's liveness checks (make run: 8027; default: off).")
        parser.add_argument("--pages-cert", default=str(settings.VAR_DIR / "demo-pages.pem"),
                            help="The pages' certificate and key (PEM), from devtools.sandbox_pages.make_demo_ca.")

    def handle(self, *args, host, port, config, api_url, ack_delay, outcome_delay, decline_share, needs_info_share,
               cannot_execute_share, fail_first, tolerance, pages_proxy_port, pages_cert, **options):
        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be between 0 and 65535, not {port}.")
        try:
            sandbox = SandboxPlatform(
                load_config(config), host=host, port=port, api_url=api_url, ack_delay=ack_delay,
                outcome_delay=outcome_delay, decline_share=decline_share, needs_info_share=needs_info_share,
                cannot_execute_share=cannot_execute_share,
                fail_first=fail_first,
                tolerance=tolerance, out=self.stdout,
            )
        except SandboxConfigError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        pages = None
        try:
            try:
                sandbox.start()
            except OSError as exc:
                raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
            if pages_proxy_port >= 0:
                pages = DemoPages(removed_urls=sandbox.removed_urls, cert_path=Path(pages_cert),
                                  proxy_port=pages_proxy_port, log=sandbox._log).start()
                self.stdout.write(f"pages of the referred items behind the proxy {pages.proxy_url}")
            while not stop.wait(0.5):
                pass
        finally:
            if pages is not None:
                pages.stop()
            sandbox.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
