"""The triage queue page: who sees it, each filter, the sort orders, keyset pages, fixed query cost, bulk actions.

All of it on SQLite too (the embedded database of `make run`): `make test` runs these tests on both."""

import re
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.actions import assessment as assessment_actions
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.forms import QueueFilterForm, TriageChoices
from cases.models import Item, ItemStatus
from evidence import actions as evidence_actions
from evidence.models import Evidence
from referral.actions import approval
from tests.conftest import make_platform

pytestmark = pytest.mark.both_databases

NEXT_PAGE = re.compile(r'href="\?([^"]*after=[^"]+)" rel="next"')
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def ids_on(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="q-item-(\d+)"', response.content.decode())]


@pytest.fixture
def varied(analyst, analyst_2, log, platform_a, platform_b, groups, supervisor):
    """Items of every kind the filters tell apart."""
    items = {
        "tube_high": log("https://tube.example/watch?v=h", categories=["threat"], language="ar", severity=7,
                         confidence=3, group_id=groups["Amaq News Agency"].pk),
        "tube_low": log("https://tube.example/watch?v=l", categories=["incitement"], language="en", severity=1,
                        confidence=0),
        "chirp": log("https://chirp.example/u/x", kind="account", categories=["participation"], language="ar",
                     severity=4, confidence=2),
        "nowhere": log("https://unclaimed.example/file.pdf", kind="file", categories=["instruction"], severity=3,
                       confidence=3),
        "ttl": log("https://chirp.example/u/y/status/1", categories=["threat"], severity=1, confidence=0,
                   threat_to_life=True),
    }
    items["copy"] = log("https://tube.example/watch?v=h&utm_source=x")  # duplicate of tube_high
    assessment_actions.item_assign(actor=analyst, item_ids=[items["tube_low"].pk], assignee_id=analyst.pk)
    assessment_actions.item_assign(actor=analyst, item_ids=[items["chirp"].pk], assignee_id=analyst_2.pk)
    proposed = log("https://tube.example/watch?v=p")
    item_actions.item_propose(actor=analyst, item_id=proposed.pk)
    items["proposed"] = proposed
    return {k: Item.objects.get(pk=v.pk) for k, v in items.items()}


@pytest.fixture
def catalogue(varied, analyst, supervisor, log, settings, tmp_path):
    """`varied`, plus an item in every status, one under several categories, one with evidence, one elsewhere."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    items = dict(varied)
    items["several"] = log("https://tube.example/watch?v=s", categories=["incitement", "solicitation", "threat"],
                           language="en", severity=5, confidence=1)
    for n, status in enumerate(["approved", "returned", "rejected", "discarded", "on_hold"]):
        item = log(f"https://chirp.example/u/st{n}", kind="channel", categories=["solicitation"], severity=n,
                   confidence=2)
        if status in ("approved", "returned", "rejected"):
            item_actions.item_propose(actor=analyst, item_id=item.pk)
            decide = {"approved": lambda pk: approval.item_approve(actor=supervisor, item_id=pk),
                      "returned": lambda pk: approval.item_return(actor=supervisor, item_id=pk, reason="More"),
                      "rejected": lambda pk: approval.item_reject(actor=supervisor, item_id=pk, reason="No")}
            decide[status](item.pk)
        elif status == "discarded":
            item_actions.item_discard(actor=analyst, item_id=item.pk, reason="Offline already")
        else:
            item_actions.item_hold(actor=analyst, item_id=item.pk, reason="Live op", requested_by="Op Juniper")
        items[status] = item
    evidence_actions.evidence_add(actor=analyst, item_id=varied["tube_low"].pk,
                                  upload=SimpleUploadedFile("report.pdf", PDF))
    other = case_actions.case_create(actor=analyst, title="Elsewhere")
    items["elsewhere"] = log("https://tube.example/watch?v=e", in_case=other, kind="media", categories=["threat"],
                             severity=6, confidence=1)
    assert set(Item.objects.values_list("status", flat=True)) == set(ItemStatus.values)
    return {"items": items, "other_case": other}


def walk_queue(client, query: str) -> list[int]:
    """Every row the queue shows for the query, page after page (each answered 200), in order."""
    seen, path = [], f"/queue/?{query}"
    for _ in range(50):
        res = client.get(path)
        assert res.status_code == 200, path
        seen += ids_on(res)
        found = NEXT_PAGE.search(res.content.decode())
        if not found:
            assert len(seen) == len(set(seen)), f"{query}: a row on two pages"
            return seen
        path = "/queue/?" + found.group(1).replace("&amp;", "&")
    raise AssertionError(f"{query}: more than 50 pages")


QUEUE_SORT_KEYS = {"priority": lambda i: (-i.priority, -i.pk), "newest": lambda i: -i.pk, "oldest": lambda i: i.pk}


def queue_expected(user, params: dict) -> list[int]:
    """What the queue must show for these parameters, worked out in Python from every item."""
    with_evidence = set(Evidence.objects.values_list("item_id", flat=True))
    status, platform, assignee = params.get("status", ""), params.get("platform", ""), params.get("assignee", "")

    def keep(i: Item) -> bool:
        return all([
            i.status in ItemStatus.values if status == "all" else i.status == status if status
            else i.status in ("logged", "returned"),
            not platform or (i.platform_id is None if platform == "none" else str(i.platform_id) == platform),
            not params.get("case") or str(i.case_id) == params["case"],
            not params.get("category") or params["category"] in i.categories,
            not params.get("group") or str(i.group_id) == params["group"],
            not params.get("kind") or i.kind == params["kind"],
            not params.get("language") or i.language == params["language"],
            not assignee or {"me": i.assignee_id == user.pk, "unassigned": i.assignee_id is None}.get(
                assignee, str(i.assignee_id) == assignee),
            not params.get("duplicates") or (i.duplicate_of_id is not None) == (params["duplicates"] == "duplicates"),
            not params.get("has_evidence") or i.pk in with_evidence,
        ])

    rows = sorted(filter(keep, Item.objects.all()), key=QUEUE_SORT_KEYS[params.get("sort") or "priority"])
    return [i.pk for i in rows]


def queue_filter_values(field: str, catalogue) -> list[str]:
    """Every value the filter form offers for a choice field (platforms, groups, people included); chosen values
    for the others."""
    form_field = QueueFilterForm(choices=TriageChoices()).fields[field]
    if hasattr(form_field, "choices"):
        return [str(value) for value, _ in form_field.choices]
    case_ids = sorted({str(i.case_id) for i in catalogue["items"].values()})
    return {"case": ["", *case_ids, "987654"], "language": ["", "ar", "en", "de"],
            "has_evidence": ["", "on"]}[field]


@pytest.mark.parametrize("field", list(QueueFilterForm.base_fields))
def test_every_value_of_every_filter_and_sort_shows_the_right_rows(browser, analyst, catalogue, field):
    """Each value alone, over the default statuses and over all of them: 200, and exactly the rows that match,
    in the sort's order. A filter added to the form is walked here without a change to this test."""
    client = browser(analyst)
    values = queue_filter_values(field, catalogue)
    assert len(values) > 1
    matched = 0
    for value in values:
        for base in ([{}] if field == "status" else [{}, {"status": "all"}]):
            params = {**base, field: value}
            shown = walk_queue(client, urlencode(params))
            assert shown == queue_expected(analyst, params), params
            matched += bool(shown)
    assert matched > 1  # the catalogue has rows for more than one value of every filter


@pytest.mark.parametrize("sort", ["priority", "newest", "oldest"])
def test_filtered_queue_pages_through_every_status_without_overlap_or_gap(browser, analyst, supervisor, log,
                                                                         sort):
    """A filter (the category one: JSON on both databases) over several pages and several statuses."""
    categories = [["threat"], ["incitement", "threat"], ["instruction", "threat"], ["incitement"], ["threat"]]
    for n in range(72):
        item = log(categories=categories[n % 5], severity=n % 8, confidence=n % 4, language="ar" if n % 3 else "")
        if n % 6 == 0:
            item_actions.item_propose(actor=analyst, item_id=item.pk)
            if n % 12 == 0:
                approval.item_return(actor=supervisor, item_id=item.pk, reason="More evidence")
    client = browser(analyst)
    for params in [{"category": "threat"}, {"category": "incitement", "status": "all"},
                   {"category": "threat", "language": "ar", "status": "all"}, {"status": "all"}]:
        params = {**params, "sort": sort}
        shown = walk_queue(client, urlencode(params))
        assert shown == queue_expected(analyst, params), params
    assert len(walk_queue(client, urlencode({"category": "threat", "sort": sort}))) > 50  # two pages at least


def test_queue_orders_by_priority_threat_to_life_first(browser, analyst, varied):
    res = browser(analyst).get("/queue/")
    assert res.status_code == 200
    shown = ids_on(res)
    expected = sorted((i for k, i in varied.items() if k != "proposed"), key=lambda i: (-i.priority, -i.pk))
    assert shown == [i.pk for i in expected]
    assert shown[0] == varied["ttl"].pk
    text = res.content.decode()
    assert f'href="/items/{varied["ttl"].pk}/"' in text and "Threat to life" in text
    assert "No platform matched" in text


@pytest.mark.parametrize("query, expected", [
    ("status=proposed", ["proposed"]),
    ("platform=none", ["nowhere"]),
    ("category=threat", ["ttl", "tube_high"]),
    ("kind=account", ["chirp"]),
    ("language=ar", ["tube_high", "chirp"]),
    ("assignee=me", ["tube_low"]),
    ("duplicates=duplicates", ["copy"]),
])
def test_each_filter_narrows_the_queue(browser, analyst, varied, query, expected):
    shown = set(ids_on(browser(analyst).get(f"/queue/?{query}")))
    assert shown == {varied[k].pk for k in expected}


def test_platform_group_case_assignee_evidence_filters(browser, analyst, analyst_2, varied, platform_b, groups):
    client = browser(analyst)
    assert set(ids_on(client.get(f"/queue/?platform={platform_b.pk}"))) == {varied["chirp"].pk, varied["ttl"].pk}
    amaq = groups["Amaq News Agency"].pk
    assert ids_on(client.get(f"/queue/?group={amaq}")) == [varied["tube_high"].pk]
    assert ids_on(client.get(f"/queue/?assignee={analyst_2.pk}")) == [varied["chirp"].pk]
    unassigned = set(ids_on(client.get("/queue/?assignee=unassigned")))
    assert varied["tube_low"].pk not in unassigned and varied["nowhere"].pk in unassigned
    originals = set(ids_on(client.get("/queue/?duplicates=originals")))
    assert varied["copy"].pk not in originals and varied["tube_high"].pk in originals
    assert ids_on(client.get("/queue/?has_evidence=on")) == []
    other = case_actions.case_create(actor=analyst, title="Other")
    item_actions.item_move(actor=analyst, item_ids=[varied["chirp"].pk], case_id=other.pk)
    assert ids_on(client.get(f"/queue/?case={other.pk}")) == [varied["chirp"].pk]
    assert set(ids_on(client.get("/queue/?status=all"))) == {i.pk for i in varied.values()}


def test_bad_filter_is_a_message_not_a_500(browser, analyst, varied):
    res = browser(analyst).get("/queue/?platform=abc&case=x&sort=sideways&after=zz")
    assert res.status_code == 200 and ids_on(res) == []
    assert "Select a valid choice" in res.content.decode()
    assert ids_on(browser(analyst).get("/queue/?after=garbage")) != []  # a bad cursor is the first page


@pytest.mark.parametrize("sort", ["priority", "newest", "oldest"])
def test_keyset_pages_have_no_overlap_and_no_gap(browser, analyst, case, platform_a, sort):
    for n in range(57):
        item = item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=k{n}", kind="post")
        assessment_actions.item_assess(actor=analyst, item_id=item.pk, severity=n % 8, confidence=n % 4)
    client = browser(analyst)
    first = client.get(f"/queue/?sort={sort}")
    page1 = ids_on(first)
    assert len(page1) == 50 and "50+ items" in first.content.decode()
    cursor = re.search(r'href="\?([^"]*after=[^"]+)" rel="next"', first.content.decode()).group(1)
    second = client.get("/queue/?" + cursor.replace("&amp;", "&"))
    page2 = ids_on(second)
    assert len(page2) == 7 and 'rel="next"' not in second.content.decode()
    assert not set(page1) & set(page2)
    keys = {"priority": lambda i: (-i.priority, -i.pk), "newest": lambda i: -i.pk, "oldest": lambda i: i.pk}[sort]
    assert page1 + page2 == [i.pk for i in sorted(Item.objects.all(), key=keys)]


def test_pages_merge_several_statuses_in_priority_order(browser, analyst, supervisor, case, platform_a, log):
    items = [log(severity=n % 8, confidence=3) for n in range(30)]
    for item in items[::3]:
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        approval.item_return(actor=supervisor, item_id=item.pk, reason="More evidence")
    client = browser(analyst)
    seen, query = [], "/queue/"
    while True:
        res = client.get(query)
        seen += ids_on(res)
        found = re.search(r'href="\?([^"]*after=[^"]+)" rel="next"', res.content.decode())
        if not found:
            break
        query = "/queue/?" + found.group(1).replace("&amp;", "&")
    assert seen == [i.pk for i in sorted(Item.objects.all(), key=lambda i: (-i.priority, -i.pk))]


@pytest.mark.parametrize("rows", [2, 60])  # 60: a full page of 50 and a next one, the budget is the same
def test_queue_costs_a_fixed_number_of_queries(browser, analyst, supervisor, case, platform_a, log, rows,
                                               django_assert_max_num_queries):
    for n in range(rows):
        log(severity=n % 8, confidence=1, categories=["threat"])
    for user in (analyst, supervisor):
        client = browser(user)
        # session, user, platforms, groups, people (filter and bulk selects), keys, rows; a supervisor's pages
        # also carry the alerts banner, the manual-task count and the check of their second factor's device; every
        # signed-in page the notification count
        with django_assert_max_num_queries(8 if user is analyst else 11):
            res = client.get("/queue/?status=all&sort=priority")
        assert res.status_code == 200 and len(ids_on(res)) == min(rows, 50)
        with django_assert_max_num_queries(8 if user is analyst else 11):
            res = client.get("/queue/?platform=none&category=threat")
        assert res.status_code == 200


def test_liaison_cannot_see_the_queue(browser, liaison_a):
    assert browser(liaison_a).get("/queue/").status_code == 403
    assert browser(liaison_a).post("/queue/bulk/", {"action": "propose", "items": ["1"]}).status_code == 403


def test_admin_reads_the_queue_but_cannot_act(browser, admin_user, log):
    item = log()
    res = browser(admin_user).get("/queue/")
    assert res.status_code == 200 and ids_on(res) == [item.pk]
    assert 'id="bulk-form"' not in res.content.decode()
    assert browser(admin_user).post("/queue/bulk/", {"action": "propose", "items": [item.pk]}).status_code == 403


def test_bulk_propose_with_mixed_items_reports_both(browser, analyst, log):
    a, b = log(), log()
    item_actions.item_discard(actor=analyst, item_id=b.pk, reason="Not TCO")
    res = browser(analyst).post("/queue/bulk/", {"action": "propose", "items": [a.pk, b.pk],
                                                 "back": "sort=newest"}, follow=True)
    assert res.redirect_chain == [("/queue/?sort=newest", 302)]
    text = res.content.decode()
    assert f"1 item proposed (item {a.pk})." in text
    assert f"1 refused: item {b.pk}: Item {b.pk} is &#x27;discarded&#x27;" in text
    assert Item.objects.get(pk=a.pk).status == "proposed"


def test_bulk_discard_hold_assign_move(browser, analyst, analyst_2, log):
    a, b, c = log(), log(), log()
    client = browser(analyst)
    res = client.post("/queue/bulk/", {"action": "discard", "items": [a.pk]}, follow=True)
    assert "Nothing was changed" in res.content.decode() and Item.objects.get(pk=a.pk).status == "logged"
    client.post("/queue/bulk/", {"action": "discard", "items": [a.pk], "reason": "Offline already"})
    client.post("/queue/bulk/", {"action": "hold", "items": [b.pk], "reason": "Live op",
                                 "requested_by": "Op Juniper"})
    client.post("/queue/bulk/", {"action": "assign", "items": [b.pk, c.pk], "assignee": analyst_2.pk})
    other = case_actions.case_create(actor=analyst, title="Op Birch")
    client.post("/queue/bulk/", {"action": "move", "items": [c.pk], "target_case": other.pk})
    a, b, c = (Item.objects.get(pk=i.pk) for i in (a, b, c))
    assert (a.status, a.decision_reason) == ("discarded", "Offline already")
    assert (b.status, b.hold_requested_by, b.assignee) == ("on_hold", "Op Juniper", analyst_2)
    assert (c.case_id, c.assignee) == (other.pk, analyst_2)


def test_supervisors_do_not_propose_from_the_queue(browser, supervisor, log):
    item = log()
    assert browser(supervisor).post("/queue/bulk/", {"action": "propose", "items": [item.pk]}).status_code == 403
    assert Item.objects.get(pk=item.pk).status == "logged"


def test_platform_names_are_escaped(browser, analyst, case):
    make_platform("evil", ["evil.example"])
    from platforms.models import Platform

    Platform.objects.filter(slug="evil").update(name="<script>x</script>")
    item_actions.item_log(actor=analyst, case=case, url="https://evil.example/p", kind="post")
    text = browser(analyst).get("/queue/").content.decode()
    assert "<script>x</script>" not in text
