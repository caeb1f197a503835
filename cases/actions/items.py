"""Items: logging, proposing, holding, releasing, discarding and moving; the Item transition table.

Each function is one transaction: lock the row, check the move against ITEM_ALLOWED, save, write one AuditEvent per
changed object. Only this module assigns `Item.status` (approval, return and rejection go through `item_transition`).
"""

import json
import logging
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from audit import chain as audit
from cases.models import Case, CaseStatus, Category, Item, ItemKind, ItemStatus
from core.compiled import CompiledQuery
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted, TransitionNotAllowed
from core.roles import DECIDERS, LOGGERS, PROPOSERS, TRIAGERS, require_role
from notifications.actions import notify_users
from platforms.content_urls import MAX_URL_LENGTH, InvalidURL, canonicalize, resolve_platform, validate_url
from platforms.models import Platform

log = logging.getLogger(__name__)


S = ItemStatus


ITEM_ALLOWED: dict[str, set[str]] = {
    S.LOGGED: {S.PROPOSED, S.DISCARDED, S.ON_HOLD},
    S.RETURNED: {S.PROPOSED, S.DISCARDED, S.ON_HOLD},
    S.PROPOSED: {S.APPROVED, S.RETURNED, S.REJECTED, S.ON_HOLD},
    S.ON_HOLD: {S.LOGGED},
    S.APPROVED: set(),
    S.REJECTED: set(),
    S.DISCARDED: set(),
}


def check_item_move(item: Item, target: str) -> None:
    if target not in ITEM_ALLOWED[item.status]:
        raise TransitionNotAllowed(
            f"Item {item.pk} is '{item.status}'; it cannot become '{target}'.",
        )


def check_categorised(item: Item, doing: str) -> None:
    """A referral must say why the content is terrorist content (TCO Regulation Art 2(7)): an item is proposed
    or approved only with at least one category. Raises InvalidInput with a `categories` field error."""
    if not item.categories:
        raise InvalidInput(
            f"Item {item.pk} has no category; it cannot be {doing} until it says why it is terrorist content.",
            field_errors={"categories": [
                "Give at least one category: why this is terrorist content (TCO Regulation Art 2(7))."
            ]},
        )


# Compiled once (core/compiled.py): the ORM built it in 0.4 ms of CPU, the compiled one runs in 0.1 ms.
_LOCK_ITEM = CompiledQuery(lambda pk: Item.objects.select_for_update(no_key=True).filter(pk=pk))


def lock_item(item_id: int) -> Item:
    found = _LOCK_ITEM.instances(Item, int(item_id))
    if not found:
        raise NotFound(f"Item {item_id} does not exist.")
    return found[0]


def item_log(
    *,
    actor,
    case: Case,
    url: str,
    kind: str,
    categories: list[str] | None = None,
    language: str = "",
    notes: str = "",
    platform_slug: str | None = None,
) -> Item:
    """Log a suspected item in a case.

    Checks the URL (http(s), a host, no credentials or control characters, ≤ 2,048 characters), kind and
    categories; resolves the platform from the URL's host unless one is named. An item whose canonical URL is
    already known is linked to the first one (`duplicate_of`), never dropped. Raises InvalidInput with field
    errors and stores nothing on bad input.
    """
    require_role(actor, LOGGERS, "logging items")
    errors: dict[str, list[str]] = {}
    try:
        url = validate_url(url)
        canonical = canonicalize(url)
        if len(canonical) > MAX_URL_LENGTH:  # percent-encoding can lengthen a URL that was just within it
            raise InvalidURL(f"The URL's canonical form is longer than {MAX_URL_LENGTH} characters.")
    except InvalidURL as exc:
        errors["url"] = [str(exc)]
    if kind not in ItemKind.values:
        errors["kind"] = [f"'{kind}' is not one of: {', '.join(ItemKind.values)}."]
    categories = list(categories or [])
    bad = [c for c in categories if c not in Category.values]
    if bad:
        errors["categories"] = [f"Unknown categories {bad}; use: {', '.join(Category.values)}."]
    platform = None
    if platform_slug:
        platform = Platform.objects.filter(slug=platform_slug).first()
        if platform is None:
            errors["platform"] = [f"No platform '{platform_slug}'."]
    if len(language or "") > 16:
        errors["language"] = ["At most 16 characters (a language code such as 'ar' or 'en')."]
    if case.status != "open":
        errors["case"] = [f"Case {case.pk} is closed."]
    if errors:
        raise InvalidInput("The item was not logged.", field_errors=errors)
    if platform is None:
        platform = resolve_platform(url)
    with transaction.atomic():
        original = (
            Item.objects.filter(canonical_url=canonical, duplicate_of__isnull=True).order_by("id").first()
        )
        item = Item.objects.create(
            case=case,
            url=url,
            canonical_url=canonical,
            platform=platform,
            kind=kind,
            categories=sorted(set(categories)),
            language=language or "",
            notes=notes or "",
            duplicate_of=original,
            logged_by=actor,
        )
        audit.record(
            actor=actor,
            verb="item.logged",
            obj=item,
            after={"status": item.status, "url": url, "case": case.pk, "duplicate_of": original and original.pk},
        )
    return item


