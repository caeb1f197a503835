"""Evidence in real Chromium: the analyst uploads a screenshot, sees it blurred and greyscale (as the server sent
it), reveals the file itself with one click, and can blur it again."""

import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from audit.models import AuditEvent
from cases.actions import items as item_actions
from evidence.models import Evidence
from tests.browser.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def screenshot_png() -> bytes:
    cells = np.random.default_rng(11).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(cells).resize((640, 480), Image.Resampling.NEAREST).save(buf, "PNG")
    return buf.getvalue()


def computed_filter(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).filter")


def test_analyst_uploads_evidence_sees_it_blurred_and_reveals_it(page, screenshot, settings, tmp_path, analyst, case,
                                                                  platform_a):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=br0wserev", kind="post",
                             categories=["incitement"])
    login(page, analyst)
    page.goto(f"/items/{item.pk}/evidence/")
    expect(page.locator(".evidence-panel")).to_contain_text("No evidence attached yet.")

    page.get_by_label("Attach a file").set_input_files(
        {"name": "screenshot-of-post.png", "mimeType": "image/png", "buffer": screenshot_png()}
    )
    page.get_by_role("button", name="Upload evidence").click()
    expect(page.locator(".messages")).to_contain_text("added to item")
    ev = Evidence.objects.get(item=item)
    assert AuditEvent.objects.filter(verb="evidence.added", object_id=str(ev.pk)).exists()

    entry = page.locator(f"#evidence-file-{ev.pk}")
    expect(entry).to_contain_text("screenshot-of-post.png")
    expect(entry).to_contain_text(ev.sha256[:16])
    image = entry.get_by_role("img", name="Preview of screenshot-of-post.png")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    # The server's blurred copy, with the stylesheet's blur on top; nothing of it was a consultation.
    assert image.get_attribute("src") == f"/evidence/{ev.pk}/preview/"
    shown = computed_filter(image)
    assert "blur(16px)" in shown and "grayscale(1)" in shown
    assert not AuditEvent.objects.filter(verb="evidence.viewed").exists()
    screenshot(page, "evidence-blurred.png")

    entry.get_by_role("button", name="Reveal").click()
    assert computed_filter(image) == "none"
    assert image.get_attribute("src") == f"/evidence/{ev.pk}/file/"
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=image.element_handle())
    expect(entry.get_by_role("button", name="Blur again")).to_have_attribute("aria-pressed", "true")
    entry.get_by_role("button", name="Blur again").click()
    assert "blur(16px)" in computed_filter(image)
    assert image.get_attribute("src") == f"/evidence/{ev.pk}/preview/"
    # Revealing loaded the file itself: a consultation, in the audit trail.
    assert AuditEvent.objects.filter(verb="evidence.viewed", object_id=str(ev.pk), actor=analyst).exists()
