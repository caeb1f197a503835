"""Notifications built through the workflow: a threat to life flagged by the analyst tells the supervisors."""

import pytest

from accounts.models import User
from cases.actions import assessment
from cases.actions import items as item_actions
from notifications import actions


def flag_threat_to_life(analyst, case, url="https://tube.example/watch?v=ttl1"):
    """The analyst logs an item and assesses it as a threat to life (the supervisors are told)."""
    item = item_actions.item_log(actor=analyst, case=case, url=url, kind="post", categories=["threat"])
    return assessment.item_assess(actor=analyst, item_id=item.pk, categories=["threat"], severity=7, confidence=3,
                                  threat_to_life=True)


def with_email(user, address: str):
    """An administrator gave the user an address (the admin's form; no workflow of the desk sets it)."""
    User.objects.filter(pk=user.pk).update(email=address)
    user.refresh_from_db()
    return user


@pytest.fixture
def threat(analyst, case, platform_a, supervisor):
    return flag_threat_to_life(analyst, case)


@pytest.fixture
def wants_email(supervisor):
    """The supervisor asked for urgent notifications by email, and has an address."""
    actions.notification_preferences_set(actor=supervisor, email_urgent=True)
    return with_email(supervisor, "sara@iru.invalid")
