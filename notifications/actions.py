"""Notifications: written by the desk's actions inside their own transactions, read and marked read by their
recipients. The email of urgent ones goes through the outbox in notifications/outbox.py.

Who is told what (docs/operations.md, "Notifications"): supervisors of a threat to life and of an overdue removal
order; the proposer and approver of a dead letter, a platform's `needs_info` or decline; an import's author when
it is done; an item's proposer when it is returned. Liaisons receive none for now (a message may name another
platform's content).
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit import chain as audit
from core.enqueue import send_task_on_commit
from core.errors import NotFound
from core.roles import ADMINS, LIAISONS, SUPERVISORS, UNIT_STAFF, require_role
from notifications.models import URGENT_KINDS, EmailStatus, Notification, NotificationKind, ObjectType

EMAIL_TASK = "notifications.send_emails"
MESSAGE_MAX = 2000


def _notify(people, *, kind: str, message: str, object_type: str, object_id, actor=None,
            roles=UNIT_STAFF) -> list[Notification]:
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    if object_type not in ObjectType.values:
        raise ValueError(f"Unknown notification object type {object_type!r}.")
    people = people.filter(is_active=True, role__in=roles)
    if actor is not None:
        people = people.exclude(pk=actor.pk)
    urgent = kind in URGENT_KINDS
    now = timezone.now()
    rows = []
    for user_id, wants_email, email in people.order_by("pk").values_list("pk", "email_urgent_notifications",
                                                                          "email"):
        emailed = urgent and wants_email and bool(email)
        rows.append(Notification(
            recipient_id=user_id, kind=kind, message=message[:MESSAGE_MAX], object_type=object_type,
            object_id=str(object_id), urgent=urgent,
            email_status=EmailStatus.PENDING if emailed else EmailStatus.NONE,
            email_next_attempt_at=now if emailed else None,
        ))
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    if any(row.email_status == EmailStatus.PENDING for row in rows):
        send_task_on_commit(EMAIL_TASK)
    return created


def notify(*, recipients, kind: str, message: str, object_type: str, object_id, actor=None) -> list[Notification]:
    """One notification per active member of the unit among `recipients` (users or user ids; None and repeats
    are ignored), written in the caller's transaction (call it inside the action's `transaction.atomic()`: the
    rows commit or roll back with the change they tell about). `actor`, if given, is not told of their own act.

    An urgent kind (threat to life, overdue removal order, dead letter) is also queued for email to recipients
    who asked for it (`email_urgent_notifications`) and have an address; the email task is nudged after commit
    and a beat sweep picks up whatever the nudge missed. Costs two queries (the recipients, one INSERT).
    """
    ids = {getattr(r, "pk", r) for r in recipients} - {None}
    if not ids:
        return []
    return _notify(User.objects.filter(pk__in=sorted(ids)), kind=kind, message=message, object_type=object_type,
                   object_id=object_id, actor=actor)


def notify_users(user_ids, *, kind: str, message: str, object_type: str, object_id, actor=None) -> list[Notification]:
    """notify() for a list of user ids (e.g. an item's proposer and a referral's approver)."""
    return notify(recipients=user_ids, kind=kind, message=message, object_type=object_type, object_id=object_id,
                  actor=actor)


def notify_supervisors(*, kind: str, message: str, object_type: str, object_id, actor=None) -> list[Notification]:
    """notify() for every active supervisor."""
    return _notify(User.objects.filter(role__in=SUPERVISORS), kind=kind, message=message, object_type=object_type,
                   object_id=object_id, actor=actor)


def notification_mark_read(*, actor, notification_id: int) -> Notification:
    """The recipient marks one of their notifications read (again: nothing changes). Another person's
    notification, or one that does not exist, is NotFound: no one learns what others were told. Audited as
    `notification.read` (who saw a threat to life, and when, is part of the record)."""
    with transaction.atomic():
        notification = (Notification.objects.select_for_update(no_key=True)
                        .filter(pk=notification_id, recipient_id=getattr(actor, "pk", None)).first())
        if notification is None:
            raise NotFound(f"Notification {notification_id} does not exist.")
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            audit.record(actor=actor, verb="notification.read", obj=notification, before={"read_at": None},
                         after={"kind": notification.kind, "read_at": notification.read_at.isoformat()})
    return notification


def notifications_mark_all_read(*, actor) -> int:
    """The recipient marks every unread notification of theirs read: one UPDATE and one `notification.read`
    event per notification, in one transaction. Returns how many were unread."""
    with transaction.atomic():
        now = timezone.now()
        unread = list(Notification.objects.select_for_update(no_key=True)
                      .filter(recipient_id=getattr(actor, "pk", None), read_at__isnull=True)
                      .order_by("pk").values_list("pk", "kind"))
        if not unread:
            return 0
        Notification.objects.filter(pk__in=[pk for pk, _ in unread]).update(read_at=now)
        audit.record_many([{"actor": actor, "verb": "notification.read", "object_type": "notification",
                            "object_id": pk, "before": {"read_at": None},
                            "after": {"kind": kind, "read_at": now.isoformat()}} for pk, kind in unread])
    return len(unread)


def notification_preferences_set(*, actor, email_urgent: bool) -> User:
    """A member of the unit chooses whether urgent notifications are also emailed to them. Audited."""
    require_role(actor, UNIT_STAFF, "choosing how you are notified")
    with transaction.atomic():
        before = actor.email_urgent_notifications
        actor.email_urgent_notifications = bool(email_urgent)
        actor.save(update_fields=["email_urgent_notifications"])
        if before != actor.email_urgent_notifications:
            audit.record(actor=actor, verb="user.preferences_changed", obj=actor,
                         before={"email_urgent_notifications": before},
                         after={"email_urgent_notifications": actor.email_urgent_notifications})
    return actor


def notify_api_key_issued(*, key, user, actor) -> list[Notification]:
    """A key was issued for `user` by someone else (an admin in the browser, or the command line: `actor` None):
    `user` and the other admins are told, urgently (also by email to those who asked), so that a key nobody asked
    for is noticed. A key one issues for oneself tells only the other admins. The message names the key by its
    prefix, never the key. Liaisons are told too (the message names nothing of any platform)."""
    by = actor.username if actor is not None else "the command line"
    message = (f"An API key ({key.prefix}…, \"{key.name}\") was issued for {user.username} by {by}. If nobody "
               "expected it, an admin revokes it in the admin's API keys.")
    people = User.objects.filter(role__in=ADMINS)
    if actor is None or actor.pk != user.pk:
        people = people | User.objects.filter(pk=user.pk)
    return _notify(people, kind=NotificationKind.API_KEY_ISSUED, message=message, object_type=ObjectType.API_KEY,
                   object_id=key.prefix, actor=actor, roles=UNIT_STAFF | LIAISONS)