def items_approve_locked(items: list[Item], *, actor, now) -> None:
    """Review's move of items the caller has locked and checked (referral/actions/approval.py: four-eyes, platform,
    contact points): proposed → approved, checked against ITEM_ALLOWED, in one UPDATE. The caller writes the audit
    (with the referrals it creates)."""
    require_role(actor, DECIDERS, "approving items")
    for item in items:
        check_item_move(item, S.APPROVED)
    Item.objects.filter(pk__in=[i.pk for i in items]).update(status=S.APPROVED, decided_by=actor, updated_at=now)
    for item in items:
        item.status, item.decided_by, item.updated_at = S.APPROVED, actor, now


class LockedItem:
    """A locked item as bulk approval reads it: the values its checks use, not a model instance."""

    __slots__ = ("pk", "status", "proposed_by_id", "categories", "platform_id", "canonical_url", "url", "platform",
                 "decided_by", "updated_at")

    def __init__(self, pk, status, proposed_by_id, categories, platform_id, canonical_url, url, slug):
        self.pk, self.status, self.proposed_by_id = pk, status, proposed_by_id
        self.categories = json.loads(categories) if isinstance(categories, str) else categories
        self.platform_id, self.canonical_url, self.url = platform_id, canonical_url, url
        self.platform = SimpleNamespace(slug=slug)


def lock_items_for_approval(ids: list[int]) -> dict[int, LockedItem]:
    """Lock the items in id order (FOR NO KEY UPDATE of the items alone, core/locking.py) and read them."""
    rows = (Item.objects.select_for_update(of=("self",), no_key=True).filter(pk__in=ids).order_by("id")
            .values_list("id", "status", "proposed_by_id", "categories", "platform_id", "canonical_url", "url",
                         "platform__slug"))
    return {row[0]: LockedItem(*row) for row in rows}


def item_propose(*, actor, item_id: int) -> Item:
    """An analyst proposes a logged (or returned) item for referral; it needs at least one category."""
    require_role(actor, PROPOSERS, "proposing items")
    with transaction.atomic():
        item = lock_item(item_id)
        check_item_move(item, S.PROPOSED)
        check_categorised(item, "proposed")
        before = item.status
        item.status = S.PROPOSED
        item.proposed_by = actor
        item.proposed_at = timezone.now()
        item.save(update_fields=["status", "proposed_by", "proposed_at", "updated_at"])
        audit.record(actor=actor, verb="item.proposed", obj=item, before={"status": before},
                     after={"status": item.status})
    return item


# Who may take an item to each decided status: analysts and supervisors discard; only supervisors reject or return.
DECIDED_BY = {S.DISCARDED: TRIAGERS, S.REJECTED: DECIDERS, S.RETURNED: DECIDERS}


def item_decide(*, actor, item_id: int, target: str, reason: str, verb: str) -> Item:
    """An item to a decided status (discarded, rejected, returned) with a reason; `verb` names the audit event.
    Discarding is item_discard's; rejecting and returning are review's (referral/actions/approval.py)."""
    if target not in DECIDED_BY:
        raise TransitionNotAllowed(f"'{target}' is not a decision on an item.")
    require_role(actor, DECIDED_BY[target], f"making an item {target}")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", field_errors={"reason": ["This field may not be blank."]})
    with transaction.atomic():
        item = lock_item(item_id)
        check_item_move(item, target)
        before = item.status
        item.status = target
        item.decided_by = actor
        item.decision_reason = reason
        item.save(update_fields=["status", "decided_by", "decision_reason", "updated_at"])
        audit.record(actor=actor, verb=verb, obj=item, before={"status": before},
                     after={"status": target, "reason": reason})
        if target == S.RETURNED:
            notify_users([item.proposed_by_id], kind="item_returned", object_type="item", object_id=item.pk,
                         message=f"Item {item.pk} was returned to you by {actor.get_username()}: {reason}")
    return item


