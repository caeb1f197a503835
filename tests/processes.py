"""Processes and ports for tests that run the real stack: workers, beat, the sandbox, servers of their own."""

import os
import socket
import subprocess
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Processes:
    """Processes this test starts; each is ended by its own pid at teardown, and nothing else is."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        from tests.conftest import UNIT_AUTHORITY  # the processes issue removal orders as the test unit too

        # As in the test process (tests/conftest.py): no check before sending unless a test asks for it (the item
        # hosts, tube.example…, resolve nowhere, and the processes have no egress proxy).
        env = {**os.environ, **UNIT_AUTHORITY, "PRESEND_CHECK_SECONDS": "0", **env}
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, proc))
        return proc

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{(self.tmp_path / f'{name}.log').read_text()[-4000:]}"
                         for name, _ in self.procs)

    def stop(self):
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_worker(processes: Processes, env: dict, *, beat: bool = False) -> subprocess.Popen:
    import sys

    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1",
            "--pool", "solo", "-n", f"e2e-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if beat:
        args += ["--beat", "--schedule", str(processes.tmp_path / "beat-schedule")]
    return processes.start("worker", args, env)
