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
