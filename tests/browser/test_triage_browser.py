"""Triage with the keyboard in real Chromium: j/k move, x selects, p proposes, ? opens the help, Esc closes it.
Screenshots triage-queue.png and item-page.png (docs/screenshots/ with `make screenshots`)."""

import pytest
from playwright.sync_api import expect

from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.models import Item
from tests.browser.conftest import login
from tests.conftest import make_platform

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue_items(analyst, case, platform_a, platform_b):
    from django.core.management import call_command

    call_command("seed_groups", verbosity=0)
    from cases.models import Group

    groups = list(Group.objects.all())
    make_platform("pinboard", ["pinboard.example"])
    hosts = ["tube.example", "chirp.example", "pinboard.example", "unclaimed.example"]
    kinds = ["post", "account", "media", "channel", "file"]
    cats = [["incitement"], ["threat"], ["participation"], ["instruction", "incitement"], ["solicitation"]]
    items = []
    for n in range(20):
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://{hosts[n % 4]}/p/{n}", kind=kinds[n % 5],
                                 categories=cats[n % 5], language=["ar", "en", "fr"][n % 3])
        assessment_actions.item_assess(actor=analyst, item_id=item.pk, categories=cats[n % 5],
                                       language=["ar", "en", "fr"][n % 3],
                             group_id=groups[n % len(groups)].pk if n % 3 else None, severity=(n * 3) % 8,
                             confidence=n % 4, threat_to_life=(n == 7))
        items.append(item)
    return items


def test_triage_with_the_keyboard(page, screenshot, analyst, queue_items):
    login(page, analyst)
    page.goto("/queue/")
    rows = page.locator("tr.queue-row")
    expect(rows).to_have_count(20)
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_attribute("aria-current", "true")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_attribute("aria-current", "true")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(rows.nth(1).locator('input[type="checkbox"]')).to_be_checked()
    page.keyboard.press("x")
    expect(rows.nth(1).locator('input[type="checkbox"]')).not_to_be_checked()

    # ? opens the help overlay; Esc closes it.
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Propose")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # Typing in a field does not trigger shortcuts.
    page.get_by_label("Language").fill("jjxp")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    page.get_by_label("Language").fill("")

    screenshot(page, "triage-queue.png")

    second_id = int(rows.nth(1).get_attribute("data-item-id"))
    rows.nth(1).focus()
    page.keyboard.press("p")  # proposes the current item (none is checked)
    expect(page.locator(".message-success")).to_contain_text(f"1 item proposed (item {second_id})")
    page.reload()
    assert Item.objects.get(pk=second_id).status == "proposed"
    expect(page.locator(f"#q-item-{second_id}")).to_have_count(0)  # left the to-triage list


def test_discard_from_the_keyboard_asks_the_reason(page, analyst, queue_items):
    login(page, analyst)
    page.goto("/queue/")
    page.keyboard.press("j")
    first_id = int(page.locator("tr.queue-row").nth(0).get_attribute("data-item-id"))
    page.keyboard.press("d")
    dialog = page.get_by_role("dialog", name="Discard items")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason for discarding").fill("Satire account, not terrorist content")
    dialog.get_by_role("button", name="Discard").click()
    expect(page.locator(".message-success")).to_contain_text("1 item discarded")
    item = Item.objects.get(pk=first_id)
    assert (item.status, item.decision_reason) == ("discarded", "Satire account, not terrorist content")


def test_item_page_screenshot(page, screenshot, analyst, queue_items):
    item = Item.objects.get(pk=queue_items[7].pk)  # the threat-to-life one
    login(page, analyst)
    page.goto(f"/items/{item.pk}/")
    expect(page.get_by_role("heading", name=f"Item {item.pk}", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Threat to life")
    screenshot(page, "item-page.png")
