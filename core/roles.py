"""Who may do what: the four roles and the named sets of them, defined once.

Views (`core.access.role_required`), API permissions (`core.permissions`), templates (the `desk_status` context)
and the action functions (`require_role`) all use these sets; none spells a role list of its own.
"""

from django.db import models

from core.errors import NotPermitted


class Role(models.TextChoices):
    ANALYST = "analyst", "Analyst"
    SUPERVISOR = "supervisor", "Supervisor"
    LIAISON = "liaison", "Platform liaison"
    ADMIN = "admin", "Administrator"


# The unit's own people: they see cases, items, referrals and evidence.
UNIT_STAFF = frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})
# They log items, triage the queue, assess, hold and release, and take cases.
TRIAGERS = frozenset({Role.ANALYST, Role.SUPERVISOR})
LOGGERS = TRIAGERS
# Four-eyes: analysts propose, supervisors decide (approve, return, reject) and never on their own proposals.
PROPOSERS = frozenset({Role.ANALYST})
DECIDERS = frozenset({Role.SUPERVISOR})
# Close and reopen cases, re-drive dead letters.
SUPERVISORS = frozenset({Role.SUPERVISOR})
# Resolve alerts, re-enable contact points.
ALERT_HANDLERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
# Submit a manual delivery through a platform's web form.
MANUAL_SUBMITTERS = TRIAGERS
# A platform's liaison reports on its own platform's referrals only.
LIAISONS = frozenset({Role.LIAISON})
# Referrals are readable by the unit and, scoped to their own platform, by liaisons.
REFERRAL_READERS = UNIT_STAFF | LIAISONS
# Platforms, contact points, users and keys.
ADMINS = frozenset({Role.ADMIN})


def has_role(actor, roles) -> bool:
    return actor is not None and getattr(actor, "role", None) in roles


def require_role(actor, roles, what: str) -> None:
    """Raise NotPermitted unless the actor has one of `roles`; `what` names the action refused."""
    if not has_role(actor, roles):
        raise NotPermitted(f"Your role does not allow {what}.")


def require_role_or_system(actor, roles, what: str) -> None:
    """As require_role, but `actor=None` is the operator on the server (a management command, the demo loader):
    the administrative services (users, keys, platforms) are also run from the command line."""
    if actor is not None:
        require_role(actor, roles, what)
