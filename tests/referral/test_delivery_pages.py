"""Deliveries that need a person, in the browser: dead letters and their re-drive, manual web-form submissions,
and the alerts a supervisor sees on every page. State comes from the workflow and the real dispatcher, sending
to a real local HTTP server that plays the platform."""

import html

import pytest
from django.test import RequestFactory

from accounts.models import Role
from alerts import actions as alert_actions
from alerts.models import Alert
from audit.models import AuditEvent
from cases.actions import items as item_actions
from platforms import services as platform_services
from platforms.models import ContactPoint
from referral.actions import approval
from referral.context_processors import desk_status
from referral.models import Delivery, Referral
from referral.outbox import actions as outbox_actions
from referral.outbox import dispatcher
from tests.conftest import make_user
from tests.pages import read_page
from tests.receiver import Receiver

WHSEC = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
FORM_URL = "https://formonly.example/report"
PAGES = ["/deliveries/dead/", "/deliveries/manual/", "/alerts/"]

# On SQLite too: the dispatcher here runs in the test's process against a local HTTP server, as the embedded
# mode's worker does; no worker, broker or other process is involved.
pytestmark = pytest.mark.both_databases


def text_of(response) -> str:
    return response.content.decode()


def webhook_platform(slug: str, receiver: Receiver, **contact_point):
    return platform_services.platform_create(
        actor=None, slug=slug, name=slug.title(), domains=[f"{slug}.example"],
        contact_points=[{"channel": "webhook", "endpoint": receiver.url + "/h", "secret": WHSEC, **contact_point}],
    )


def manual_platform(**contact_point):
    return platform_services.platform_create(
        actor=None, slug="formonly", name="Formonly", domains=["formonly.example"],
        contact_points=[{"channel": "manual", "endpoint": FORM_URL, **contact_point}],
    )


def approve(analyst, supervisor, case, url: str) -> Referral:
    """The analyst logs and proposes the URL, the supervisor approves it: one queued referral."""
    item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    return approval.item_approve(actor=supervisor, item_id=item.pk).referrals.get()


def dispatch_all() -> None:
    """Run the dispatcher until nothing is pending. One run can end while batches still sit in their window: it
    stops claiming once a claim comes back empty while it has sends in flight."""
    for _ in range(5):
        if not Delivery.objects.filter(status="pending").exists():
            return
        dispatcher.dispatch_due()
    raise AssertionError("deliveries are still pending after five dispatcher runs")


@pytest.fixture
def stopped(analyst, supervisor, case):
    """A platform answered 400 Bad Request: the delivery stopped, its referral failed, an alert is raised."""
    with Receiver(default_status=400) as receiver:
        webhook_platform("vidz", receiver)
        referral = approve(analyst, supervisor, case, "https://vidz.example/v/1")
        assert dispatcher.dispatch_due() == {"stopped": 1}
    return Delivery.objects.get(referrals=referral), referral


@pytest.fixture
def gone(analyst, supervisor, case):
    """The platform's endpoint answered 410 Gone: the delivery stopped and the contact point was disabled."""
    with Receiver(default_status=410) as receiver:
        webhook_platform("vidz", receiver)
        referral = approve(analyst, supervisor, case, "https://vidz.example/v/2")
        assert dispatcher.dispatch_due() == {"stopped": 1}
    return Delivery.objects.get(referrals=referral), referral


@pytest.fixture
def manual_task(analyst, supervisor, case):
    """A platform that takes reports only through its web form: the delivery waits for a person."""
    manual_platform()
    referral = approve(analyst, supervisor, case, "https://formonly.example/p/1")
    assert dispatcher.dispatch_due() == {"manual": 1}
    return Delivery.objects.get(referrals=referral), referral


# --- Dead letters ---------------------------------------------------------------------------------------


