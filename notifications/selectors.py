"""Reads of notifications: a person's list, their unread count (the header's), and the path each one links to."""

from django.urls import NoReverseMatch, reverse

from core.compiled import CompiledQuery
from notifications.models import Notification, ObjectType

COUNT_CAP = 99  # the header shows "99+" beyond: counting stops there, so the count costs the same however many

# Where a notification about each kind of object leads (the object's page; a delivery's is its dead-letter row).
PAGES = {
    ObjectType.ITEM: ("item-detail", ""),
    ObjectType.REFERRAL: ("referral-detail", ""),
    ObjectType.IMPORT: ("import-detail", ""),
    ObjectType.CASE: ("case-detail", ""),
    ObjectType.DELIVERY: ("dead-letters", "#delivery-{}"),
}


def link_for(object_type: str, object_id: str) -> str | None:
    """The path of what a notification is about, or None when it has no page (an unknown type or a malformed
    id). Computed, not stored: a page that moves takes its old notifications with it."""
    if object_type not in PAGES:
        return None
    name, fragment = PAGES[object_type]
    try:
        path = reverse(name) if fragment else reverse(name, args=[object_id])
    except NoReverseMatch:
        return None
    return path + fragment.format(object_id)


def notifications_for(user):
    """A person's own notifications (newest first when paged by id); nobody reads another's."""
    return Notification.objects.filter(recipient_id=user.pk).only(
        "id", "kind", "message", "object_type", "object_id", "created_at", "read_at", "urgent", "email_status")


_UNREAD = CompiledQuery(  # the header's count on every page: its SQL compiled once (core/compiled.py)
    lambda recipient_id: Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True)[: COUNT_CAP + 1])


def unread_count(user) -> int:
    """Unread notifications of `user`, counted up to COUNT_CAP + 1: one COUNT over a LIMIT, answered from the
    partial index of unread rows (notification_unread_idx)."""
    return _UNREAD.count(user.pk)


def count_label(count: int) -> str:
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)


def header_count(user) -> dict:
    """What the header's link shows (notifications/_count.html): the unread count and its label."""
    count = unread_count(user)
    return {"unread": count, "unread_label": count_label(count)}
