"""An operation (Referral Action Day): created and closed by a supervisor (audited, once), its board's numbers equal
plain SQL over the seeded fortnight, its rows refresh themselves (htmx) and show a removal made since, and its
report reads the same in HTML, CSV, JSON and PDF."""

import csv
import io
import json
import statistics
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, InvalidInput, NotPermitted
from referral.actions import outcomes
from referral.models import Referral, ReferralStatus
from reports import actions
from reports import operations as board_selectors
from tests.conftest import signed_in
from tests.reports import truth


@pytest.fixture
def operation(seeded, supervisor):
    start = seeded["start"]
    return actions.operation_create(actor=supervisor, name="RAD November", starts_at=start,
                                    ends_at=start + timedelta(days=5), case_ids=[seeded["cases"][0].pk],
                                    units="NL IRU\nEU IRU")


def _sql(operation) -> dict:
    case = operation.cases.get().pk
    span = (operation.starts_at, operation.ends_at)
    logged = dict(truth.rows(
        "SELECT p.name, count(*) FROM cases_item i JOIN platforms_platform p ON p.id = i.platform_id "
        "WHERE i.case_id = %s AND i.first_seen_at >= %s AND i.first_seen_at < %s GROUP BY 1", (case, *span)))
    counted = {name: rest for name, *rest in truth.rows(
        "SELECT p.name, count(*), count(r.sent_at), count(r.acknowledged_at), "
        "count(*) FILTER (WHERE r.status = 'removed'), count(*) FILTER (WHERE r.status = 'withdrawn') "
        "FROM referral_referral r JOIN cases_item i ON i.id = r.item_id JOIN platforms_platform p ON p.id = "
        "r.platform_id WHERE i.case_id = %s AND r.created_at >= %s AND r.created_at < %s GROUP BY 1", (case, *span))}
    times = {}
    for name, seconds in truth.rows(
            "SELECT p.name, extract(epoch FROM r.action_taken_at - r.created_at) FROM referral_referral r "
            "JOIN cases_item i ON i.id = r.item_id JOIN platforms_platform p ON p.id = r.platform_id "
            "WHERE i.case_id = %s AND r.created_at >= %s AND r.created_at < %s AND r.status = 'removed'",
            (case, *span)):
        times.setdefault(name, []).append(float(seconds))
    out = {}
    for name in set(logged) | set(counted):
        approved, sent, acknowledged, removed, withdrawn = counted.get(name, (0, 0, 0, 0, 0))
        out[name] = {"logged": logged.get(name, 0), "approved": approved, "sent": sent,
                     "acknowledged": acknowledged, "removed": removed, "withdrawn": withdrawn,
                     "median": round(statistics.median(times[name]) / 60, 1) if name in times else None}
    return out


def test_board_numbers_equal_sql(operation, analyst):
    board = board_selectors.board(analyst, operation)
    got = {row["platform"]: {**{k: row[k] for k in ("logged", "approved", "sent", "acknowledged", "removed",
                                                     "withdrawn")},
                             "median": row["median_approval_to_removal_minutes"]} for row in board["rows"]}
    expected = _sql(operation)
    assert got == expected and sum(r["approved"] for r in expected.values()) > 0
    total = board["total"]
    assert total["approved"] == sum(r["approved"] for r in expected.values())
    assert board["headline"] == (f"{total['approved']} items referred to 2 platforms; {total['removed']} removed as "
                                 "the platforms claim; 0 % verified offline yet.")


def test_create_and_close_are_audited_and_close_happens_once(operation, supervisor, analyst):
    with pytest.raises(NotPermitted):
        actions.operation_close(actor=analyst, operation_id=operation.pk)
    actions.operation_close(actor=supervisor, operation_id=operation.pk)
    with pytest.raises(Conflict):
        actions.operation_close(actor=supervisor, operation_id=operation.pk)
    verbs = list(AuditEvent.objects.filter(object_type="operation", object_id=operation.pk)
                 .order_by("id").values_list("verb", flat=True))
    assert verbs == ["operation.created", "operation.closed"]


def test_bad_operations_are_refused_with_field_errors(seeded, supervisor):
    start = seeded["start"]
    with pytest.raises(InvalidInput) as refused:
        actions.operation_create(actor=supervisor, name=" ", starts_at=start, ends_at=start, case_ids=[999999])
    assert set(refused.value.field_errors) == {"name", "ends_at", "cases"}


def test_board_rows_refresh_and_show_a_removal_made_since(operation, clock, analyst, liaison_a, liaison_b):
    browser = signed_in(analyst)
    page = browser.get(f"/operations/{operation.pk}/").content.decode()
    assert 'hx-trigger="every 10s"' in page and "Verified offline" in page
    before = board_selectors.board(analyst, operation)["total"]["removed"]
    waiting = Referral.objects.filter(item__case__in=operation.cases.all(), created_at__gte=operation.starts_at,
                                      created_at__lt=operation.ends_at,
                                      status__in=[ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED]).first()
    liaison = liaison_a if waiting.platform_id == liaison_a.platform_id else liaison_b
    outcomes.referral_record_status(actor=liaison, referral_id=waiting.pk, status="removed")
    rows = browser.get(f"/operations/{operation.pk}/rows/").content.decode()
    assert f'<td id="operation-removed">{before + 1}</td>' in rows


def test_report_in_every_format(operation, supervisor):
    browser = signed_in(supervisor)
    assert browser.post(f"/operations/{operation.pk}/close/").status_code == 302
    board = board_selectors.board(supervisor, operation)
    html = browser.get(f"/operations/{operation.pk}/report/").content.decode()
    assert board["headline"] in html and "closed" in html
    lines = list(csv.DictReader(io.StringIO(browser.get(f"/operations/{operation.pk}/report/?format=csv")
                                            .content.decode())))
    assert {line["platform"]: int(line["approved"]) for line in lines} == {
        **{r["platform"]: r["approved"] for r in board["rows"]}, "All platforms": board["total"]["approved"]}
    body = json.loads(browser.get(f"/operations/{operation.pk}/report/?format=json").content)
    assert body["headline"] == board["headline"] and body["operation"]["units"] == ["NL IRU", "EU IRU"]
    pdf = browser.get(f"/operations/{operation.pk}/report/?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_liaison_cannot_see_operations(operation, liaison, client):
    assert signed_in(liaison).get(f"/operations/{operation.pk}/").status_code == 403
    assert signed_in(liaison).get("/operations/").status_code == 403
    assert client.get("/operations/").status_code == 302
    with pytest.raises(NotPermitted):
        board_selectors.board(liaison, operation)


def test_supervisor_creates_an_operation_from_the_page(seeded, supervisor, analyst):
    case = seeded["cases"][1]
    response = signed_in(supervisor).post("/operations/", {
        "name": "RAD 2", "starts_at": "2026-11-01T00:00", "ends_at": "2026-11-30T00:00", "cases": f"{case.pk}"})
    assert response.status_code == 302
    assert "New operation" not in signed_in(analyst).get("/operations/").content.decode()  # analysts only read