def test_dead_letter_list_shows_a_stopped_delivery_and_its_error(browser, supervisor, stopped):
    delivery, referral = stopped
    res = browser(supervisor).get("/deliveries/dead/")
    assert res.status_code == 200
    text = text_of(res)
    assert str(delivery.pk) in text and "Vidz" in text and delivery.contact_point.endpoint in text
    assert "Stopped: needs a person" in text and ">400<" in text
    assert delivery.last_error and html.escape(delivery.last_error) in text
    assert f'href="/referrals/{referral.pk}/"' in text
    assert f'action="/deliveries/{delivery.pk}/redrive/"' in text
    assert WHSEC not in text


def test_supervisor_redrives_a_dead_letter(browser, supervisor, stopped):
    delivery, referral = stopped
    assert Referral.objects.get(pk=referral.pk).status == "failed"
    assert Alert.objects.filter(delivery_id=delivery.pk, resolved_at__isnull=True).exists()
    res = browser(supervisor).post(f"/deliveries/{delivery.pk}/redrive/", follow=True)
    assert res.redirect_chain == [("/deliveries/dead/", 302)]
    text = text_of(res)
    assert f"Delivery {delivery.pk} re-driven" in text
    assert "No dead letters" in text
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempt_base == 1
    assert Referral.objects.get(pk=referral.pk).status == "queued"
    assert not Alert.objects.filter(delivery_id=delivery.pk, resolved_at__isnull=True).exists()
    assert AuditEvent.objects.filter(verb="delivery.redriven", actor=supervisor, object_id=str(delivery.pk)).exists()


@pytest.mark.parametrize("persona", ["analyst", "admin_user"])
def test_analysts_and_admins_see_dead_letters_but_cannot_redrive(request, browser, stopped, persona):
    delivery, referral = stopped
    client = browser(request.getfixturevalue(persona))
    res = client.get("/deliveries/dead/")
    assert res.status_code == 200
    text = text_of(res)
    assert str(delivery.pk) in text and "/redrive/" not in text and "Only a supervisor can re-drive" in text
    assert client.post(f"/deliveries/{delivery.pk}/redrive/").status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == "stopped"
    assert Referral.objects.get(pk=referral.pk).status == "failed"


def test_redrive_with_a_disabled_contact_point_is_a_message_and_changes_nothing(browser, supervisor, gone):
    delivery, referral = gone
    client = browser(supervisor)
    page = text_of(client.get("/deliveries/dead/"))
    assert "Contact point disabled. Disabled after HTTP 410 Gone" in page
    audit_events = AuditEvent.objects.count()
    res = client.post(f"/deliveries/{delivery.pk}/redrive/", follow=True)
    assert res.status_code == 200
    assert "Error:" in text_of(res) and "The contact point is disabled" in text_of(res)
    delivery.refresh_from_db()
    assert delivery.status == "stopped" and delivery.attempt_base == 0
    assert Referral.objects.get(pk=referral.pk).status == "failed"
    assert AuditEvent.objects.count() == audit_events


def test_admin_re_enables_the_contact_point_and_the_supervisor_redrives(browser, supervisor, admin_user, gone):
    delivery, referral = gone
    cp = delivery.contact_point
    alert = Alert.objects.get(kind="contact_point_disabled")
    admin = browser(admin_user)
    page = text_of(admin.get("/alerts/"))
    assert f'action="/contact-points/{cp.pk}/enable/"' in page
    assert f'action="/contact-points/{cp.pk}/enable/"' not in text_of(browser(supervisor).get("/alerts/"))
    assert browser(supervisor).post(f"/contact-points/{cp.pk}/enable/").status_code == 403
    res = admin.post(f"/contact-points/{cp.pk}/enable/", follow=True)
    assert res.redirect_chain == [("/alerts/", 302)] and "is enabled again" in text_of(res)
    assert ContactPoint.objects.get(pk=cp.pk).active
    assert Alert.objects.get(pk=alert.pk).resolved_at is None  # the alert stays until someone resolves it
    res = browser(supervisor).post(f"/deliveries/{delivery.pk}/redrive/", follow=True)
    assert "re-driven" in text_of(res)
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    assert Referral.objects.get(pk=referral.pk).status == "queued"


