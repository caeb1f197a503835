"""Content still online after its follow-up time: a supervisor reminds the platform through the outbox
(referrals.reminder), from the API or the referral page's button; nobody else can, and not before the flag."""

import json

import pytest

from audit.models import AuditEvent
from liveness.models import LivenessState
from referral.models import Delivery, Instrument
from referral.outbox import dispatcher
from tests.conftest import api_for, make_user, signed_in
from tests.liveness.conftest import check_at

PAGE = "<h1>A video</h1><p>propaganda</p>"


@pytest.fixture
def flagged(received, proxy, tls_pages):
    """A referral the desk still finds online a day after the platform received it."""
    tls_pages.page("/watch?v=still", (200, PAGE))
    referral = received("https://tube.example/watch?v=still")
    check_at(referral, hours=24, seconds=1)
    assert LivenessState.objects.get(referral=referral).followup_flagged_at is not None
    return referral


def test_a_supervisor_reminds_the_platform_of_content_still_online(flagged, supervisor, platform_inbox):
    answer = api_for(supervisor).post(f"/api/v1/referrals/{flagged.pk}/reminder/", {}, format="json")
    assert answer.status_code == 202, answer.content
    assert answer.json()["reminders"] == 1

    delivery = Delivery.objects.get(event="referrals.reminder")
    assert list(delivery.referrals.values_list("pk", flat=True)) == [flagged.pk]
    dispatcher.dispatch_due(time_budget=10)
    body = json.loads(platform_inbox.requests[-1].body)
    assert body["type"] == "referrals.reminder" and [r["id"] for r in body["referrals"]] == [flagged.pk]
    assert "still online" in body["message"] and "24 hours after you received it" in body["message"]
    event = AuditEvent.objects.get(verb="referral.reminded", object_id=str(flagged.pk))
    assert event.actor_id == supervisor.pk and event.after["reminders"] == 1

    again = api_for(supervisor).post(f"/api/v1/referrals/{flagged.pk}/reminder/", {"message": "Again."},
                                     format="json")
    assert again.status_code == 409 and "an hour later" in again.json()["detail"]
    assert Delivery.objects.filter(event="referrals.reminder").count() == 1


def test_a_referral_not_flagged_for_follow_up_cannot_be_reminded(received, proxy, tls_pages, supervisor):
    tls_pages.page("/watch?v=young", (200, PAGE))
    referral = received("https://tube.example/watch?v=young")
    check_at(referral, hours=6, seconds=1)  # online, but the platform has had it for six hours only
    answer = api_for(supervisor).post(f"/api/v1/referrals/{referral.pk}/reminder/", {}, format="json")
    assert answer.status_code == 409 and "not flagged" in answer.json()["detail"]
    assert not Delivery.objects.filter(event="referrals.reminder").exists()


def test_a_removal_order_is_flagged_after_an_hour_and_can_be_reminded(received, proxy, tls_pages, supervisor):
    tls_pages.page("/watch?v=order", (200, PAGE))
    referral = received("https://tube.example/watch?v=order", instrument=Instrument.REMOVAL_ORDER)
    check_at(referral, minutes=15, seconds=1)
    assert LivenessState.objects.get(referral=referral).followup_flagged_at is None
    check_at(referral, hours=1, seconds=1)
    answer = api_for(supervisor).post(f"/api/v1/referrals/{referral.pk}/reminder/", {"message": "Act now."},
                                      format="json")
    assert answer.status_code == 202
    assert Delivery.objects.get(event="referrals.reminder").message == "Act now."


@pytest.mark.parametrize("persona", ["analyst", "admin_user", "liaison"])
def test_only_a_supervisor_may_remind(request, flagged, tube, persona):
    user = make_user("tube_liaison", "liaison", tube) if persona == "liaison" else request.getfixturevalue(persona)
    answer = api_for(user).post(f"/api/v1/referrals/{flagged.pk}/reminder/", {}, format="json")
    assert answer.status_code in (403, 404)
    assert not Delivery.objects.filter(event="referrals.reminder").exists()


def test_the_referral_page_has_a_reminder_button_for_supervisors_only(flagged, supervisor, analyst):
    page = signed_in(supervisor).get(f"/referrals/{flagged.pk}/").content.decode()
    assert "Remind the platform" in page and 'hx-post="/referrals/' in page
    assert "Remind the platform" not in signed_in(analyst).get(f"/referrals/{flagged.pk}/").content.decode()

    swapped = signed_in(supervisor).post(f"/referrals/{flagged.pk}/reminder/", {"message": ""}, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200
    panel = swapped.content.decode()
    assert panel.lstrip().startswith('<section aria-labelledby="liveness"') or 'id="liveness-panel"' in panel
    assert "The platform is being reminded" in panel and "1 time" in panel and "<script" not in panel
    assert Delivery.objects.filter(event="referrals.reminder").count() == 1

    refused = signed_in(supervisor).post(f"/referrals/{flagged.pk}/reminder/", {"message": ""})  # without htmx
    assert refused.status_code == 302
    assert signed_in(analyst).post(f"/referrals/{flagged.pk}/reminder/", {}).status_code == 403
    assert Delivery.objects.filter(event="referrals.reminder").count() == 1
