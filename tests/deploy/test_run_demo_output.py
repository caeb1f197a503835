"""`make run` (manage.py run_demo) shows each process start, the logins and the URLs, then warnings and errors
only: no line per request or static file, no doubled lines, no tracebacks for ordinary 403/404 answers, no
broker chatter."""

import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from tests.processes import ROOT, free_port, wait_for


def fetch(opener, url, data=None) -> int:
    try:
        with opener.open(url, data=urllib.parse.urlencode(data).encode() if data else None, timeout=10) as res:
            res.read()
            return res.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError:
        return 0  # not listening (yet)


def test_run_demo_output_is_the_essentials_then_warnings_only(tmp_path):
    port, sandbox_port, smtp_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_QUEUE", "LOG_LEVEL"}}
    env.update(VAR_DIR=str(tmp_path / "var"), DEBUG="1", ALLOW_PRIVATE_ENDPOINTS="1")  # as `make run` does
    log_path = tmp_path / "run_demo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_demo", "--port", str(port), "--sandbox-port", str(sandbox_port),
             "--smtp-port", str(smtp_port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_for(lambda: "Ctrl-C stops everything." in log_path.read_text(), 60, "the demo's banner")
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        wait_for(lambda: fetch(browser, f"{base}/login/") == 200, 30, "the web process")
        assert fetch(browser, f"{base}/static/css/app.css") == 200
        assert fetch(browser, f"{base}/static/vendor/htmx.min.js") == 200
        assert fetch(browser, f"{base}/no-such-page/") == 404
        assert fetch(browser, f"{base}/api/v1/no-such-endpoint/") == 404
        logins = json.loads((tmp_path / "var" / "demo.json").read_text())
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        signed_in = fetch(browser, f"{base}/login/", {
            "username": "analyst", "password": logins["analyst"]["password"], "csrfmiddlewaretoken": csrf})
        assert signed_in == 200 and any(c.name == "sessionid" for c in jar)
        assert fetch(browser, f"{base}/review/") == 403  # supervisors only: PermissionDenied in the view
        # The supervisor signs in with the second factor the demo enrolled: the code `demo_code` prints.
        jar.clear()
        fetch(browser, f"{base}/login/")
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        fetch(browser, f"{base}/login/", {"username": "supervisor", "password": logins["supervisor"]["password"],
                                          "csrfmiddlewaretoken": csrf})
        code = subprocess.run([sys.executable, "manage.py", "demo_code", "supervisor"], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout.strip()
        assert fetch(browser, f"{base}/login/verify/", {"otp_token": code, "csrfmiddlewaretoken": csrf}) == 200
        assert fetch(browser, f"{base}/review/") == 200
        assert len(logins["supervisor"]["recovery_codes"]) == 10 and logins["admin"]["totp_key"]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:  # anything left of this test's own session (run_demo and its children), by its group id
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    out = log_path.read_text()

    # Each process start, the URLs and the logins.
    for name in ("web", "worker", "beat", "sandbox", "smtp"):
        assert f"{name} started" in out, out
    assert f"Referral desk: http://127.0.0.1:{port}/" in out
    assert f"Sandbox platform: http://127.0.0.1:{sandbox_port}/" in out
    for username, info in logins.items():
        assert username in out and info["password"] in out
    assert out.rstrip().endswith("Stopped.")
    # Then warnings and errors only: one line each, no traceback.
    assert "Traceback" not in out, out
    assert out.count("Not Found: /no-such-page/") == 1, out
    assert out.count("Forbidden (Permission denied): /review/") == 1, out
    assert "/static/" not in out, out  # no access-log line per request or static file
    assert '"GET ' not in out and '"POST ' not in out, out
    assert "No hostname was supplied" not in out, out  # kombu's filesystem-broker warning
    assert "Performing system checks" not in out and "Starting development server" not in out, out
    assert "[tasks]" not in out and "beat: Starting" not in out and " INFO" not in out, out
