"""A platform may answer in the DSA's statement-of-reasons vocabulary (what it restricted, on which ground), as it
reports to the Commission's Transparency Database: stored with the answer (single and bulk), shown in the referral,
refused with a 400 naming the field when it is not that vocabulary, and counted in the unit's period report."""

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import InvalidInput
from referral.actions import outcomes
from referral.models import Referral
from tests.conftest import signed_in
from tests.referral.test_delivery_pages import approve

pytestmark = pytest.mark.django_db

REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED"
SUSPENDED = "DECISION_ACCOUNT_SUSPENDED"
ILLEGAL, TERMS = "DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"


def test_the_answer_carries_the_dsa_decision_and_ground(api, analyst, supervisor, case, platform_a, liaison_a):
    referral = approve(analyst, supervisor, case, "https://tube.example/watch?v=dsa1")
    r = api(liaison_a).post(f"/api/v1/referrals/{referral.pk}/status/", {
        "status": "removed", "dsa_decision": REMOVED, "dsa_ground": TERMS}, format="json")
    assert r.status_code == 200, r.content
    assert (r.json()["dsa_decision"], r.json()["dsa_ground"]) == (REMOVED, TERMS)
    shown = api(supervisor).get(f"/api/v1/referrals/{referral.pk}/").json()
    assert (shown["dsa_decision"], shown["dsa_ground"]) == (REMOVED, TERMS)
    listed = api(liaison_a).get("/api/v1/referrals/").json()["results"]
    assert listed[0]["dsa_decision"] == REMOVED


def test_bulk_answers_carry_it_too_and_a_wrong_value_is_refused_per_row(api, analyst, supervisor, case, platform_a,
                                                                         liaison_a):
    one = approve(analyst, supervisor, case, "https://tube.example/watch?v=dsa2")
    two = approve(analyst, supervisor, case, "https://tube.example/watch?v=dsa3")
    r = api(liaison_a).post("/api/v1/referrals/status/", [
        {"id": one.pk, "status": "restricted", "dsa_decision": SUSPENDED, "dsa_ground": ILLEGAL},
        {"id": two.pk, "status": "removed", "dsa_decision": "DECISION_DELETED"}], format="json")
    assert r.status_code == 200, r.content
    first, second = r.json()["results"]
    assert first["status_code"] == 200 and first["referral"]["dsa_decision"] == SUSPENDED
    assert second["status_code"] == 400 and "dsa_decision" in second["errors"]
    assert Referral.objects.get(pk=two.pk).status == "queued"
    assert (Referral.objects.get(pk=one.pk).dsa_decision, Referral.objects.get(pk=one.pk).dsa_ground) == (
        SUSPENDED, ILLEGAL)


def test_a_wrong_value_is_a_400_naming_the_field_and_the_service_checks_it_too(api, analyst, supervisor, case,
                                                                                platform_a, liaison_a):
    referral = approve(analyst, supervisor, case, "https://tube.example/watch?v=dsa4")
    r = api(liaison_a).post(f"/api/v1/referrals/{referral.pk}/status/", {
        "status": "removed", "dsa_ground": "BECAUSE"}, format="json")
    assert r.status_code == 400 and "dsa_ground" in r.json()["errors"]
    with pytest.raises(InvalidInput):
        outcomes.referral_record_status(actor=liaison_a, referral_id=referral.pk, status="removed",
                                        dsa_decision="REMOVED_A_BIT")
    assert Referral.objects.get(pk=referral.pk).status == "queued"


def test_the_period_report_counts_them_as_sql_does(api, analyst, supervisor, case, platform_a, liaison_a):
    answers = [(REMOVED, TERMS), (REMOVED, ILLEGAL), (SUSPENDED, ""), ("", ""), ("", "")]
    for n, (decision, ground) in enumerate(answers):
        referral = approve(analyst, supervisor, case, f"https://tube.example/watch?v=dsa-r{n}")
        outcomes.referral_record_status(actor=liaison_a, referral_id=referral.pk, status="removed",
                                        dsa_decision=decision, dsa_ground=ground)
    today = timezone.now().date().isoformat()
    report = api(supervisor).get(f"/api/v1/reports/referrals/?from={today}&to={today}").json()
    with connection.cursor() as cursor:
        cursor.execute("SELECT dsa_decision, count(*) FROM referral_referral WHERE dsa_decision <> '' "
                       "GROUP BY dsa_decision ORDER BY dsa_decision")
        decisions = [{"decision": d, "referrals": n} for d, n in cursor.fetchall()]
        cursor.execute("SELECT dsa_ground, count(*) FROM referral_referral WHERE dsa_ground <> '' "
                       "GROUP BY dsa_ground ORDER BY dsa_ground")
        grounds = [{"ground": g, "referrals": n} for g, n in cursor.fetchall()]
    assert report["per_dsa_decision"] == decisions == [{"decision": SUSPENDED, "referrals": 1},
                                                       {"decision": REMOVED, "referrals": 2}]
    assert report["per_dsa_ground"] == grounds and report["dsa_answers"] == 3
    html = signed_in(supervisor).get(f"/reports/referrals/?from={today}&to={today}").content.decode()
    assert REMOVED in html and "DSA statement of reasons" in html
    csv_text = signed_in(supervisor).get(f"/reports/referrals.csv?from={today}&to={today}").content.decode()
    assert f"dsa_decision,{REMOVED},2" in csv_text
