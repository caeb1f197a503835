"""The browser UI: each persona's story through the pages, the role checks, and what a page must never show."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Case, Item
from referral.actions import approval, outcomes
from referral.models import Delivery, DeliveryAttempt, Referral
from referral.outbox import dispatcher
from referral.outbox.webhook import generate_secret
from tests.conftest import PASSWORD, enrol_totp, make_platform, make_user
from tests.pages import read_page
from tests.receiver import Receiver

PAGES = ["/", "/cases/", "/cases/{case}/", "/review/", "/referrals/", "/referrals/{referral}/"]

pytestmark = pytest.mark.both_databases  # every page here, with its lists, on SQLite too (make test)


def page_text(response) -> str:
    return response.content.decode()


def log_item(analyst, case, url="https://tube.example/watch?v=zzz", **extra):
    extra.setdefault("categories", ["incitement"])  # proposing needs a category (TCO Art 2(7))
    return item_actions.item_log(actor=analyst, case=case, url=url, kind=extra.pop("kind", "post"), **extra)


# --- Signing in and out ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_login(client, approved_referral, path):
    path = path.format(case=approved_referral.item.case_id, referral=approved_referral.pk)
    res = client.get(path)
    assert res.status_code == 302
    assert res["Location"].startswith("/login/?next=")


def test_analyst_signs_in_with_password_and_lands_on_cases(client, analyst):
    res = client.get("/login/")
    assert res.status_code == 200 and 'name="password"' in page_text(res)
    res = client.post("/login/", {"username": analyst.username, "password": PASSWORD}, follow=True)
    assert res.redirect_chain[-1] == ("/cases/", 302)
    text = page_text(res)
    assert "anna_analyst" in text and "(Analyst)" in text


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, analyst):
    res = client.post("/login/", {"username": analyst.username, "password": "nope-nope-nope"})
    assert res.status_code == 200
    assert "enter a correct username and password" in page_text(res)
    assert client.get("/cases/").status_code == 302


@pytest.mark.parametrize(
    "persona, landing",
    [("analyst", "/cases/"), ("supervisor", "/cases/"), ("admin_user", "/cases/"), ("liaison_a", "/referrals/")],
)
def test_home_sends_each_role_to_its_work(request, browser, persona, landing):
    res = browser(request.getfixturevalue(persona)).get("/")
    assert res.status_code == 302 and res["Location"] == landing


def test_logout_is_a_post(client, analyst, rf):
    # The login lockout (django-axes) needs the request, as a real login has one.
    assert client.login(request=rf.post("/login/"), username=analyst.username, password=PASSWORD)
    assert client.get("/logout/").status_code == 405  # a link or prefetch cannot sign anyone out
    assert client.get("/cases/").status_code == 200
    res = client.post("/logout/")
    assert res.status_code == 302 and res["Location"] == "/login/"
    assert client.get("/cases/").status_code == 302


def test_every_post_form_carries_a_csrf_token(browser, supervisor, analyst, proposed_item):
    for user, path in [(analyst, f"/cases/{proposed_item.case_id}/"), (supervisor, "/review/"),
                       (supervisor, "/cases/")]:
        page = read_page(page_text(browser(user).get(path)))
        posts = [form for form in page.forms if form["method"] == "post"]
        assert posts and all(form["csrf"] for form in posts), path


def test_post_without_csrf_token_is_refused_and_stores_nothing(analyst, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    res = client.post(f"/cases/{case.pk}/", {"url": "https://tube.example/watch?v=csrf", "kind": "post"})
    assert res.status_code == 403
    assert not Item.objects.exists()


# --- Cases and items ------------------------------------------------------------------------------------


def test_analyst_opens_a_case_through_the_form(browser, analyst):
    res = browser(analyst).post("/cases/", {"title": "  Op Fennel  ", "description": "Telegram mirrors"},
                                follow=True)
    case = Case.objects.get()
    assert case.title == "Op Fennel" and case.created_by == analyst
    assert res.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    assert "Op Fennel" in page_text(res) and "opened" in page_text(res)


def test_blank_case_title_shows_the_field_error_and_stores_nothing(browser, analyst):
    res = browser(analyst).post("/cases/", {"title": "   "})
    assert res.status_code == 200
    assert "This field is required." in page_text(res)
    assert not Case.objects.exists()


def test_admin_sees_cases_but_cannot_open_one(browser, admin_user, case):
    client = browser(admin_user)
    res = client.get("/cases/")
    assert res.status_code == 200 and case.title in page_text(res)
    assert 'name="title"' not in page_text(res)
    assert client.post("/cases/", {"title": "Not mine to open"}).status_code == 403
    assert Case.objects.count() == 1


def test_analyst_logs_an_item_and_sees_it_on_the_case_page(browser, analyst, case, platform_a):
    client = browser(analyst)
    form = {"url": "https://www.tube.example/watch?v=Q1&utm_source=x#t=3", "kind": "media",
            "categories": ["incitement", "threat"], "language": "ar", "notes": "Mirror of the Q1 video",
            "platform": ""}
    res = client.post(f"/cases/{case.pk}/", form, follow=True)
    item = Item.objects.get()
    assert res.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    assert (item.platform, item.kind, item.categories, item.status) == (platform_a, "media",
                                                                        ["incitement", "threat"], "logged")
    text = page_text(res)
    assert f"Item {item.pk} logged (Tube)" in text
    assert "https://www.tube.example/watch?v=Q1&amp;utm_source=x#t=3" in text
    assert item.canonical_url in text
    assert "Incitement" in text or "incitement" in text
    assert "Logged" in text


def test_bad_url_shows_the_field_message_and_stores_nothing(browser, analyst, case, platform_a):
    events = AuditEvent.objects.count()
    res = browser(analyst).post(f"/cases/{case.pk}/", {"url": "ftp://tube.example/file", "kind": "post"})
    assert res.status_code == 200
    text = page_text(res)
    assert "Only http and https URLs can be referred." in text
    assert "The item was not logged." in text
    assert 'value="ftp://tube.example/file"' in text  # the analyst's input is kept for correction
    assert not Item.objects.exists() and AuditEvent.objects.count() == events


def test_bad_kind_is_a_form_error_not_a_500(browser, analyst, case):
    res = browser(analyst).post(f"/cases/{case.pk}/", {"url": "https://tube.example/x", "kind": "tweet"})
    assert res.status_code == 200 and "Select a valid choice" in page_text(res)
    assert not Item.objects.exists()


def test_item_without_a_platform_says_so_and_duplicates_link_to_the_first(browser, analyst, case):
    client = browser(analyst)
    client.post(f"/cases/{case.pk}/", {"url": "https://unknown.example/p/1", "kind": "post"})
    res = client.post(f"/cases/{case.pk}/", {"url": "https://UNKNOWN.example/p/1#again", "kind": "post"},
                      follow=True)
    first, second = Item.objects.order_by("id")
    assert second.duplicate_of == first
    text = page_text(res)
    assert "No platform matched" in text
    assert f"It repeats item {first.pk}." in text
    assert f'href="/cases/{case.pk}/#item-{first.pk}"' in text


def test_item_can_be_logged_with_a_chosen_platform(browser, analyst, case, platform_b):
    browser(analyst).post(f"/cases/{case.pk}/",
                          {"url": "https://mirror.example/v/1", "kind": "post", "platform": "chirp"})
    assert Item.objects.get().platform == platform_b


def test_liaison_cannot_open_cases(browser, liaison_a, case):
    client = browser(liaison_a)
    for path in ["/cases/", f"/cases/{case.pk}/"]:
        res = client.get(path)
        assert res.status_code == 403
        assert "Not allowed" in page_text(res)
    assert client.post(f"/cases/{case.pk}/", {"url": "https://tube.example/x", "kind": "post"}).status_code == 403
    assert not Item.objects.exists()


def test_missing_case_is_a_404_page(browser, analyst):
    res = browser(analyst).get("/cases/987654/")
    assert res.status_code == 404 and "Not found" in page_text(res)


# --- Proposing ------------------------------------------------------------------------------------------


def test_analyst_proposes_a_logged_item(browser, analyst, case, platform_a):
    item = log_item(analyst, case)
    client = browser(analyst)
    page = page_text(client.get(f"/cases/{case.pk}/"))
    assert f'action="/items/{item.pk}/propose/"' in page
    res = client.post(f"/items/{item.pk}/propose/", follow=True)
    assert res.redirect_chain == [(f"/cases/{case.pk}/", 302)]
    item.refresh_from_db()
    assert item.status == "proposed" and item.proposed_by == analyst
    text = page_text(res)
    assert f"Item {item.pk} proposed for referral." in text
    assert f'action="/items/{item.pk}/propose/"' not in text  # no second proposal button


def test_proposing_twice_is_a_message_not_a_500(browser, analyst, proposed_item):
    res = browser(analyst).post(f"/items/{proposed_item.pk}/propose/", follow=True)
    assert res.status_code == 200
    assert "cannot become" in page_text(res)


@pytest.mark.parametrize("persona", ["supervisor", "admin_user", "liaison_a"])
def test_only_analysts_propose(request, browser, analyst, case, platform_a, persona):
    item = log_item(analyst, case)
    res = browser(request.getfixturevalue(persona)).post(f"/items/{item.pk}/propose/")
    assert res.status_code == 403
    item.refresh_from_db()
    assert item.status == "logged"


def test_propose_is_post_only(browser, analyst, case, platform_a):
    item = log_item(analyst, case)
    assert browser(analyst).get(f"/items/{item.pk}/propose/").status_code == 405
    item.refresh_from_db()
    assert item.status == "logged"


# --- Review ---------------------------------------------------------------------------------------------


def test_supervisor_sees_the_queue_with_the_proposer(browser, supervisor, proposed_item):
    res = browser(supervisor).get("/review/")
    assert res.status_code == 200
    text = page_text(res)
    assert proposed_item.url in text and "anna_analyst" in text
    for action in ["approve", "return", "reject"]:
        assert f'action="/items/{proposed_item.pk}/{action}/"' in text


def test_supervisor_approves_and_one_referral_is_queued(browser, supervisor, proposed_item):
    res = browser(supervisor).post(
        f"/items/{proposed_item.pk}/approve/", {f"approve-{proposed_item.pk}-instrument": "removal_order",
                                                f"approve-{proposed_item.pk}-statement_of_reasons": "Incitement."},
        follow=True,
    )
    assert res.redirect_chain == [("/review/", 302)]
    proposed_item.refresh_from_db()
    assert proposed_item.status == "approved" and proposed_item.decided_by == supervisor
    [referral] = Referral.objects.filter(item=proposed_item)
    assert (referral.status, referral.instrument) == ("queued", "removal_order")
    assert Delivery.objects.filter(referrals=referral).count() == 1
    text = page_text(res)
    assert f"Item {proposed_item.pk} approved" in text
    assert proposed_item.url not in text  # it has left the queue


def test_unknown_instrument_re_renders_with_an_error(browser, supervisor, proposed_item):
    res = browser(supervisor).post(f"/items/{proposed_item.pk}/approve/",
                                   {f"approve-{proposed_item.pk}-instrument": "nuke"})
    assert res.status_code == 200 and "Select a valid choice" in page_text(res)
    proposed_item.refresh_from_db()
    assert proposed_item.status == "proposed" and not Referral.objects.exists()


def test_supervisor_rejects_with_a_reason(browser, supervisor, proposed_item):
    res = browser(supervisor).post(f"/items/{proposed_item.pk}/reject/",
                                   {f"reject-{proposed_item.pk}-reason": "Satire, not incitement"}, follow=True)
    proposed_item.refresh_from_db()
    assert (proposed_item.status, proposed_item.decision_reason) == ("rejected", "Satire, not incitement")
    assert f"Item {proposed_item.pk} rejected." in page_text(res)
    assert not Referral.objects.exists()


@pytest.mark.parametrize("action", ["reject", "return"])
def test_empty_reason_shows_an_error_and_changes_nothing(browser, supervisor, proposed_item, action):
    events = AuditEvent.objects.count()
    res = browser(supervisor).post(f"/items/{proposed_item.pk}/{action}/",
                                   {f"{action}-{proposed_item.pk}-reason": "   "})
    assert res.status_code == 200
    text = page_text(res)
    assert "This field is required." in text
    assert f"Item {proposed_item.pk} was not" in text
    assert 'aria-invalid="true"' in text
    proposed_item.refresh_from_db()
    assert proposed_item.status == "proposed" and AuditEvent.objects.count() == events


def test_supervisor_returns_and_the_analyst_can_propose_again(browser, supervisor, analyst, proposed_item):
    browser(supervisor).post(f"/items/{proposed_item.pk}/return/",
                             {f"return-{proposed_item.pk}-reason": "Add the channel handle"})
    proposed_item.refresh_from_db()
    assert proposed_item.status == "returned"
    page = page_text(browser(analyst).get(f"/cases/{proposed_item.case_id}/"))
    assert "Add the channel handle" in page and f'action="/items/{proposed_item.pk}/propose/"' in page


def promoted_to_supervisor(user):
    """An analyst who proposed items, promoted since: four-eyes still binds them to their own proposals."""
    User.objects.filter(pk=user.pk).update(role="supervisor")
    user.refresh_from_db()
    enrol_totp(user)  # a supervisor signs in with a second factor
    return user


def test_supervisor_cannot_approve_own_proposal(browser, analyst, case, platform_a):
    item = log_item(analyst, case)
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    client = browser(promoted_to_supervisor(analyst))
    page = page_text(client.get("/review/"))
    assert "You proposed this item yourself" in page
    assert f'action="/items/{item.pk}/approve/"' not in page
    res = client.post(f"/items/{item.pk}/approve/", {f"approve-{item.pk}-instrument": "referral"}, follow=True)
    assert res.status_code == 200
    assert "Four-eyes rule" in page_text(res)
    item.refresh_from_db()
    assert item.status == "proposed" and not Referral.objects.exists()


def test_another_supervisor_can_approve_it(browser, supervisor_2, analyst, case, platform_a):
    item = log_item(analyst, case)
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    promoted_to_supervisor(analyst)
    browser(supervisor_2).post(f"/items/{item.pk}/approve/", {f"approve-{item.pk}-instrument": "referral"})
    item.refresh_from_db()
    assert item.status == "approved"


def test_approving_an_item_without_platform_is_a_message(browser, supervisor, analyst, case):
    item = log_item(analyst, case, url="https://unknown.example/p/9")
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    res = browser(supervisor).post(f"/items/{item.pk}/approve/", {f"approve-{item.pk}-instrument": "referral"},
                                   follow=True)
    assert res.status_code == 200 and "No platform claims the host" in page_text(res)
    item.refresh_from_db()
    assert item.status == "proposed"


def test_deciding_an_item_that_is_no_longer_proposed_is_a_message(browser, supervisor, approved_referral):
    item_id = approved_referral.item_id
    res = browser(supervisor).post(f"/items/{item_id}/reject/", {f"reject-{item_id}-reason": "late"}, follow=True)
    assert res.status_code == 200 and "cannot become" in page_text(res)


@pytest.mark.parametrize("persona", ["analyst", "admin_user", "liaison_a"])
def test_only_supervisors_review(request, browser, proposed_item, persona):
    client = browser(request.getfixturevalue(persona))
    assert client.get("/review/").status_code == 403
    for action, field, value in [("approve", "instrument", "referral"), ("reject", "reason", "x"),
                                 ("return", "reason", "x")]:
        res = client.post(f"/items/{proposed_item.pk}/{action}/", {f"{action}-{proposed_item.pk}-{field}": value})
        assert res.status_code == 403
    proposed_item.refresh_from_db()
    assert proposed_item.status == "proposed"


# --- Referrals ------------------------------------------------------------------------------------------


def test_liaison_sees_only_own_platforms_referrals(browser, liaison_a, approved_referral, approved_referral_b):
    res = browser(liaison_a).get("/referrals/")
    assert res.status_code == 200
    text = page_text(res)
    assert f'href="/referrals/{approved_referral.pk}/"' in text
    assert f'href="/referrals/{approved_referral_b.pk}/"' not in text
    assert "chirp.example" not in text


def test_liaison_gets_404_on_another_platforms_referral(browser, liaison_a, approved_referral_b):
    res = browser(liaison_a).get(f"/referrals/{approved_referral_b.pk}/")
    assert res.status_code == 404
    assert "chirp.example" not in page_text(res)
    # The same answer as for a referral that does not exist.
    assert browser(liaison_a).get("/referrals/987654/").status_code == 404


def test_unit_staff_see_every_platforms_referrals(browser, analyst, approved_referral, approved_referral_b):
    text = page_text(browser(analyst).get("/referrals/"))
    assert f'href="/referrals/{approved_referral.pk}/"' in text
    assert f'href="/referrals/{approved_referral_b.pk}/"' in text


def test_referral_list_filters_by_status(browser, supervisor, liaison_a, approved_referral, approved_referral_b):
    outcomes.referral_record_status(actor=liaison_a, referral_id=approved_referral.pk, status="removed",
                                    platform_reference="TUBE-77")
    client = browser(supervisor)
    text = page_text(client.get("/referrals/?status=removed"))
    assert f'href="/referrals/{approved_referral.pk}/"' in text and "TUBE-77" in text
    assert f'href="/referrals/{approved_referral_b.pk}/"' not in text
    text = page_text(client.get("/referrals/?status=queued"))
    assert f'href="/referrals/{approved_referral.pk}/"' not in text
    assert f'href="/referrals/{approved_referral_b.pk}/"' in text
    res = client.get("/referrals/?status=bogus")
    assert res.status_code == 200 and "Select a valid choice" in page_text(res)


def make_due():
    """The clock moves on: every pending delivery is due now (batching window, retry delay passed)."""
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_referral_page_shows_deliveries_and_attempts_but_never_the_secret(browser, analyst, supervisor, case):
    secret = generate_secret()
    with Receiver(responses=[(503, 0, {})], default_status=200) as receiver:
        platform = make_platform("vidz", ["vidz.example"], endpoint=receiver.url + "/hook", secret=secret)
        liaison = make_user("vera_vidz", "liaison", platform)
        item = log_item(analyst, case, url="https://vidz.example/v/1")
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        referral = approval.item_approve(actor=supervisor, item_id=item.pk).referrals.get()
        make_due()
        assert dispatcher.dispatch_due(linger=0) == {"retry": 1}  # 503
        make_due()
        assert dispatcher.dispatch_due(linger=0) == {"sent": 1}
    delivery = Delivery.objects.get()
    assert [a.outcome for a in DeliveryAttempt.objects.order_by("number")] == ["retry", "sent"]
    for user in [supervisor, liaison]:
        res = browser(user).get(f"/referrals/{referral.pk}/")
        assert res.status_code == 200
        text = page_text(res)
        assert str(delivery.pk) in text
        assert "Webhook" in text and receiver.url + "/hook" in text
        for attempt in DeliveryAttempt.objects.all():
            assert attempt.request_sha256 in text
        assert "503" in text and "Retry" in text and "Sent" in text
        assert secret not in text and secret.removeprefix("whsec_") not in text
    assert secret not in page_text(browser(supervisor).get("/referrals/"))


def test_referral_page_without_attempts_says_so(browser, supervisor, approved_referral):
    text = page_text(browser(supervisor).get(f"/referrals/{approved_referral.pk}/"))
    assert "No attempt yet." in text
    assert "http://127.0.0.1:9/hook" in text


# --- Pages are usable without sight of colour, and labelled ---------------------------------------------


def test_pages_have_main_headings_and_labelled_controls(browser, analyst, supervisor, liaison_a, approved_referral,
                                                        proposed_item):
    visits = [
        (analyst, "/cases/"), (analyst, f"/cases/{proposed_item.case_id}/"), (supervisor, "/review/"),
        (supervisor, "/referrals/"), (liaison_a, "/referrals/"), (liaison_a, f"/referrals/{approved_referral.pk}/"),
    ]
    for user, path in visits:
        res = browser(user).get(path)
        assert res.status_code == 200, path
        page = read_page(page_text(res))
        assert page.tags.count("main") == 1 and "h1" in page.tags, path
        for control in page.controls:
            assert control.get("id") in page.label_for, (path, control)
    anonymous = read_page(page_text(Client().get("/login/")))
    assert all(control.get("id") in anonymous.label_for for control in anonymous.controls)


def test_statuses_are_written_out(browser, analyst, approved_referral):
    text = page_text(browser(analyst).get(f"/cases/{approved_referral.item.case_id}/"))
    assert '<span class="status status-approved">Approved</span>' in text
    assert '<span class="status status-queued">Queued</span>' in text


# --- Fixed query counts on list pages -------------------------------------------------------------------


def add_referrals(analyst, supervisor, case, count, start=0):
    for n in range(start, start + count):
        item = log_item(analyst, case, url=f"https://tube.example/watch?v=n{n}", categories=["threat"])
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        if n % 2 == 0:
            approval.item_approve(actor=supervisor, item_id=item.pk)


ROW_MARKS = {  # how each list marks one of its rows
    "/cases/": '<td><a href="/cases/', "case": '<tr id="item-', "/review/": '<tr id="r-item-',
    "/referrals/": '<th scope="row"><a href="/referrals/',
}


# 104 rows: every list holds more than a page (50), so the budget is that of a full page whatever its length.
@pytest.mark.parametrize("rows", [2, 104])
def test_list_pages_cost_a_fixed_number_of_queries(browser, analyst, supervisor_2, supervisor, liaison_a, case,
                                                   platform_a, django_assert_max_num_queries, rows):
    add_referrals(analyst, supervisor_2, case, rows)  # rows items, rows / 2 referrals, rows / 2 proposals
    for n in range(rows):
        case_actions.case_create(actor=analyst, title=f"Case {n}")
    shown = min(rows // 2, 50)
    # Every signed-in page also counts its user's unread notifications for the header: 1 more. The session is read
    # from Redis (cached_db): no query.
    visits = [
        (analyst, "/cases/", 3, "/cases/", min(rows + 1, 50)),  # user, one page of cases with creators
        # user, case, items, their referrals, platforms (form), timeline, staff to assign the case to;
        # elsewhere than on PostgreSQL the summary is one more query (cases_with_summary, case_summary)
        (analyst, f"/cases/{case.pk}/", 8 if connection.vendor == "postgresql" else 9, "case", min(rows, 50)),
        # A supervisor's pages also carry the alerts banner and the manual-task count: 2 more; and django-otp checks
        # that the session's second-factor device is still the supervisor's: 1 more.
        # user, device, alerts, manual tasks, notifications, rows, platform counts, platform/group/people
        (supervisor, "/review/", 10, "/review/", shown),
        (supervisor, "/referrals/", 6, "/referrals/", shown),  # user, device, referrals with item, platform
        (analyst, "/referrals/?status=queued", 3, "/referrals/", shown),
        (liaison_a, "/referrals/", 4, "/referrals/", shown),  # ... and the liaison's platform, named in the page
        # + referral, deliveries, attempts, and the liveness panel (the referral's state, its checks)
        (supervisor, f"/referrals/{Referral.objects.first().pk}/", 10, None, 0),
    ]
    for user, path, budget, rows_of, expected in visits:
        client = browser(user)
        with django_assert_max_num_queries(budget):
            res = client.get(path)
        assert res.status_code == 200, path
        if rows_of:
            assert page_text(res).count(ROW_MARKS[rows_of]) == expected, path


def test_long_lists_are_paged_by_id(browser, analyst, case, platform_a):
    for n in range(55):
        log_item(analyst, case, url=f"https://tube.example/watch?v=p{n}")
    client = browser(analyst)
    first = page_text(client.get(f"/cases/{case.pk}/"))
    newest, oldest = Item.objects.order_by("-id")[0], Item.objects.order_by("id")[0]
    assert f'id="item-{newest.pk}"' in first and f'id="item-{oldest.pk}"' not in first
    cursor = Item.objects.order_by("-id")[49].pk
    assert f"?before={cursor}" in first
    second = page_text(client.get(f"/cases/{case.pk}/?before={cursor}"))
    assert f'id="item-{oldest.pk}"' in second and f'id="item-{newest.pk}"' not in second
    assert client.get(f"/cases/{case.pk}/?before=not-a-number").status_code == 200
