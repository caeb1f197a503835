"""The notification centre in the browser's terms: the header's count (on every page, and polled), the list with
its mark-read buttons, and the email preference. The lists and their pages run on SQLite too."""

import re

import pytest
from django.test import Client

from notifications import actions
from notifications.models import Notification
from tests.conftest import sign_in, signed_in

pytestmark = pytest.mark.django_db
both = pytest.mark.both_databases


def count_link(html: str) -> str:
    return re.search(r'<a href="/notifications/" id="notification-count"[^>]*>(.*?)</a>', html).group(1)


def tell_supervisors(n: int, start: int = 0):
    for i in range(start, start + n):
        actions.notify_supervisors(kind="threat_to_life", message=f"Threat to life: item {i}", object_type="item",
                                   object_id=i)


@both
def test_the_count_is_one_indexed_query(supervisor, threat, django_assert_num_queries):
    client = signed_in(supervisor)
    with django_assert_num_queries(3):  # user, the second factor's device (still hers?), the capped COUNT
        res = client.get("/notifications/count/")
    html = res.content.decode()
    assert res.status_code == 200 and count_link(html) == "Notifications (<strong>1</strong>)"
    assert 'hx-get="/notifications/count/" hx-trigger="every 5s" hx-swap="outerHTML"' in html
    assert res["Cache-Control"] == "private, no-store"


@both
def test_the_count_stops_at_99_plus(supervisor):
    tell_supervisors(101)
    html = signed_in(supervisor).get("/notifications/count/").content.decode()
    assert count_link(html) == "Notifications (<strong>99+</strong>)"


@both
def test_signed_out_the_count_asks_no_more(db):
    res = Client().get("/notifications/count/")
    assert res.status_code == 286  # htmx stops polling
    assert count_link(res.content.decode()) == "Notifications" and "hx-get" not in res.content.decode()


@both
def test_every_page_shows_the_count_without_javascript(supervisor, analyst, liaison_a, threat):
    assert count_link(signed_in(supervisor).get("/queue/").content.decode()) == "Notifications (<strong>1</strong>)"
    assert count_link(signed_in(analyst).get("/queue/").content.decode()) == "Notifications (0)"
    assert count_link(signed_in(liaison_a).get("/referrals/").content.decode()) == "Notifications (0)"
    assert "notification-count" not in Client().get("/login/").content.decode()


@both
def test_the_list_shows_ones_own_newest_first_unread_in_bold(supervisor, supervisor_2, analyst, threat):
    mine = Notification.objects.get(recipient=supervisor)
    html = signed_in(supervisor).get("/notifications/").content.decode()
    assert f'id="notification-{mine.pk}" class="unread"' in html
    assert f"<strong>{mine.message}</strong>" in html
    assert f'<a href="/items/{threat.pk}/">Item {threat.pk}</a>' in html
    assert f'action="/notifications/{mine.pk}/read/"' in html and "Mark all read" in html
    assert f'id="notification-{mine.pk}"' not in signed_in(analyst).get("/notifications/").content.decode()


@both
def test_the_list_is_keyset_paged_in_a_fixed_number_of_queries(analyst, django_assert_num_queries):
    for i in range(60):
        actions.notify_users([analyst.pk], kind="dead_letter", message=f"Threat to life: item {i}",
                             object_type="item", object_id=i)
    client = signed_in(analyst)
    # user (the session is read from Redis), one page of notifications, the header's count (a supervisor's page
    # adds the alerts banner)
    with django_assert_num_queries(3):
        res = client.get("/notifications/")
    html = res.content.decode()
    assert html.count('class="unread"') == 50
    assert "Threat to life: item 59" in html and "Threat to life: item 10<" in html
    next_page = re.search(r'href="\?(before=\d+)" rel="next"', html).group(1)
    with django_assert_num_queries(3):
        html = client.get(f"/notifications/?{next_page}").content.decode()
    assert html.count('class="unread"') == 10 and "Threat to life: item 9<" in html and 'rel="next"' not in html


@both
def test_mark_read_and_mark_all_read_from_the_page(supervisor, threat):
    tell_supervisors(2, start=100)
    first = Notification.objects.filter(recipient=supervisor).order_by("id").first()
    client = signed_in(supervisor)
    res = client.post(f"/notifications/{first.pk}/read/", {"next": "/notifications/?before=999999"})
    assert res.status_code == 302 and res["Location"] == "/notifications/?before=999999"
    html = client.get("/notifications/").content.decode()
    assert f'id="notification-{first.pk}" class="read"' in html
    assert count_link(html) == "Notifications (<strong>2</strong>)"
    res = client.post("/notifications/read-all/", {"next": "https://elsewhere.example/"}, follow=True)
    assert res.redirect_chain == [("/notifications/", 302)]
    html = res.content.decode()
    assert "2 notifications marked read." in html and count_link(html) == "Notifications (0)"


@both
def test_marking_another_persons_notification_is_a_message_not_a_change(supervisor, supervisor_2, threat):
    theirs = Notification.objects.get(recipient=supervisor)
    res = signed_in(supervisor_2).post(f"/notifications/{theirs.pk}/read/", follow=True)
    assert res.status_code == 200 and f"Notification {theirs.pk} does not exist." in res.content.decode()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_marking_read_needs_csrf_and_a_sign_in(supervisor, threat):
    mine = Notification.objects.get(recipient=supervisor)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, supervisor)
    assert client.post(f"/notifications/{mine.pk}/read/").status_code == 403
    assert client.post("/notifications/read-all/").status_code == 403
    assert Client().post(f"/notifications/{mine.pk}/read/").status_code == 302  # to the login page
    assert Client().get("/notifications/")["Location"].startswith("/login/")
    assert Notification.objects.get(pk=mine.pk).read_at is None


def test_the_preference_page_sets_the_email_choice(supervisor, liaison_a):
    client = signed_in(supervisor)
    html = client.get("/notifications/preferences/").content.decode()
    assert "Email me urgent notifications" in html and "Your account has no email address" in html
    res = client.post("/notifications/preferences/", {"email_urgent_notifications": "on"}, follow=True)
    assert "urgent notifications are emailed to you as well" in res.content.decode()
    supervisor.refresh_from_db()
    assert supervisor.email_urgent_notifications is True
    client.post("/notifications/preferences/", {})
    supervisor.refresh_from_db()
    assert supervisor.email_urgent_notifications is False
    assert signed_in(liaison_a).get("/notifications/preferences/").status_code == 403