def test_redrive_of_a_delivery_that_is_not_dead_is_a_message(browser, supervisor, manual_task):
    delivery, _ = manual_task
    res = browser(supervisor).post(f"/deliveries/{delivery.pk}/redrive/", follow=True)
    assert "only failed or stopped deliveries can be re-driven" in text_of(res)
    assert Delivery.objects.get(pk=delivery.pk).status == "manual"


# --- Manual submissions ---------------------------------------------------------------------------------


def test_manual_task_page_shows_the_prepared_text_and_the_form_link(browser, analyst, manual_task):
    delivery, referral = manual_task
    res = browser(analyst).get("/deliveries/manual/")
    assert res.status_code == 200
    text = text_of(res)
    prepared = bytes(delivery.payload).decode()
    assert "https://formonly.example/p/1" in prepared
    assert html.escape(prepared) in text
    assert f'<textarea id="text-{delivery.pk}" class="prepared-text" rows="10" readonly>' in text
    assert f'<a href="{FORM_URL}" target="_blank" rel="noopener noreferrer">' in text
    assert f'href="/referrals/{referral.pk}/"' in text
    assert "Platform ticket number" in text


def test_blank_ticket_shows_the_field_error_and_changes_nothing(browser, analyst, manual_task):
    delivery, referral = manual_task
    res = browser(analyst).post(f"/deliveries/{delivery.pk}/manual-submitted/", {f"{delivery.pk}-ticket": "   "})
    assert res.status_code == 200
    text = text_of(res)
    assert "This field is required." in text and 'aria-invalid="true"' in text
    assert f"Delivery {delivery.pk} was not marked submitted" in text
    assert Delivery.objects.get(pk=delivery.pk).status == "manual"
    assert Referral.objects.get(pk=referral.pk).platform_reference == ""


@pytest.mark.parametrize("persona", ["analyst", "supervisor"])
def test_ticket_marks_the_delivery_sent_and_becomes_the_platform_reference(request, browser, manual_task, persona):
    delivery, referral = manual_task
    user = request.getfixturevalue(persona)
    client = browser(user)
    res = client.post(f"/deliveries/{delivery.pk}/manual-submitted/", {f"{delivery.pk}-ticket": " FORM-4711 "},
                      follow=True)
    assert res.redirect_chain == [("/deliveries/manual/", 302)]
    assert "marked submitted with platform ticket FORM-4711" in text_of(res)
    assert "No manual task is waiting" in text_of(res)
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.external_reference == "FORM-4711" and delivery.completed_by == user
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.platform_reference == "FORM-4711"
    page = text_of(client.get(f"/referrals/{referral.pk}/"))
    assert "Platform ticket" in page and "FORM-4711" in page


def test_a_task_someone_else_closed_is_a_message(browser, analyst, analyst_2, manual_task):
    delivery, _ = manual_task
    outbox_actions.delivery_complete_manual(actor=analyst_2, delivery_id=delivery.pk, ticket="T-1")
    res = browser(analyst).post(f"/deliveries/{delivery.pk}/manual-submitted/", {f"{delivery.pk}-ticket": "T-2"},
                                follow=True)
    assert res.redirect_chain == [("/deliveries/manual/", 302)]
    assert "only a manual task can be marked submitted" in text_of(res)
    assert Delivery.objects.get(pk=delivery.pk).external_reference == "T-1"


def test_referral_page_says_a_delivery_awaits_manual_submission(browser, analyst, manual_task):
    delivery, referral = manual_task
    text = text_of(browser(analyst).get(f"/referrals/{referral.pk}/"))
    assert "Awaiting manual submission" in text
    assert f'href="/deliveries/manual/#delivery-{delivery.pk}"' in text
    # The platform's own liaison sees the status, without a link to the unit's task list.
    liaison = make_user("fred_formonly", "liaison", referral.platform)
    text = text_of(browser(liaison).get(f"/referrals/{referral.pk}/"))
    assert "Awaiting manual submission" in text and "/deliveries/manual/" not in text


