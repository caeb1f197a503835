"""notify(): who is told, in the caller's transaction; urgent kinds queued for email to those who asked."""

import pytest
from django.db import transaction

from notifications import actions
from notifications.models import EmailStatus, Notification
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def rows():
    return list(Notification.objects.order_by("recipient_id").values_list("recipient__username", "kind",
                                                                          "email_status"))


def test_supervisors_are_told_and_no_one_else(analyst, supervisor, supervisor_2, liaison_a):
    retired = make_user("rita_retired", "supervisor")
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    actions.notify_supervisors(kind="threat_to_life", message="Threat to life: item 7", object_type="item",
                               object_id=7)
    assert sorted(rows()) == [("sara_supervisor", "threat_to_life", "none"),
                              ("sven_supervisor", "threat_to_life", "none")]
    assert all(n.urgent for n in Notification.objects.all())


def test_the_actor_is_not_told_of_their_own_act(supervisor, supervisor_2):
    actions.notify_supervisors(kind="threat_to_life", message="m", object_type="item", object_id=1, actor=supervisor)
    assert rows() == [("sven_supervisor", "threat_to_life", "none")]


def test_notify_users_ignores_repeats_none_and_liaisons(analyst, supervisor, liaison_a):
    actions.notify_users([analyst.pk, None, analyst.pk, supervisor.pk, liaison_a.pk], kind="item_returned",
                         message="Item 3 returned", object_type="item", object_id=3)
    assert sorted(rows()) == [("anna_analyst", "item_returned", "none"), ("sara_supervisor", "item_returned", "none")]
    assert not any(n.urgent for n in Notification.objects.all())


def test_urgent_kinds_are_queued_for_email_to_those_who_asked(analyst, supervisor, supervisor_2):
    actions.notification_preferences_set(actor=supervisor, email_urgent=True)
    actions.notification_preferences_set(actor=analyst, email_urgent=True)
    type(supervisor).objects.filter(pk__in=[supervisor.pk, analyst.pk]).update(email="desk@iru.invalid")  # admin's
    actions.notify_supervisors(kind="dead_letter", message="m", object_type="delivery", object_id="x")
    actions.notify_users([analyst.pk], kind="import_done", message="m", object_type="import", object_id="y")
    assert sorted(rows()) == [("anna_analyst", "import_done", EmailStatus.NONE),  # not urgent
                              ("sara_supervisor", "dead_letter", EmailStatus.PENDING),
                              ("sven_supervisor", "dead_letter", EmailStatus.NONE)]  # did not ask


def test_notifications_roll_back_with_the_change_that_wrote_them(supervisor):
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.notify_supervisors(kind="threat_to_life", message="m", object_type="item", object_id=1)
        raise RuntimeError("the action failed after notifying")
    assert rows() == []