def items_decide_many(*, actor, item_ids, target: str, reason: str, verb: str) -> dict:
    """Many items to a decided status (rejected, returned) with one reason, in one transaction and a fixed number
    of statements: each item is checked as by item_decide; the ones that fail are left unchanged and reported.
    Returns {"done": [ids], "errors": [{"item", "detail", "status_code"}]}."""
    if target not in DECIDED_BY:
        raise TransitionNotAllowed(f"'{target}' is not a decision on an item.")
    require_role(actor, DECIDED_BY[target], f"making items {target}")
    reason = _reason(reason)
    ids = sorted({int(i) for i in item_ids})
    result = {"done": [], "errors": []}
    with transaction.atomic():
        found = dict(Item.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=ids).order_by("pk")
                     .values_list("pk", "status"))
        for item_id in ids:
            status = found.get(item_id)
            if status is None:
                result["errors"].append({"item": item_id, "detail": f"Item {item_id} does not exist.",
                                         "status_code": 404})
            elif target not in ITEM_ALLOWED[status]:
                result["errors"].append({"item": item_id, "status_code": 409,
                                         "detail": f"Item {item_id} is '{status}'; it cannot become '{target}'."})
            else:
                result["done"].append(item_id)
        if result["done"]:
            now = timezone.now()
            Item.objects.filter(pk__in=result["done"]).update(status=target, decided_by=actor, decision_reason=reason,
                                                              updated_at=now)
            audit.record_many([{"actor": actor, "verb": verb, "object_type": "item", "object_id": pk,
                                "before": {"status": found[pk]}, "after": {"status": target, "reason": reason}}
                               for pk in result["done"]])
            if target == S.RETURNED:  # one notification per proposer, not one per item
                mine: dict[int, list[int]] = {}
                for pk, proposer in Item.objects.filter(pk__in=result["done"]).values_list("pk", "proposed_by_id"):
                    mine.setdefault(proposer, []).append(pk)
                for proposer, pks in mine.items():
                    listed = ", ".join(map(str, pks[:20])) + (" …" if len(pks) > 20 else "")
                    notify_users([proposer], kind="item_returned", object_type="item", object_id=pks[0],
                                 message=f"{len(pks)} item{'s' if len(pks) > 1 else ''} returned to you by "
                                         f"{actor.get_username()} ({listed}): {reason}")
    return result


# A release is its own move: back to the status the hold found the item in. These targets are deliberately not
# in ITEM_ALLOWED[on_hold], so that no other verb (propose, return, approve) can take an item out of its hold.
ITEM_RELEASE_TARGETS = {S.LOGGED, S.RETURNED, S.PROPOSED}


ITEM_FINAL = {S.APPROVED, S.REJECTED, S.DISCARDED}


def _reason(value: str, field: str = "reason", message: str = "Give a reason.") -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, field_errors={field: ["This field may not be blank."]})
    return value


