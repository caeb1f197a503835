"""Marking read: one's own notifications only (another person's is NotFound, as a missing one), audited."""

import pytest

from audit.models import AuditEvent
from core.errors import NotFound
from notifications import actions
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_recipient_marks_a_notification_read_once(supervisor, threat):
    notification = Notification.objects.get(recipient=supervisor)
    actions.notification_mark_read(actor=supervisor, notification_id=notification.pk)
    read_at = Notification.objects.get(pk=notification.pk).read_at
    assert read_at is not None
    actions.notification_mark_read(actor=supervisor, notification_id=notification.pk)  # again: nothing changes
    assert Notification.objects.get(pk=notification.pk).read_at == read_at
    events = AuditEvent.objects.filter(verb="notification.read", object_id=str(notification.pk))
    assert [(e.actor_id, e.after["kind"]) for e in events] == [(supervisor.pk, "threat_to_life")]


def test_a_user_cannot_mark_another_users_notification(supervisor, supervisor_2, analyst, threat):
    theirs = Notification.objects.get(recipient=supervisor)
    for someone in (supervisor_2, analyst):
        with pytest.raises(NotFound) as caught:
            actions.notification_mark_read(actor=someone, notification_id=theirs.pk)
        with pytest.raises(NotFound) as missing:
            actions.notification_mark_read(actor=someone, notification_id=theirs.pk + 1000)
        assert str(caught.value).replace(str(theirs.pk), "N") == str(missing.value).replace(str(theirs.pk + 1000), "N")
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read_marks_only_ones_own(supervisor, supervisor_2, analyst, case, threat):
    from tests.notifications.conftest import flag_threat_to_life

    flag_threat_to_life(analyst, case, "https://tube.example/watch?v=ttl2")
    assert actions.notifications_mark_all_read(actor=supervisor) == 2
    assert actions.notifications_mark_all_read(actor=supervisor) == 0
    assert not Notification.objects.filter(recipient=supervisor, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=supervisor_2, read_at__isnull=True).count() == 2
    assert AuditEvent.objects.filter(verb="notification.read", actor=supervisor).count() == 2