def test_long_task_lists_are_paged_oldest_first(browser, analyst, supervisor, case):
    manual_platform(max_items_per_message=1)  # one delivery per referral, none held for batching
    for n in range(52):
        approve(analyst, supervisor, case, f"https://formonly.example/p/{n}")
    assert dispatcher.dispatch_due() == {"manual": 52}
    ordered = list(Delivery.objects.order_by("created_at", "id"))
    client = browser(analyst)
    first = text_of(client.get("/deliveries/manual/"))
    assert f'id="delivery-{ordered[0].pk}"' in first and f'id="delivery-{ordered[49].pk}"' in first
    assert f'id="delivery-{ordered[50].pk}"' not in first
    assert read_page(first).tags.count("main") == 1 and 'rel="next"' in first
    cursor = first.split('rel="next"')[0].rsplit('href="?', 1)[1].split('"')[0]
    second = text_of(client.get("/deliveries/manual/?" + html.unescape(cursor)))
    assert f'id="delivery-{ordered[50].pk}"' in second and f'id="delivery-{ordered[51].pk}"' in second
    assert f'id="delivery-{ordered[0].pk}"' not in second
    for bad in ["?after=nonsense", "?after=123-xyz", "?after=99999999999999999999-" + "0" * 32]:
        assert f'id="delivery-{ordered[0].pk}"' in text_of(client.get("/deliveries/manual/" + bad)), bad


def test_long_dead_letter_lists_are_paged_newest_first(browser, analyst, supervisor, case):
    with Receiver(default_status=400) as receiver:
        webhook_platform("vidz", receiver, max_items_per_message=1)
        for n in range(51):
            approve(analyst, supervisor, case, f"https://vidz.example/v/{n}")
        dispatch_all()
    newest_first = list(Delivery.objects.filter(status="stopped").order_by("-created_at", "-id"))
    assert len(newest_first) == 51
    client = browser(analyst)
    first = text_of(client.get("/deliveries/dead/"))
    assert f'id="delivery-{newest_first[0].pk}"' in first and f'id="delivery-{newest_first[49].pk}"' in first
    assert f'id="delivery-{newest_first[50].pk}"' not in first
    cursor = first.split('rel="next"')[0].rsplit('href="?', 1)[1].split('"')[0]
    second = text_of(client.get("/deliveries/dead/?" + html.unescape(cursor)))
    assert f'id="delivery-{newest_first[50].pk}"' in second and f'id="delivery-{newest_first[0].pk}"' not in second
    assert 'rel="next"' not in second and 'href="?">First page' in second


# --- Who may open what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_liaison_gets_403_on_the_delivery_and_alert_pages(browser, liaison_a, path):
    assert browser(liaison_a).get(path).status_code == 403


def test_liaison_cannot_act_on_deliveries_or_alerts(browser, liaison_a, stopped, manual_task):
    client = browser(liaison_a)
    dead, _ = stopped
    task, _ = manual_task
    alert = Alert.objects.first()
    assert client.post(f"/deliveries/{dead.pk}/redrive/").status_code == 403
    assert client.post(f"/deliveries/{task.pk}/manual-submitted/", {f"{task.pk}-ticket": "X"}).status_code == 403
    assert client.post(f"/alerts/{alert.pk}/resolve/").status_code == 403
    assert Delivery.objects.get(pk=dead.pk).status == "stopped"
    assert Delivery.objects.get(pk=task.pk).status == "manual"
    assert Alert.objects.get(pk=alert.pk).resolved_at is None


