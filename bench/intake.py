"""Intake benchmark: 26,000 and 1,000,000 URLs imported into a case through the real import path
(referral.intake.create_import + run_import, in-process, in a child process whose peak RSS is measured), on
PostgreSQL. Beside each figure, the raw limit measured in the same run: PostgreSQL COPY of the same CSV rows
into a plain table (no canonicalisation, no dedup, no platform resolution, no indexes), and the database's own share
of the import: the imported rows' values copied back into the items table (its indexes and foreign-key checks), in
transactions of 5,000 as the import writes them, with no Python per row.

Run: make bench-intake   (env: BENCH_DATABASE_URL, BENCH_SIZES="26000,1000000", BENCH_PLATFORMS)
It creates and drops its own database; it talks only to 127.0.0.1.
"""

import sys

# Run as `python bench/intake.py`, this directory comes first on sys.path, where a bench module may shadow the
# standard library (bench/queue.py hides `queue`): take it off.
_HERE = __import__("os").path.dirname(__import__("os").path.abspath(__file__))
sys.path[:] = [p for p in sys.path if __import__("os").path.abspath(p or ".") != _HERE]

import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.support import recreate_database  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intake_bench")
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "26000,1000000").split(",")]
PLATFORMS = int(os.environ.get("BENCH_PLATFORMS", "180"))
ENV = {"DATABASE_URL": DB_URL, "SECRET_KEY": "bench-only", "LOG_LEVEL": "WARNING",
       "CELERY_BROKER_URL": "memory://", "IMPORT_MAX_ROWS": "5000000"}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def write_csv(path: Path, n: int, seed: str) -> None:
    """Realistic rows: tracking parameters and www./m. prefixes to strip, 180 platforms' hosts, categories,
    a few repeats (1 in 50) and a few bad rows (1 in 200)."""
    kinds = ["post", "account", "channel", "media", ""]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("url,kind,categories,language,notes,group\n")
        for i in range(n):
            if i % 200 == 199:
                f.write(f"not a url {i},post,,,,\n")
                continue
            j = i - 1 if i % 50 == 49 else i
            prefix = ("www.", "m.", "")[j % 3]
            f.write(f"https://{prefix}p{j % PLATFORMS}.example/{seed}/watch?v={j}&utm_source=share,"
                    f"{kinds[j % 5]},incitement;threat,ar,row {j},\n")


class DatabaseCPU:
    """CPU seconds of the PostgreSQL backends serving the bench's database, read from /proc (the server runs on this
    machine): CPU time, unlike wall time, barely moves when other work shares the cores. Sampled every 0.5 s, as a
    backend's process ends with its connection (the import's writer closes its own), so the last 0.5 s of a
    closed connection can be missed. Zero when /proc shows no such process (a server elsewhere)."""

    def __init__(self):
        self.name = DB_URL.rsplit("/", 1)[1].encode()
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start = self._sample()
        self.seen = dict(self.start)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _sample(self) -> dict[str, float]:
        found = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    title = f.read()
                if title.startswith(b"postgres:") and self.name in title.split():
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    found[pid] = (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
            except OSError:
                continue
        return found

    def _loop(self) -> None:
        while not self.done.wait(0.5):
            self.seen.update(self._sample())

    def seconds(self) -> float:
        self.done.set()
        self.thread.join()
        self.seen.update(self._sample())
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.seen.items())


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(path: str, case_id: int, username: str) -> None:
    """One import, in its own process so its peak RSS is the import's (plus Django)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from cases.models import Case
    from intake import actions as intake_actions

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    user = get_user_model().objects.get(username=username)
    case = Case.objects.get(pk=case_id)
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        job = intake_actions.create_import(actor=user, case=case, fileobj=f, original_name=path, queue=False)
    database = DatabaseCPU()
    c1, t1 = _cpu(), time.perf_counter()
    job = intake_actions.run_import(job.pk)
    t2, c2 = time.perf_counter(), _cpu()
    database_cpu = database.seconds()
    print(json.dumps({
        "create_s": t1 - t0, "run_s": t2 - t1, "status": job.status, "processed": job.processed,
        "accepted": job.accepted, "duplicates": job.duplicates, "rejected": job.rejected,
        "python_cpu_s": c2 - c1, "database_cpu_s": database_cpu, "base_rss_mb": base_rss / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def raw_copy(path: Path) -> float:
    """The raw limit: COPY the same CSV into a plain table (same database, same run)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_items")
        cursor.execute("CREATE TABLE bench_raw_items (url text, kind text, categories text, language text, "
                       "notes text, grp text)")
        t0 = time.perf_counter()
        with path.open("r", encoding="utf-8") as f:
            cursor.cursor.copy_expert("COPY bench_raw_items FROM STDIN WITH (FORMAT csv, HEADER true)", f)
        elapsed = time.perf_counter() - t0
        cursor.execute("DROP TABLE bench_raw_items")
    return elapsed


