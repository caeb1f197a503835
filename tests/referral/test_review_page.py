"""Review at action-day scale: the order (a threat to life first, then priority, then the oldest proposal), every
filter, keyset pages, the counts per platform, what a row shows, and a fixed number of queries.

All of it on SQLite too (the embedded database of `make run`): `make test` runs these tests on both."""

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from cases import selectors as case_selectors
from cases.actions import assessment as assessment_actions
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Group, Item
from evidence import actions as evidence_actions
from evidence.actions import PIL_FORMATS
from evidence.models import Evidence
from referral.forms import ReviewFilterForm
from tests.conftest import enrol_totp, make_user

pytestmark = pytest.mark.both_databases

ROW = re.compile(r'<tr id="r-item-(\d+)" class="review-row')
NEXT_PAGE = re.compile(r'href="\?([^"]*after=[^"]+)" rel="next"')
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def ids_on(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.content.decode())]


def png() -> SimpleUploadedFile:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buf, "PNG")
    return SimpleUploadedFile("shot.png", buf.getvalue(), content_type="image/png")


@pytest.fixture
def propose(analyst, case):
    """propose(url=None, by=analyst, **assessment) → an item logged, assessed and proposed through the workflow."""
    counter = {"n": 0}

    def make(url=None, *, by=None, in_case=None, kind="post", categories=("incitement",), **assessment):
        counter["n"] += 1
        author = by or analyst
        url = url or f"https://tube.example/watch?v=rv{counter['n']}"
        item = item_actions.item_log(actor=author, case=in_case or case, url=url, kind=kind,
                                     categories=list(categories))
        if assessment:
            assessment_actions.item_assess(actor=author, item_id=item.pk, categories=list(categories), **assessment)
        return item_actions.item_propose(actor=author, item_id=item.pk)

    return make


def review_order(items) -> list[int]:
    return [i.pk for i in sorted(items, key=lambda i: (not i.threat_to_life, -i.priority, i.proposed_at, i.pk))]


def walk(client, query: str = "") -> list[int]:
    """Every row Review shows for the query, page after page (each answered 200), in order."""
    seen, path = [], f"/review/?{query}"
    for _ in range(50):
        res = client.get(path)
        assert res.status_code == 200, path
        seen += ids_on(res)
        found = NEXT_PAGE.search(res.content.decode())
        if not found:
            assert len(seen) == len(set(seen)), f"{query}: a row on two pages"
            return seen
        path = "/review/?" + found.group(1).replace("&amp;", "&")
    raise AssertionError(f"{query}: more than 50 pages")


def test_a_threat_to_life_proposal_is_the_first_row_whatever_else_is_waiting(browser, supervisor, propose):
    """Sixty older, graver proposals are waiting; a threat to life assessed as trivial, proposed last, is on top."""
    for n in range(60):
        propose(severity=7, confidence=3 if n % 2 else 2)
    late = propose("https://chirp.example/u/late/status/1", severity=0, confidence=0, threat_to_life=True)
    assert late.threat_to_life and late.proposed_at > Item.objects.exclude(pk=late.pk).latest("proposed_at").proposed_at
    res = browser(supervisor).get("/review/")
    shown = ids_on(res)
    assert shown[0] == late.pk and len(shown) == 50
    assert re.search(rf'<tr id="r-item-{late.pk}" class="review-row threat-to-life"', res.content.decode())
    assert "Threat to life" in res.content.decode()


def test_review_order_is_threat_to_life_then_priority_then_oldest_proposal_across_pages(browser, supervisor,
                                                                                        propose):
    for n in range(57):
        propose(severity=n % 8, confidence=n % 4, threat_to_life=(n % 19 == 5))
    items = list(Item.objects.filter(status="proposed"))
    # proposals of equal priority: the oldest proposal first, whatever its item number
    Item.objects.filter(pk=items[-1].pk).update(proposed_at=timezone.now() - timedelta(days=3))
    items = list(Item.objects.filter(status="proposed"))
    assert walk(browser(supervisor)) == review_order(items)