@pytest.mark.parametrize("persona, path, status", [
    ("admin_user", "/deliveries/manual/", 403),
    ("analyst", "/alerts/", 403),
    ("admin_user", "/alerts/", 200),
    ("analyst", "/deliveries/dead/", 200),
])
def test_each_role_opens_only_its_pages(request, browser, persona, path, status):
    assert browser(request.getfixturevalue(persona)).get(path).status_code == status


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_login(client, path):
    res = client.get(path)
    assert res.status_code == 302 and res["Location"].startswith("/login/?next=")


def test_nav_links_follow_the_role(browser, analyst, supervisor, admin_user, liaison_a):
    links = {
        analyst: {"/deliveries/manual/"},
        supervisor: {"/deliveries/manual/", "/deliveries/dead/", "/alerts/"},
        admin_user: {"/deliveries/dead/", "/alerts/"},
        liaison_a: set(),
    }
    for user, expected in links.items():
        text = text_of(browser(user).get("/referrals/"))
        shown = {path for path in PAGES if f'href="{path}"' in text}
        assert shown == expected, user.username


def test_new_pages_have_labelled_controls_and_csrf_tokens(browser, supervisor, stopped, manual_task):
    client = browser(supervisor)
    for path in PAGES:
        page = read_page(text_of(client.get(path)))
        assert page.tags.count("main") == 1 and "h1" in page.tags, path
        for control in page.controls:
            assert control.get("id") in page.label_for, (path, control)
        posts = [form for form in page.forms if form["method"] == "post"]
        assert posts and all(form["csrf"] for form in posts), path


# --- Alerts ---------------------------------------------------------------------------------------------


def test_alerts_appear_for_a_supervisor_on_every_page_and_not_for_an_analyst(browser, supervisor, analyst,
                                                                            admin_user, gone):
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 2  # the dead letter, the disabled endpoint
    for user in [supervisor, admin_user]:
        for path in ["/cases/", "/referrals/", "/deliveries/dead/"]:
            text = text_of(browser(user).get(path))
            assert 'class="alert-banner"' in text, (user.username, path)
            assert "2 unresolved alerts" in text and "answered 410 Gone and was disabled" in text
            assert 'href="/alerts/">See and resolve all alerts' in text
    text = text_of(browser(analyst).get("/cases/"))
    assert "alert-banner" not in text and "unresolved alert" not in text and 'href="/alerts/"' not in text


def test_the_banner_shows_the_latest_three(browser, supervisor, analyst, case):
    with Receiver(default_status=400) as receiver:
        webhook_platform("vidz", receiver, max_items_per_message=1)
        for n in range(4):
            approve(analyst, supervisor, case, f"https://vidz.example/v/{n}")
        assert dispatcher.dispatch_due() == {"stopped": 4}
    text = text_of(browser(supervisor).get("/cases/"))
    assert "4 unresolved alerts</strong>; the latest 3" in text
    banner = text.split('class="alert-banner"')[1].split("</aside>")[0]
    assert banner.count("<li>") == 3


def test_supervisor_resolves_an_alert(browser, supervisor, stopped):
    delivery, _ = stopped
    alert = Alert.objects.get()
    client = browser(supervisor)
    page = text_of(client.get("/alerts/"))
    assert html.escape(alert.message) in page and "Delivery stopped" in page
    res = client.post(f"/alerts/{alert.pk}/resolve/", follow=True)
    assert res.redirect_chain == [("/alerts/", 302)]
    assert f"Alert {alert.pk} resolved." in text_of(res) and "No unresolved alerts." in text_of(res)
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_by == supervisor
    event = AuditEvent.objects.get(verb="alert.resolved")
    assert event.actor == supervisor and event.object_id == str(alert.pk)
    assert "alert-banner" not in text_of(client.get("/cases/"))
    assert Delivery.objects.get(pk=delivery.pk).status == "stopped"  # resolving sends nothing
    res = client.post(f"/alerts/{alert.pk}/resolve/", follow=True)
    assert "was already resolved" in text_of(res)
    assert AuditEvent.objects.filter(verb="alert.resolved").count() == 1