def db_floor(case_id: int, into_case_id: int) -> tuple[float, float]:
    """The database's share of an import into `case_id`: its items' values, read back 5,000 at a time, copied into
    the items table again (as items of `into_case_id`), one transaction each; only the COPY FROM and its commit
    (index maintenance, the foreign keys' checks) are timed. Returns that time and the backend's CPU seconds (which
    include reading the rows back, about a raw COPY's worth)."""
    from django.db import connection, transaction

    from cases.models import Item

    names = [f.column for f in Item._meta.concrete_fields if f.column != "id"]
    chosen = ", ".join(str(into_case_id) if name == "case_id" else f'"{name}"' for name in names)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM cases_item WHERE case_id = %s", [case_id])
        low, high = cursor.fetchone()
        elapsed = 0.0
        database = DatabaseCPU()
        for start in range(low, high + 1, 5000):
            data = io.StringIO()
            cursor.cursor.copy_expert(
                f"COPY (SELECT {chosen} FROM cases_item WHERE case_id = {int(case_id)} "  # noqa: S608 (ints)
                f"AND id >= {start} AND id < {start + 5000} ORDER BY id) TO STDOUT", data)
            data.seek(0)
            t0 = time.perf_counter()
            with transaction.atomic():
                cursor.cursor.copy_expert(f"COPY cases_item ({', '.join(names)}) FROM STDIN", data)
            elapsed += time.perf_counter() - t0
    return elapsed, database.seconds()


def run_child(path: Path, case_id: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), str(case_id), "analyst"], cwd=ROOT,
                         env={**os.environ, **ENV}, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    recreate_database(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts import services as account_services
    from cases.actions import cases as case_actions
    from platforms.models import Platform, PlatformDomain

    call_command("migrate", verbosity=0)
    analyst = account_services.user_create(actor=None, username="analyst", role="analyst")
    for i in range(PLATFORMS):
        p = Platform.objects.create(slug=f"p{i}", name=f"Platform {i}")
        PlatformDomain.objects.create(platform=p, domain=f"p{i}.example")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            path = Path(tmp) / f"{n}.csv"
            write_csv(path, n, seed=f"s{n}")
            size_mb = path.stat().st_size / 1024 / 1024
            case = case_actions.case_create(actor=analyst, title=f"bench {n}")
            first = run_child(path, case.pk)
            again = run_child(path, case.pk) if n <= 100_000 else None  # re-upload: every row a duplicate
            raw = raw_copy(path)
            floor = db_floor(case.pk, case_actions.case_create(actor=analyst, title=f"floor {n}").pk)
            rows.append((n, size_mb, first, again, raw, floor))
    print()
    print(f"Intake benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, PostgreSQL on localhost; {PLATFORMS} platforms")
    print()
    print("| what | rows | import (run_import) | rows/s | CPU: Python + database | create_import (scan + store) "
          "| peak RSS (Django alone) "
          "| raw COPY of the same CSV | the database's share (items' COPY + commits) | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    targets = {26_000: "< 5 s", 1_000_000: "< 60 s, < 300 MB"}
    for n, size_mb, first, again, raw, floor in rows:
        print(f"| {n:,} URLs ({size_mb:.0f} MB CSV): {first['accepted']:,} accepted, {first['duplicates']:,} "
              f"duplicates, {first['rejected']:,} rejected | {first['processed']:,} | {first['run_s']:.1f} s | "
              f"{first['processed'] / first['run_s']:,.0f} | {first['python_cpu_s']:.1f} s + "
              f"{first['database_cpu_s']:.1f} s | {first['create_s']:.2f} s | "
              f"{first['peak_rss_mb']:.0f} MB ({first['base_rss_mb']:.0f} MB) | {raw:.2f} s "
              f"({n / raw:,.0f}/s) | {floor[0]:.1f} s (CPU {floor[1]:.1f} s) | {targets.get(n, '')} |")
        if again:
            print(f"| same file again into the same case: {again['duplicates']:,} duplicates, {again['accepted']} "
                  f"new | {again['processed']:,} | {again['run_s']:.1f} s | {again['processed'] / again['run_s']:,.0f} "
                  f"| {again['python_cpu_s']:.1f} s + {again['database_cpu_s']:.1f} s | {again['create_s']:.2f} s "
                  f"| {again['peak_rss_mb']:.0f} MB | | | |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
