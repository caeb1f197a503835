"""`make run`: prepare var/, migrate, load the demo once, then run web, worker, beat, the sandbox platform and the
SMTP sink.

The output is each process's start, the URLs and the logins, then warnings and errors only (LOG_LEVEL=INFO
shows the processes' ordinary logs again, ACCESS_LOG_LEVEL=INFO the web's line per request).
Ctrl-C (or SIGTERM) stops every process this command started, by its pid, and nothing else.
"""

import json
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from devtools.sandbox_pages import make_demo_ca
from platforms.models import PlatformDomain


class Command(BaseCommand):
    help = "Run the whole desk locally with demo data: web on :8000, a worker, beat, the sandbox on :8025."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8025)
        parser.add_argument("--smtp-port", type=int, default=8026)
        parser.add_argument("--proxy-port", type=int, default=8027)

    def handle(self, *args, port, sandbox_port, smtp_port, proxy_port, **options):
        for name, value in (("--port", port), ("--sandbox-port", sandbox_port), ("--smtp-port", smtp_port),
                            ("--proxy-port", proxy_port)):
            if not 1 <= value <= 65535:
                raise CommandError(f"{name} must be between 1 and 65535, not {value}.")
        call_command("prepare_var", verbosity=0)  # VAR_DIR, the secret key, the embedded broker's folders
        call_command("migrate", verbosity=0, interactive=False)
        call_command("demo_data", sandbox_url=f"http://127.0.0.1:{sandbox_port}")
        python, manage = sys.executable, str(settings.BASE_DIR / "manage.py")
        # The desk's liveness checks go through a local egress proxy to the sandbox's pages of the demo items, with
        # a local CA (devtools/sandbox_pages.py); the schedule is shortened so that a demo shows its checks.
        domains = PlatformDomain.objects.values_list("domain", flat=True)
        hosts = sorted({h for d in domains for h in (d, f"www.{d}")})
        ca_path, cert_path = make_demo_ca(settings.VAR_DIR, hosts)
        celery = [python, "-m", "celery", "-A", "config", "--quiet"]  # --quiet: no banners
        # The worker mails the demo's email platform through the local sink unless SMTP is configured.
        env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "LOG_LEVEL": "WARNING",
               "ACCESS_LOG_LEVEL": "ERROR", "DJANGO_RUNSERVER_HIDE_WARNING": "true",
               # The demo unit issues removal orders as a (fictitious) authority; a real unit sets its own.
               "UNIT_AUTHORITY_NAME": "Demo Internet Referral Unit", "UNIT_AUTHORITY_TYPE": "Law enforcement authority",
               "UNIT_MEMBER_STATE": "NL", "UNIT_CONTACT_EMAIL": "iru@demo.invalid",
               "LIVENESS_PROXY": f"http://127.0.0.1:{proxy_port}", "LIVENESS_CA_BUNDLE": str(ca_path),
               "LIVENESS_SCHEDULE": "60,300,900,3600,21600,86400", "LIVENESS_DAILY_DAYS": "7",
               **os.environ, "PYTHONUNBUFFERED": "1"}
        log_level = env["LOG_LEVEL"].upper()
        commands = {
            "web": [python, manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": celery + ["worker", "--loglevel", log_level, "--concurrency", "2", "-n", "demo-worker@%h"],
            "beat": celery + ["beat", "--loglevel", log_level],
            "sandbox": [python, manage, "sandbox_platform", "--port", str(sandbox_port),
                        "--config", str(settings.VAR_DIR / "sandbox.json"),
                        "--api-url", f"http://127.0.0.1:{port}", "--needs-info-share", "0.15",
                        "--cannot-execute-share", "0.3", "--pages-proxy-port", str(proxy_port),
                        "--pages-cert", str(cert_path)],
            "smtp": [python, manage, "smtp_sink", "--port", str(smtp_port), "--dir", str(settings.VAR_DIR / "mail")],
        }
        where = {"web": f": http://127.0.0.1:{port}/", "sandbox": f": http://127.0.0.1:{sandbox_port}/",
                 "smtp": f": 127.0.0.1:{smtp_port}"}
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, cmd in commands.items():
                # runserver's stdout is only its start-up chatter; its warnings and errors go to stderr.
                stdout = subprocess.DEVNULL if name == "web" else None
                procs[name] = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, stdout=stdout)  # noqa: S603
                self.stdout.write(f"{name} started (pid {procs[name].pid}){where.get(name, '')}")
            time.sleep(2)
            self._print_banner(port, sandbox_port, smtp_port, proxy_port)
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping the others.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.stdout.write("Stopped.")

    def _print_banner(self, port, sandbox_port, smtp_port, proxy_port):
        logins = json.loads((settings.VAR_DIR / "demo.json").read_text())
        lines = [
            "",
            "=" * 72,
            f" Referral desk: http://127.0.0.1:{port}/    API docs: http://127.0.0.1:{port}/api/docs/",
            f" Sandbox platform: http://127.0.0.1:{sandbox_port}/ (receives webhooks, calls back; serves the items'"
            f" pages behind the proxy 127.0.0.1:{proxy_port}, which the desk's liveness checks use)",
            f" SMTP sink: 127.0.0.1:{smtp_port}, mail to the email platform lands in var/mail/*.eml",
            " Demo logins (also in var/demo.json):",
        ]
        for username, info in logins.items():
            suffix = f" of {info['platform']}" if info.get("platform") else ""
            lines.append(f"   {info['role']:<11} {username:<15} {info['password']}{suffix}")
            if info.get("totp_key"):
                lines.append(f"   {'':<11} {'':<15} second factor: `python manage.py demo_code {username}` prints "
                             f"the code (or key {info['totp_key']} in an app)")
        lines += [" Ctrl-C stops everything.", "=" * 72, ""]
        self.stdout.write("\n".join(lines))