def _bulk(item_ids, run) -> dict:
    """Run `run(item_id)` for each id in one transaction, each in a savepoint; refusals are reported, not raised.

    Returns {"done": [ids], "errors": [{"item", "detail", "status_code"}]}.
    """
    result = {"done": [], "errors": []}
    ids = sorted({int(i) for i in item_ids})
    with transaction.atomic():
        # Every item first, in id order: `run` writes audit events, and nothing is locked after the audit chain's
        # lock (core/locking.py).
        list(Item.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk"))
        for item_id in ids:
            try:
                with transaction.atomic():
                    run(item_id)
            except (TransitionNotAllowed, NotPermitted, NotFound, Conflict, InvalidInput) as exc:
                result["errors"].append({"item": item_id, "detail": exc.message, "status_code": exc.status_code})
            else:
                result["done"].append(item_id)
    return result


def item_discard(*, actor, item_id: int, reason: str) -> Item:
    """An analyst (or supervisor) discards a logged or returned item as not to be referred; a reason is required."""
    require_role(actor, TRIAGERS, "discarding items")
    reason = _reason(reason)
    return item_decide(actor=actor, item_id=item_id, target=S.DISCARDED, reason=reason, verb="item.discarded")


def item_hold(*, actor, item_id: int, reason: str, requested_by: str) -> Item:
    """Put an open item (logged, returned, proposed) on hold for deconfliction: another investigation needs the
    content left up. The reason and the requesting party are required; the status it was held from is kept for
    the release. A held item cannot be proposed, approved or returned until released."""
    require_role(actor, TRIAGERS, "holding items")
    reason = _reason(reason)
    requested_by = _reason(requested_by, "requested_by", "Name who asked for the hold.")
    if len(requested_by) > 300:
        raise InvalidInput("The requesting party is too long.", field_errors={"requested_by": ["At most 300."]})
    with transaction.atomic():
        item = lock_item(item_id)
        check_item_move(item, S.ON_HOLD)
        before = item.status
        item.held_from_status = before
        item.status = S.ON_HOLD
        item.hold_reason = reason
        item.hold_requested_by = requested_by
        item.save(update_fields=["status", "held_from_status", "hold_reason", "hold_requested_by", "updated_at"])
        audit.record(actor=actor, verb="item.held", obj=item, before={"status": before},
                     after={"status": S.ON_HOLD, "reason": reason, "requested_by": requested_by})
    return item


def item_release(*, actor, item_id: int) -> Item:
    """Release a held item back to the status it was held from (logged, returned or proposed); anything else
    (an old hold without that record) goes back to logged. The hold's reason and requester stay in the audit
    trail; the item's fields are cleared."""
    require_role(actor, TRIAGERS, "releasing items")
    with transaction.atomic():
        item = lock_item(item_id)
        if item.status != S.ON_HOLD:
            raise TransitionNotAllowed(f"Item {item.pk} is '{item.status}'; only an item on hold can be released.")
        target = item.held_from_status if item.held_from_status in ITEM_RELEASE_TARGETS else S.LOGGED
        before = {"status": item.status, "reason": item.hold_reason, "requested_by": item.hold_requested_by}
        item.status = target
        item.held_from_status = ""
        item.hold_reason = ""
        item.hold_requested_by = ""
        item.save(update_fields=["status", "held_from_status", "hold_reason", "hold_requested_by", "updated_at"])
        audit.record(actor=actor, verb="item.released", obj=item, before=before, after={"status": target})
    return item


def _lock_open_case(case_id) -> Case:
    case = Case.objects.select_for_update(no_key=True).filter(pk=case_id).first() if str(case_id).isdigit() else None
    if case is None:
        raise NotFound(f"Case {case_id} does not exist.")
    if case.status != CaseStatus.OPEN:
        raise TransitionNotAllowed(f"Case {case.pk} is '{case.status}'; items cannot be moved into it.")
    return case


def item_move(*, actor, item_ids: list[int], case_id: int) -> dict:
    """Move items to another open case, in one transaction; one `item.moved` event per item.

    A closed or unknown target case refuses the whole batch (TransitionNotAllowed / NotFound); an item already in
    that case, or unknown, is reported in "errors". Returns {"done", "errors"}.
    """
    require_role(actor, TRIAGERS, "moving items")
    with transaction.atomic():
        case = _lock_open_case(case_id)

        def move(item_id):
            item = lock_item(item_id)
            if item.case_id == case.pk:
                raise Conflict(f"Item {item.pk} is in case {case.pk} already.")
            before = item.case_id
            item.case = case
            item.save(update_fields=["case", "updated_at"])
            audit.record(actor=actor, verb="item.moved", obj=item, before={"case": before}, after={"case": case.pk})

        return _bulk(item_ids, move)


def item_propose_many(*, actor, item_ids: list[int]) -> dict:
    """item_propose for each item, in one transaction; refusals reported per item. Returns {"done", "errors"}."""
    require_role(actor, PROPOSERS, "proposing items")
    return _bulk(item_ids, lambda item_id: item_propose(actor=actor, item_id=item_id))


def item_discard_many(*, actor, item_ids: list[int], reason: str) -> dict:
    """item_discard for each item with one reason (required up front). Returns {"done", "errors"}."""
    require_role(actor, TRIAGERS, "discarding items")
    reason = _reason(reason)
    return _bulk(item_ids, lambda item_id: item_discard(actor=actor, item_id=item_id, reason=reason))


def item_hold_many(*, actor, item_ids: list[int], reason: str, requested_by: str) -> dict:
    """item_hold for each item with one reason and requesting party (both required up front)."""
    require_role(actor, TRIAGERS, "holding items")
    reason = _reason(reason)
    requested_by = _reason(requested_by, "requested_by", "Name who asked for the hold.")
    return _bulk(item_ids, lambda item_id: item_hold(actor=actor, item_id=item_id, reason=reason,
                                                     requested_by=requested_by))

