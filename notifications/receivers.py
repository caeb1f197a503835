"""Signals of the layers below that become notifications (connected in notifications/apps.py)."""

from accounts.signals import api_key_issued
from notifications import actions


def _api_key_issued(sender, *, key, user, actor, **kwargs):
    actions.notify_api_key_issued(key=key, user=user, actor=actor)


def connect() -> None:
    api_key_issued.connect(_api_key_issued, dispatch_uid="notifications.api_key_issued")