@pytest.fixture
def varied(analyst, analyst_2, supervisor, propose, platform_a, platform_b, case, settings, tmp_path):
    """Proposals the filters tell apart, by two analysts, one by the supervisor, with and without evidence."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_groups", verbosity=0)
    amaq = Group.objects.get(name="Amaq News Agency")
    other = case_actions.case_create(actor=analyst, title="Op Birch")
    items = {
        "tube": propose("https://tube.example/watch?v=a", severity=6, confidence=2, group_id=amaq.pk,
                        categories=["threat"]),
        "chirp": propose("https://chirp.example/u/b", kind="account", by=analyst_2, severity=3, confidence=1,
                         categories=["participation"]),
        "nowhere": propose("https://unclaimed.example/c.pdf", kind="file", severity=2, confidence=3,
                           categories=["instruction"]),
        "elsewhere": propose("https://tube.example/watch?v=d", in_case=other, categories=["incitement", "threat"]),
        "copy": propose("https://tube.example/watch?v=a&utm_source=x", by=analyst_2),
        "ttl": propose("https://chirp.example/u/e/status/9", severity=1, confidence=0, threat_to_life=True,
                       categories=["threat"]),
    }
    old = timezone.now() - timedelta(days=10)
    Item.objects.filter(pk=items["nowhere"].pk).update(proposed_at=old)
    evidence_actions.evidence_add(actor=analyst, item_id=items["tube"].pk, upload=png())
    evidence_actions.evidence_add(actor=analyst, item_id=items["chirp"].pk, upload=SimpleUploadedFile("r.pdf", PDF))
    logged = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=logged", kind="post",
                                   categories=["threat"])
    return {"items": {k: Item.objects.get(pk=v.pk) for k, v in items.items()}, "logged": logged,
            "other_case": other, "group": amaq, "old": old}


def expected(params: dict) -> list[int]:
    """What Review must show for these parameters, worked out in Python from every item."""
    with_evidence = set(Evidence.objects.values_list("item_id", flat=True))
    platform = params.get("platform", "")

    def day(value):
        return timezone.make_aware(datetime.combine(datetime.fromisoformat(value).date(), time.min))

    def keep(i: Item) -> bool:
        if i.status != "proposed":
            return False
        return all([
            not platform or (i.platform_id is None if platform == "none" else str(i.platform_id) == platform),
            not params.get("case") or str(i.case_id) == params["case"],
            not params.get("category") or params["category"] in i.categories,
            not params.get("group") or str(i.group_id) == params["group"],
            not params.get("kind") or i.kind == params["kind"],
            not params.get("proposer") or str(i.proposed_by_id) == params["proposer"],
            not params.get("proposed_after") or i.proposed_at >= day(params["proposed_after"]),
            not params.get("proposed_before") or i.proposed_at < day(params["proposed_before"]),
            not params.get("duplicates") or (i.duplicate_of_id is not None) == (params["duplicates"] == "duplicates"),
            not params.get("has_evidence") or i.pk in with_evidence,
        ])

    return review_order(filter(keep, Item.objects.all()))


def filter_values(field: str, varied) -> list[str]:
    from cases.forms import TriageChoices

    form_field = ReviewFilterForm(choices=TriageChoices()).fields[field]
    if hasattr(form_field, "choices"):
        return [str(value) for value, _ in form_field.choices]
    today = timezone.localdate()
    return {"case": ["", str(varied["other_case"].pk), str(varied["logged"].case_id), "987654"],
            "proposed_after": ["", str(today - timedelta(days=5)), str(today + timedelta(days=1))],
            "proposed_before": ["", str(today - timedelta(days=5)), str(today + timedelta(days=1))],
            "has_evidence": ["", "on"]}[field]


@pytest.mark.parametrize("field", list(ReviewFilterForm.base_fields))
def test_every_value_of_every_filter_shows_the_right_rows(browser, supervisor, varied, field):
    """Each value alone: 200, and exactly the proposals that match, in Review's order. A filter added to the form
    is walked here without a change to this test."""
    client = browser(supervisor)
    values = filter_values(field, varied)
    assert len(values) > 1
    matched = 0
    for value in values:
        params = {field: value}
        shown = walk(client, urlencode(params))
        assert shown == expected(params), params
        matched += bool(shown)
    assert matched > 1


def test_filters_combine(browser, supervisor, varied, platform_a, analyst_2):
    client = browser(supervisor)
    items = varied["items"]
    for params in [{"platform": str(platform_a.pk), "category": "threat"},
                   {"proposer": str(analyst_2.pk), "duplicates": "duplicates"},
                   {"platform": "none", "proposed_before": str(timezone.localdate())},
                   {"has_evidence": "on", "kind": "post"}]:
        assert walk(client, urlencode(params)) == expected(params), params
    assert walk(client, "platform=none") == [items["nowhere"].pk]
    assert walk(client, f"group={varied['group'].pk}") == [items["tube"].pk]
    assert varied["logged"].pk not in walk(client)  # only proposals are reviewed


def test_a_bad_filter_is_a_message_and_a_bad_cursor_the_first_page(browser, supervisor, varied):
    res = browser(supervisor).get("/review/?platform=abc&case=x&proposed_after=yesterday")
    assert res.status_code == 200 and ids_on(res) == []
    assert "Select a valid choice" in res.content.decode()
    assert ids_on(browser(supervisor).get("/review/?after=1.2.garbage")) == expected({})


def test_counts_of_proposals_waiting_per_platform(browser, supervisor, varied, platform_a, platform_b):
    counts = case_selectors.review_counts_by_platform(supervisor)
    assert counts == [(platform_a.pk, "Tube", 3), (platform_b.pk, "Chirp", 2), (None, "", 1)]
    text = browser(supervisor).get("/review/").content.decode()
    assert "6 proposals waiting" in text
    assert f'<a href="?platform={platform_a.pk}">Tube</a> <span class="count">3</span>' in text
    assert '<a href="?platform=none">No platform matched</a> <span class="count">1</span>' in text


def test_a_row_shows_what_the_supervisor_decides_on(browser, supervisor, varied):
    items = varied["items"]
    text = browser(supervisor).get("/review/").content.decode()
    tube = re.search(rf'<tr id="r-item-{items["tube"].pk}".*?</tr>', text, re.S).group(0)
    assert "<td class=\"url\">https://tube.example/watch?v=a</td>" in tube  # the URL as text
    assert 'href="https://' not in text  # never a live link to the content
    assert f'href="/items/{items["tube"].pk}/"' in tube and "Amaq News Agency" in tube and "threat" in tube
    assert "anna_analyst" in tube and "<time datetime=" in tube
    ev = Evidence.objects.get(item=items["tube"])
    assert f'<img src="/evidence/{ev.pk}/preview/"' in tube and "Blurred preview" in tube
    chirp = re.search(rf'<tr id="r-item-{items["chirp"].pk}".*?</tr>', text, re.S).group(0)
    assert "Has evidence" in chirp and "<img" not in chirp  # a PDF: no picture to preview
    nowhere = re.search(rf'<tr id="r-item-{items["nowhere"].pk}".*?</tr>', text, re.S).group(0)
    assert "No platform matched" in nowhere and "10 d" in nowhere
    for action in ("approve", "return", "reject"):
        assert f'formaction="/items/{items["tube"].pk}/{action}/"' in tube


def test_own_proposals_offer_no_approve_button(browser, varied, analyst, propose):
    promoted = make_user("pat_promoted", "analyst")
    own = propose(by=promoted)
    promoted.role = "supervisor"
    promoted.save(update_fields=["role"])
    enrol_totp(promoted)  # a supervisor signs in with a second factor
    text = browser(promoted).get("/review/").content.decode()
    row = re.search(rf'<tr id="r-item-{own.pk}".*?</tr>', text, re.S).group(0)
    assert "You proposed this item yourself" in row and f"/items/{own.pk}/approve/" not in row
    assert f"/items/{own.pk}/return/" in row


def test_review_selector_is_one_query_and_counts_one(supervisor, varied, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = case_selectors.review_queue(supervisor, {"category": "threat", "has_evidence": True},
                                           preview_mimes=list(PIL_FORMATS))
    assert [r["id"] for r in page.rows] == expected({"category": "threat", "has_evidence": "on"})
    with django_assert_num_queries(1):
        case_selectors.review_counts_by_platform(supervisor)
    with django_assert_num_queries(1):
        ids, cursor = case_selectors.review_keys({}, None, 4)
    assert ids == expected({})[:4] and cursor
    with django_assert_num_queries(1):
        rest, _ = case_selectors.review_keys({}, cursor, 1000)
    assert ids + rest == expected({})


@pytest.mark.parametrize("query", ["", "platform=none&category=threat&has_evidence=on&proposed_after=2026-01-01"])
def test_the_page_costs_the_same_queries_for_two_rows_as_for_a_full_page(browser, supervisor, propose, query,
                                                                          django_assert_max_num_queries):
    """The page's queries (user, the supervisor's banners, the filter's select lists, the counts, the
    rows) do not grow with the rows: the same for 2 proposals as for 60 (a full page and more)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = browser(supervisor)

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/review/?{query}").status_code == 200
        return len(captured)

    for _ in range(2):
        propose(severity=3, confidence=1, categories=["threat"])
    small = cost()
    for _ in range(58):
        propose(severity=5, confidence=2, categories=["threat"])
    assert len(ids_on(client.get("/review/"))) == 50
    assert cost() == small
    with django_assert_max_num_queries(10):  # the session is read from Redis
        client.get(f"/review/?{query}")


def test_without_preview_types_the_selector_marks_evidence_only(supervisor, varied):
    rows = case_selectors.review_queue(supervisor, {"has_evidence": True}).rows
    assert {r["id"] for r in rows} == set(expected({"has_evidence": "on"})) and all(not r["preview_id"] for r in rows)
    assert all(r["evidence_id"] for r in rows)
