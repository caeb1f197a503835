"""Find anything in real Chromium: "/" focuses the header's search box, a youtu.be link lands on its
youtube.com item, and words list what they find grouped by kind. Screenshot search-results.png
(docs/screenshots/ with `make screenshots`)."""

import pytest
from playwright.sync_api import expect

from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from tests.browser.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def findings(analyst, case, platform_a):
    video = item_actions.item_log(actor=analyst, case=case, url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                                  kind="media", categories=["incitement"])
    outlet = case_actions.case_create(actor=analyst, title="Hydra media outlet", description="")
    case_actions.case_create(actor=analyst, title="Hydra: action day 2026-11", description="")
    notes = ["Hydra outlet's new recruitment video, Arabic voice-over",
             "Re-upload of the Hydra nasheed with a new logo",
             "Channel mirrors Hydra releases within the hour"]
    for n, text in enumerate(notes):
        item_actions.item_log(actor=analyst, case=outlet, url=f"https://tube.example/watch?v=hydra{n}", kind="post",
                              categories=["incitement"], notes=text)
    return video


def test_a_youtu_be_link_in_the_header_lands_on_its_item(page, screenshot, analyst, findings):
    login(page, analyst)
    page.goto("/queue/")
    box = page.get_by_role("searchbox", name="Search cases, items and referrals")
    page.keyboard.press("/")  # the shortcut focuses the box, and the "/" is not typed into it
    expect(box).to_be_focused()
    expect(box).to_have_value("")
    box.fill("https://youtu.be/dQw4w9WgXcQ?si=shared")
    box.press("Enter")
    page.wait_for_url(f"**/items/{findings.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Item {findings.pk}")

    # Words list their results, grouped by kind.
    box = page.get_by_role("searchbox", name="Search cases, items and referrals")
    box.fill("hydra")
    box.press("Enter")
    page.wait_for_url("**/search/?q=hydra")
    items = page.get_by_role("region", name="Items")
    expect(items.get_by_role("row")).to_have_count(4)  # the header row and three items
    expect(page.get_by_role("region", name="Cases").get_by_role("row")).to_have_count(3)
    expect(page.get_by_role("region", name="Referrals")).to_contain_text("No referrals found.")
    screenshot(page, "search-results.png")


def test_bad_input_is_a_message_not_an_error_page(page, analyst, findings):
    login(page, analyst)
    page.goto("/search/?q=ftp://example.org/file")
    expect(page.get_by_role("alert")).to_contain_text("That URL cannot be searched")
    expect(page.get_by_role("searchbox", name="Search for")).to_have_value("ftp://example.org/file")
