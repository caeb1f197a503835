"""What the referral's API output and page read: liveness_for (one query for any number of referrals) and the
panel's context."""

from datetime import timedelta

from liveness.selectors import liveness_for, liveness_panel
from tests.liveness.conftest import check_at


def test_liveness_for_answers_every_referral_asked_for_in_one_query(received, proxy, tls_pages,
                                                                      django_assert_num_queries):
    tls_pages.page("/watch?v=10", (404, "gone"))
    checked = received("https://tube.example/watch?v=10")
    check_at(checked, minutes=15, seconds=1)
    not_yet = received("https://tube.example/watch?v=11")

    with django_assert_num_queries(1):
        answer = liveness_for([checked.pk, not_yet.pk, 999999])

    assert set(answer) == {checked.pk, not_yet.pk, 999999}
    assert answer[checked.pk]["state"] == "offline" and answer[checked.pk]["checks"] == 1
    assert answer[checked.pk]["offline_at"] - checked.sent_at >= timedelta(minutes=15)
    assert answer[checked.pk]["checked_at"] == answer[checked.pk]["offline_at"]
    assert answer[not_yet.pk] == {"state": "pending", "checked_at": None, "offline_at": None, "checks": 0}
    assert answer[999999]["state"] == "pending"


def test_the_panel_shows_time_to_offline_beside_the_platforms_claim(received, proxy, tls_pages):
    from django.template.loader import render_to_string

    tls_pages.page("/watch?v=12", (200, "<p>up</p>"), (404, "gone"))
    referral = received("https://tube.example/watch?v=12")
    check_at(referral, minutes=15, seconds=1)
    check_at(referral, hours=1, seconds=1)
    referral.action_taken_at = referral.sent_at + timedelta(minutes=30)  # what the platform says it did

    panel = liveness_panel(referral)
    assert panel["state"] == "offline" and panel["checks"] == 2 and len(panel["history"]) == 2
    assert timedelta(hours=1) <= panel["time_to_offline"] < timedelta(hours=1, seconds=5)
    assert panel["claimed_time_to_action"] == timedelta(minutes=30)
    html = render_to_string("liveness/_panel.html", {"liveness": panel})
    assert "Offline" in html and "404" in html and "1 h" in html and "30 min" in html


def test_the_referral_api_and_page_show_the_desks_own_checks(api, browser, liaison_a, supervisor, approved_referral):
    answer = api(liaison_a).get(f"/api/v1/referrals/{approved_referral.pk}/").json()
    assert answer["liveness"] == {"state": "pending", "checked_at": None, "offline_at": None, "checks": 0}
    listed = api(liaison_a).get("/api/v1/referrals/").json()["results"][0]
    assert listed["liveness"]["state"] == "pending"
    page = browser(supervisor).get(f"/referrals/{approved_referral.pk}/").content.decode()
    assert "Online or not: the desk&#x27;s own checks" in page or "Online or not: the desk's own checks" in page
    liaison_page = browser(liaison_a).get(f"/referrals/{approved_referral.pk}/").content.decode()
    assert "the desk" not in liaison_page and "own checks" not in liaison_page  # the unit's evidence, not theirs
