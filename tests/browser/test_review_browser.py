"""Review in real Chromium: 200 proposals decided by keyboard (j/k move, x selects, a approves, r returns and
Shift+R rejects with a reason, ? helps), the cursor keeping its place after each decision; and every proposal
matching a filter approved by a real Celery worker, watched through the progress bar to the report.
Screenshot review.png (docs/screenshots/ with `make screenshots`)."""

import pytest
from playwright.sync_api import expect

from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.models import Item
from referral.models import ReviewJob
from tests.browser.conftest import login
from tests.conftest import enrol_totp, make_platform, make_user
from tests.processes import database_url, start_worker

pytestmark = pytest.mark.django_db(transaction=True)


def propose_many(analyst, case, count: int, host: str = "tube.example/watch?v=", prefix: str = "k") -> list[int]:
    ids = []
    for n in range(count):
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://{host}{prefix}{n}", kind="post",
                                     categories=["threat"] if n % 2 else ["incitement"])
        if n % 7 == 3:
            assessment_actions.item_assess(actor=analyst, item_id=item.pk, categories=item.categories,
                                           severity=n % 8, confidence=n % 4, threat_to_life=(n == 10))
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        ids.append(item.pk)
    return ids


def test_review_200_proposals_by_keyboard(page, screenshot, supervisor, analyst, case):
    make_platform("tube", ["tube.example"])
    ids = propose_many(analyst, case, 200)
    login(page, supervisor)
    page.goto("/review/")
    rows = page.locator("tr.review-row")
    expect(rows).to_have_count(50)
    first = Item.objects.get(pk=int(rows.nth(0).get_attribute("data-item-id")))
    assert first.threat_to_life  # the threat to life is on top

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Approve the selected proposals")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_attribute("aria-current", "true")
    decided = {"approved": [], "returned": [], "rejected": []}
    for round_ in range(20):  # 10 proposals a round: x on each, j between, then a decision
        chosen = []
        for n in range(10):
            if n:
                page.keyboard.press("j")
            chosen.append(int(rows.nth(n).get_attribute("data-item-id")))
            page.keyboard.press("x")
            expect(rows.nth(n).locator('input[type="checkbox"]')).to_be_checked()
        if round_ == 0:
            screenshot(page, "review.png")
        if round_ % 4 == 1:
            page.keyboard.press("r")
            dialog = page.get_by_role("dialog", name="Return items")
            expect(dialog).to_be_visible()
            expect(page.locator("#review-reason-text")).to_be_focused()
            page.keyboard.type("Add the channel handle")
            page.keyboard.press("Enter")
            decided["returned"] += chosen
        elif round_ % 4 == 3:
            page.keyboard.press("Shift+R")
            expect(page.get_by_role("dialog", name="Reject items")).to_be_visible()
            page.keyboard.type("Satire, not incitement")
            page.keyboard.press("Enter")
            decided["rejected"] += chosen
        else:
            page.keyboard.press("a")
            decided["approved"] += chosen
        expect(page.locator(f"#r-item-{chosen[0]}")).to_have_count(0)  # swapped in place, no reload
        expect(page.locator("#review-results .message-success")).to_contain_text("10 items")
        if round_ < 19:
            expect(rows.nth(9)).to_have_attribute("aria-current", "true")  # the cursor kept its row
            for _ in range(9):
                page.keyboard.press("k")
            expect(rows.nth(0)).to_have_attribute("aria-current", "true")
    expect(rows).to_have_count(0)
    expect(page.locator("#review-results")).to_contain_text("Nothing is waiting for review")
    for status, chosen in decided.items():
        assert sorted(Item.objects.filter(pk__in=chosen, status=status).values_list("pk", flat=True)) == \
            sorted(chosen), status
    assert sorted(sum(decided.values(), [])) == sorted(ids)
    assert set(Item.objects.filter(status="returned").values_list("decision_reason", flat=True)) == \
        {"Add the channel handle"}


@pytest.fixture
def worker(processes):
    return start_worker(processes, {"DATABASE_URL": database_url()})


def test_approve_every_proposal_matching_a_filter_and_watch_the_progress(page, screenshot, worker, processes,
                                                                         analyst, case):
    tube = make_platform("tube", ["tube.example"])
    make_platform("chirp", ["chirp.example"])
    tube_ids = propose_many(analyst, case, 60)
    chirp_ids = propose_many(analyst, case, 5, host="chirp.example/u/", prefix="c")
    boss = make_user("pat_promoted", "analyst")
    own = propose_many(boss, case, 2, prefix="own")
    boss.role = "supervisor"
    boss.save(update_fields=["role"])
    enrol_totp(boss)  # a supervisor signs in with a second factor

    login(page, boss)
    page.goto("/review/")
    page.get_by_label("Platform").select_option(label="Tube")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr.review-row")).to_have_count(50)
    page.get_by_text("Decide on every proposal matching this filter").click()
    page.get_by_label("Decision for every matching proposal").select_option("approve")
    page.locator("#job-instrument").select_option("removal_order")
    page.get_by_label("Reason for every return or rejection").fill("Incites to terrorist offences.")
    page.get_by_role("button", name="Decide on every matching proposal").click()
    page.wait_for_url("**/review/jobs/*/")
    expect(page.locator("progress")).to_be_visible()
    section = page.locator("#review-job-progress")
    try:
        expect(section).to_contain_text("Back to Review", timeout=60_000)
    except AssertionError:
        raise AssertionError(processes.logs()) from None
    expect(section).to_contain_text("62 of 62 matching proposals")
    expect(section.get_by_role("row", name="Approved")).to_contain_text("60")
    expect(section.get_by_role("row", name="Skipped (your own proposals: four-eyes)")).to_contain_text("2")
    for pk in own:
        expect(section.locator("table.review-job-report")).to_contain_text(f"Item {pk}")
    job = ReviewJob.objects.get()
    assert (job.status, job.filters["platform"], job.done, job.skipped) == ("done", tube.pk, 60, 2)
    assert set(Item.objects.filter(pk__in=tube_ids).values_list("status", flat=True)) == {"approved"}
    assert set(Item.objects.filter(pk__in=own + chirp_ids).values_list("status", flat=True)) == {"proposed"}
    screenshot(page, "review-job.png")


def test_a_rows_buttons_decide_in_place(page, supervisor, analyst, case):
    make_platform("tube", ["tube.example"])
    ids = propose_many(analyst, case, 5, prefix="row")
    login(page, supervisor)
    page.goto("/review/?kind=post")
    target = page.locator("tr.review-row").nth(2)
    pk = int(target.get_attribute("data-item-id"))
    page.get_by_label("Reason (returns and rejections)").fill("Add the channel handle")
    target.get_by_role("button", name=f"Return item {pk}").click()
    expect(page.locator(f"#r-item-{pk}")).to_have_count(0)
    expect(page.locator("#review-results .message-success")).to_contain_text(f"Item {pk} returned")
    assert page.url.endswith("/review/?kind=post")  # no navigation: the table was swapped in place
    assert Item.objects.get(pk=pk).status == "returned" and len(ids) == 5
