"""Referrals past their due time with no outcome alert supervisors, once."""

from datetime import timedelta

from django.utils import timezone

from alerts.models import Alert
from audit.models import AuditEvent
from referral.actions import outcomes
from referral.models import Referral
from referral.tasks import flag_overdue


def test_overdue_removal_order_alerts_supervisors_once(approved_referral, approved_referral_b, liaison_b, api):
    Referral.objects.filter(pk=approved_referral.pk).update(instrument="removal_order",
                                                            due_at=timezone.now() - timedelta(minutes=1))
    Referral.objects.filter(pk=approved_referral_b.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    # Platform B answered in time: not overdue.
    api(liaison_b).post(f"/api/v1/referrals/{approved_referral_b.pk}/status/", {"status": "removed"}, format="json")
    assert flag_overdue() == 1
    [alert] = Alert.objects.filter(kind="referral_overdue")
    assert "1 removal order to Tube past due" in alert.message and str(approved_referral.pk) in alert.message
    assert AuditEvent.objects.filter(verb="referral.overdue", object_id=str(approved_referral.pk)).count() == 1
    assert outcomes.referrals_flag_overdue() == 0  # once
    assert Alert.objects.filter(kind="referral_overdue").count() == 1


def test_not_yet_due_is_not_flagged(approved_referral):
    assert approved_referral.due_at > timezone.now()
    assert outcomes.referrals_flag_overdue() == 0


def overdue_badges(client, path) -> int:
    return client.get(path).content.decode().count('class="overdue">Overdue<')


def test_one_definition_of_awaiting_an_outcome_for_the_badge_and_the_alert(approved_referral, liaison_a, api,
                                                                          browser, supervisor):
    """A platform asking for more information has not answered: past due, the referral shows the Overdue badge
    on the list and its page, and the sweep alerts on it; once it is answered, neither."""
    res = api(liaison_a).post(f"/api/v1/referrals/{approved_referral.pk}/status/", {"status": "needs_info"},
                              format="json")
    assert res.status_code == 200 and res.json()["status"] == "needs_info"
    client = browser(supervisor)
    assert overdue_badges(client, "/referrals/") == 0  # not yet due
    Referral.objects.filter(pk=approved_referral.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    referral = Referral.objects.get(pk=approved_referral.pk)
    assert overdue_badges(client, "/referrals/") == 1
    assert overdue_badges(client, f"/referrals/{referral.pk}/") == 1
    assert overdue_badges(browser(liaison_a), "/referrals/") == 1  # the platform sees it too
    assert outcomes.referrals_flag_overdue() == 1
    assert str(referral.pk) in Alert.objects.get(kind="referral_overdue").message
    assert referral.is_overdue and list(Referral.objects.overdue()) == [referral]
    api(liaison_a).post(f"/api/v1/referrals/{referral.pk}/status/", {"status": "removed"}, format="json")
    assert not Referral.objects.get(pk=referral.pk).is_overdue and not Referral.objects.overdue().exists()
    assert overdue_badges(client, "/referrals/") == 0
    assert overdue_badges(client, f"/referrals/{referral.pk}/") == 0


def test_each_status_is_overdue_on_the_page_exactly_when_the_sweep_flags_it(approved_referral, browser, supervisor):
    past = timezone.now() - timedelta(minutes=1)
    client = browser(supervisor)
    for status in Referral._meta.get_field("status").choices:
        status = status[0]
        Referral.objects.filter(pk=approved_referral.pk).update(status=status, due_at=past, overdue_alerted_at=None)
        flagged = outcomes.referrals_flag_overdue() == 1
        assert (overdue_badges(client, f"/referrals/{approved_referral.pk}/") == 1) == flagged, status
        assert flagged == (status in {"queued", "sent", "acknowledged", "needs_info"}), status
        assert Referral.objects.get(pk=approved_referral.pk).is_overdue == flagged, status
