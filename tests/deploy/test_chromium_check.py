"""`make test` checks for the browser tests' Chromium before any test (scripts/ensure-chromium): present, it
goes on; missing and not root, it stops with one line saying what to install."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-chromium"


def run_check(chromium_path: str, *, as_nobody: bool) -> subprocess.CompletedProcess:
    """Run the script with CHROMIUM_PATH set; as_nobody drops to uid/gid 65534 when the tests run as root."""
    env = {"PATH": os.environ["PATH"], "CHROMIUM_PATH": chromium_path}
    command = ["bash", "-s"]  # the script on stdin: the unprivileged user needs no access to the checkout
    if as_nobody and os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    with SCRIPT.open() as script:
        return subprocess.run(command, stdin=script, env=env, cwd="/", capture_output=True, text=True, timeout=30)


def test_missing_chromium_as_a_user_stops_with_one_line_naming_the_package(tmp_path):
    missing = tmp_path / "no-chromium-here"
    res = run_check(str(missing), as_nobody=True)
    assert res.returncode != 0
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert str(missing) in lines[0] and "apt-get install chromium" in lines[0]
    assert not missing.exists()


def test_present_chromium_passes_quietly(tmp_path):
    binary = tmp_path / "chromium"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    res = run_check(str(binary), as_nobody=False)
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")


def test_make_test_checks_chromium_before_pytest_and_ci_leaves_it_to_make():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    out = subprocess.run(["make", "-n", "test"], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert "scripts/ensure-chromium" in out
    assert out.index("scripts/ensure-chromium") < out.index("bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get" not in ci and ci.rstrip().endswith("make test")