def test_analyst_cannot_resolve_an_alert(browser, analyst, stopped):
    alert = Alert.objects.get()
    assert browser(analyst).post(f"/alerts/{alert.pk}/resolve/").status_code == 403
    assert Alert.objects.get(pk=alert.pk).resolved_at is None


def test_alert_resolve_checks_the_role(analyst, stopped):
    from core.errors import NotPermitted

    with pytest.raises(NotPermitted):
        alert_actions.alert_resolve(actor=analyst, alert_id=Alert.objects.get().pk)


# --- Query budgets --------------------------------------------------------------------------------------


def test_the_alert_summary_costs_at_most_two_queries_and_none_for_other_roles(
        supervisor, admin_user, analyst, liaison_a, gone, manual_task, django_assert_max_num_queries,
        django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    factory = RequestFactory()
    budgets = [(supervisor, 2), (admin_user, 1), (analyst, 0), (liaison_a, 0), (AnonymousUser(), 0)]
    for user, budget in budgets:
        request = factory.get("/cases/")
        request.user = user
        with django_assert_max_num_queries(budget):
            context = desk_status(request)
            desk = context.get("desk")
            if desk is not None:
                summary = (desk.alert_count, [a.message for a in desk.latest_alerts], desk.manual_task_count)
                assert summary[0] == 2 and len(summary[1]) == 2
                assert summary[2] == (1 if user.role == Role.SUPERVISOR else None)
            else:
                assert user.is_anonymous or user.role in (Role.ANALYST, Role.LIAISON)


@pytest.mark.parametrize("rows", [2, 12])
def test_list_pages_cost_a_fixed_number_of_queries(browser, analyst, supervisor, admin_user, case,
                                                    django_assert_max_num_queries, rows):
    with Receiver(default_status=400) as receiver:
        webhook_platform("vidz", receiver, max_items_per_message=2)
        manual_platform(max_items_per_message=2)
        for n in range(rows * 2):
            approve(analyst, supervisor, case, f"https://vidz.example/v/{n}")
            approve(analyst, supervisor, case, f"https://formonly.example/p/{n}")
        dispatch_all()
    assert Delivery.objects.filter(status="stopped").count() >= rows
    assert Delivery.objects.filter(status="manual").count() >= rows
    visits = [
        # + 1 on every page: the header's notification count (the session is read from Redis: no query)
        (analyst, "/deliveries/dead/", 4),  # user, deliveries with contact point and platform, referrals
        (analyst, "/deliveries/manual/", 4),  # the same
        # ... + the alert banner and the manual-task count, and the session's second-factor device (django-otp)
        (supervisor, "/deliveries/dead/", 7),
        (supervisor, "/deliveries/manual/", 7),
        (supervisor, "/alerts/", 6),  # user, device, alerts with contact point and platform, banner, count
        (admin_user, "/alerts/", 5),  # no manual-task count for administrators
        (admin_user, "/deliveries/dead/", 6),
    ]
    for user, path, budget in visits:
        client = browser(user)
        with django_assert_max_num_queries(budget):
            res = client.get(path)
        assert res.status_code == 200, path


def test_a_manual_removal_order_comes_with_its_annex_i_pdf_to_attach(browser, analyst, supervisor, case):
    from tests.conftest import INFORMED, ORDER

    platform_services.platform_create(
        actor=None, slug="formorder", name="Formorder", domains=["formorder.example"], legal=INFORMED,
        contact_points=[{"channel": "manual", "endpoint": "https://formorder.example/report"}])
    item = item_actions.item_log(actor=analyst, case=case, url="https://formorder.example/v/9", kind="post",
                                 categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    referral = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                     order=ORDER).referrals.get()
    dispatch_all()
    client = browser(analyst)
    page = text_of(client.get("/deliveries/manual/"))
    assert f'href="/api/v1/referrals/{referral.pk}/order/" download' in page
    assert f'href="/referrals/{referral.pk}/order/"' in page
    pdf = client.get(f"/api/v1/referrals/{referral.pk}/order/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
