"""The production stack in real Chromium: `collectstatic`, then gunicorn with DEBUG=0 as the Dockerfile runs it.

Static files are served (WhiteNoise) under hashed names with gzip copies, so the stylesheets and scripts load;
and the evidence preview is blurred and greyscale as the server sends it, even when no stylesheet loads at all
(the failure this guards against: /static/ answering 404 showed the pictures in full colour). Reveal shows the
file itself.
"""

import io
import os
import re
import subprocess
import sys

import httpx
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from audit.models import AuditEvent
from cases.actions import items as item_actions
from evidence import actions as service
from tests.browser.conftest import login
from tests.pictures import colourfulness, load, sharpness
from tests.processes import ROOT, answers, database_url, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTION = {"DEBUG": "0", "STATIC_MANIFEST": ""}  # STATIC_MANIFEST unset: what DEBUG=0 implies
HASHED = r"\.[0-9a-f]{12}\."


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """What the Dockerfile's `collectstatic` step makes, into a folder of this test's own."""
    root = tmp_path_factory.mktemp("static_root")
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, **PRODUCTION, "STATIC_ROOT": str(root)}, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture
def gunicorn(static_root, processes, settings, tmp_path):
    """gunicorn serving config.wsgi with DEBUG=0 on this test's database and media folder; its base URL."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**PRODUCTION, "STATIC_ROOT": str(static_root), "MEDIA_ROOT": settings.MEDIA_ROOT,
           "DATABASE_URL": database_url(), "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": base}
    processes.start("gunicorn", [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
                                 f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"], env)
    wait_for(lambda: answers(f"{base}/login/"), 30, "gunicorn to listen")
    return base


@pytest.fixture
def browser_at(chromium, gunicorn):
    contexts = []

    def open_page():
        context = chromium.new_context(base_url=gunicorn, viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot_png() -> bytes:
    cells = np.random.default_rng(23).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(cells).resize((640, 480), Image.Resampling.NEAREST).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def evidence(gunicorn, analyst, case, platform_a):
    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=pr0d", kind="post",
                             categories=["incitement"])
    data = screenshot_png()
    ev = service.evidence_add(actor=analyst, item_id=item.pk, upload=SimpleUploadedFile("beheading.png", data))
    return item, ev.evidence, data


def loaded(page, image, width: int):
    page.wait_for_function(f"img => img.complete && img.naturalWidth === {width}", arg=image.element_handle())


def test_static_files_are_served_hashed_and_compressed(browser_at, gunicorn, analyst, evidence):
    item, _, _ = evidence
    page = browser_at()
    statics = []
    page.on("response", lambda r: statics.append(r) if "/static/" in r.url else None)
    login(page, analyst)
    page.goto(f"/items/{item.pk}/")
    page.wait_for_load_state("load")
    styles = page.locator('link[rel="stylesheet"]').evaluate_all("els => els.map(e => e.getAttribute('href'))")
    scripts = page.locator("script[src]").evaluate_all("els => els.map(e => e.getAttribute('src'))")
    assert {re.sub(HASHED, ".", href) for href in styles} >= {
        "/static/css/app.css", "/static/css/triage.css", "/static/css/evidence.css"}
    assert {re.sub(HASHED, ".", src) for src in scripts} >= {"/static/vendor/htmx.min.js", "/static/js/evidence.js"}
    assert all(re.search(HASHED, url) for url in styles + scripts), styles + scripts
    assert statics and all(r.status == 200 for r in statics), [(r.url, r.status) for r in statics]
    assert {r.url.removeprefix(gunicorn) for r in statics} >= set(styles + scripts)
    # The stylesheets and scripts did load and run.
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("window.evidencePreviewsBound") is True
    image = page.get_by_role("img", name="Preview of beheading.png")
    assert "grayscale(1)" in image.evaluate("el => getComputedStyle(el).filter")
    # Hashed names are cached for good, and sent gzipped to a client that takes it.
    css = next(href for href in styles if "evidence." in href)
    res = httpx.get(gunicorn + css, headers={"Accept-Encoding": "gzip"})
    assert res.status_code == 200 and res.headers["Content-Encoding"] == "gzip"
    assert "immutable" in res.headers["Cache-Control"] and "blur(16px)" in res.text


def test_the_preview_is_blurred_by_the_server_and_reveal_shows_the_file(browser_at, gunicorn, analyst, evidence):
    item, ev, original_bytes = evidence
    original = load(original_bytes)
    page = browser_at()
    login(page, analyst)
    page.goto(f"/items/{item.pk}/")
    entry = page.locator(f"#evidence-file-{ev.pk}")
    image = entry.get_by_role("img", name="Preview of beheading.png")
    assert image.get_attribute("src") == f"/evidence/{ev.pk}/preview/"
    loaded(page, image, 512)
    # What the server delivered for the preview: greyscale, no hard edge left, not the file.
    delivered = page.request.get(gunicorn + f"/evidence/{ev.pk}/preview/")
    assert delivered.status == 200 and delivered.headers["content-type"] == "image/jpeg"
    preview = load(delivered.body())
    assert delivered.body() != original_bytes
    assert preview.mode == "L" and preview.size == (512, 384) and colourfulness(preview) == 0
    assert sharpness(original) > 100 and sharpness(preview) < 20
    assert not AuditEvent.objects.filter(verb="evidence.viewed").exists()  # a blurred preview is no consultation

    entry.get_by_role("button", name="Reveal").click()
    assert image.get_attribute("src") == f"/evidence/{ev.pk}/file/"
    loaded(page, image, 640)
    assert image.evaluate("el => getComputedStyle(el).filter") == "none"
    assert colourfulness(load(image.screenshot())) > 100  # on screen in colour
    assert AuditEvent.objects.filter(verb="evidence.viewed", object_id=str(ev.pk), actor=analyst).exists()
    assert page.request.get(gunicorn + f"/evidence/{ev.pk}/file/").body() == original_bytes


def test_without_any_stylesheet_or_script_the_preview_is_still_blurred(browser_at, analyst, evidence):
    """/static/ failing altogether (the reported fault): the picture on screen is still grey and blurred, and
    the no-JS Reveal form shows the file."""
    item, ev, _ = evidence
    page = browser_at()
    page.route("**/static/**", lambda route: route.abort())
    login(page, analyst)
    page.goto(f"/items/{item.pk}/")
    entry = page.locator(f"#evidence-file-{ev.pk}")
    image = entry.get_by_role("img", name="Preview of beheading.png")
    loaded(page, image, 512)
    assert image.evaluate("el => getComputedStyle(el).filter") == "none"  # no stylesheet: no CSS blur either
    on_screen = load(image.screenshot())
    width, height = on_screen.size
    assert width >= 510  # shown at its own size, no stylesheet to scale it
    on_screen = on_screen.crop((2, 2, width - 2, height - 2))  # within the picture, clear of the page around it
    assert colourfulness(on_screen) <= 8 and sharpness(on_screen) < 20
    assert not entry.locator("video").count()

    entry.get_by_role("button", name="Reveal").click()  # a GET form without JS: ?reveal=<id>
    page.wait_for_url(f"**/items/{item.pk}/?reveal={ev.pk}*")
    image = page.locator(f"#evidence-file-{ev.pk}").get_by_role("img", name="Preview of beheading.png")
    assert image.get_attribute("src") == f"/evidence/{ev.pk}/file/"
    loaded(page, image, 640)
    assert colourfulness(load(image.screenshot())) > 100
