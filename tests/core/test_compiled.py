"""Queries compiled once (core/compiled.py): the same answers as the ORM's, for the header's counts and the device
lookup that every signed-in page runs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import DeskOTPMiddleware
from core.compiled import CompiledQuery
from notifications import actions
from notifications.models import Notification
from notifications.selectors import unread_count
from referral.context_processors import DeskStatus

pytestmark = pytest.mark.both_databases


def test_count_runs_the_orms_count_with_the_values_put_in(analyst, supervisor):
    actions.notify_users([analyst.pk] * 1 + [supervisor.pk], kind="dead_letter", message="m", object_type="item",
                         object_id=1)
    actions.notify_users([analyst.pk], kind="dead_letter", message="m2", object_type="item", object_id=2)
    query = CompiledQuery(lambda pk: Notification.objects.filter(recipient_id=pk, read_at__isnull=True)[:1])
    assert [query.count(analyst.pk), query.count(supervisor.pk), query.count(0)] == [1, 1, 0]  # the slice counts
    for user in (analyst, supervisor):
        expected = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        with CaptureQueriesContext(connection) as captured:  # one statement, also when it is compiled
            assert unread_count(user) == expected
        assert len(captured) == 1


def test_the_header_reads_the_same_alerts_and_counts(supervisor):
    from alerts.models import Alert

    for n in range(5):
        Alert.objects.create(kind="test", message=f"alert {n}")
    Alert.objects.filter(message="alert 4").update(resolved_at="2026-01-01T00:00:00Z")
    desk = DeskStatus("supervisor")
    assert [a.message for a in desk.latest_alerts] == ["alert 3", "alert 2", "alert 1"]
    assert desk.alert_count == 4 and desk.latest_alerts[0].created_at.tzinfo is not None
    assert desk.manual_task_count == 0 and DeskStatus("analyst").manual_task_count is None


def test_the_sessions_device_is_the_one_django_otp_would_load(supervisor, analyst):
    middleware = DeskOTPMiddleware(lambda request: None)
    totp = TOTPDevice.objects.get(user=supervisor)
    static = StaticDevice.objects.create(user=analyst, name="Recovery codes")
    for device in (totp, static):
        found = middleware._device_from_persistent_id(device.persistent_id)
        assert type(found) is type(device) and found.pk == device.pk and found.user_id == device.user_id
        assert found.confirmed == device.confirmed and found.name == device.name
    legacy = f"django_otp.plugins.otp_totp.models.TOTPDevice/{totp.pk}"
    for wrong in (f"otp_totp.totpdevice/{static.pk + totp.pk + 1}", "otp_totp.totpdevice/x", "nothing/1",
                  "accounts.user/1", "otp_totp.nomodel/1", "a.b.c/1", legacy):
        expected = totp if wrong.startswith("django_otp.") else None  # the legacy form django-otp still reads
        assert middleware._device_from_persistent_id(wrong) == expected, wrong


def test_the_session_users_load_is_the_orms(analyst, liaison_a, platform_a):
    from accounts.models import User

    loaded = User.objects.get(pk=analyst.pk)
    assert type(loaded) is User and loaded.pk == analyst.pk and loaded._state.adding is False
    assert (loaded.username, loaded.role, loaded.password, loaded.is_active) == (
        analyst.username, analyst.role, analyst.password, True)
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=analyst.pk + liaison_a.pk + 1000)
    # A related manager (a subclass of the model's manager) keeps its relation's filter.
    assert platform_a.liaisons.get(pk=liaison_a.pk) == liaison_a
    with pytest.raises(User.DoesNotExist):
        platform_a.liaisons.get(pk=analyst.pk)
    assert User.objects.get(pk=str(analyst.pk)) == analyst  # other calls: the ORM's
