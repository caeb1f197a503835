"""Assessment and assignment of items: the triage queue's order comes from here."""

from django.db import transaction

from alerts.models import Alert
from audit import chain as audit
from cases.actions.items import ITEM_FINAL, lock_item
from cases.models import Category, Group, Item
from core.errors import InvalidInput, TransitionNotAllowed
from core.roles import TRIAGERS, require_role
from notifications.actions import notify_supervisors

SEVERITY_MAX = 7


CONFIDENCE_MAX = 3


PRIORITY_THREAT_TO_LIFE = 10


def item_priority(*, severity: int | None, confidence: int | None, threat_to_life: bool) -> int:
    """The triage queue's order, 0–10, from the assessment (docs/triage.md).

    priority = round(severity × 10/7 × (0.4 + 0.2 × confidence)), capped to 0..9; a threat to life is 10.
    Severity 0–7 sets the scale; confidence 0–3 weighs it from 40 % (a hunch) to 100 % (confirmed), so a
    confirmed severity 7 is 9 and an unconfirmed one 4. Unassessed (no severity) is 0; no confidence counts
    as 0. Only a threat to life reaches 10: it stays above everything else.
    """
    if threat_to_life:
        return PRIORITY_THREAT_TO_LIFE
    if severity is None:
        return 0
    raw = severity * 10 / 7 * (0.4 + 0.2 * (confidence or 0))
    return max(0, min(9, int(raw + 0.5)))  # half up, not banker's rounding: 3.5 → 4 on every machine


def _assessment(item: Item) -> dict:
    return {"categories": list(item.categories or []), "group": item.group_id, "language": item.language,
            "severity": item.severity, "confidence": item.confidence, "threat_to_life": item.threat_to_life,
            "priority": item.priority}


def _validated(*, categories, group_id, language, severity, confidence) -> tuple:
    """The assessment's values, cleaned: (categories, group, language); InvalidInput with field errors if bad."""
    errors: dict[str, list[str]] = {}
    categories = sorted(set(categories or []))
    bad = [c for c in categories if c not in Category.values]
    if bad:
        errors["categories"] = [f"Unknown categories {bad}; use: {', '.join(Category.values)}."]
    language = (language or "").strip()
    if len(language) > 16:
        errors["language"] = ["At most 16 characters (a language code such as 'ar' or 'en')."]
    for field, value, top in (("severity", severity, SEVERITY_MAX), ("confidence", confidence, CONFIDENCE_MAX)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top):
            errors[field] = [f"A whole number from 0 to {top}."]
    group = None
    if group_id not in (None, ""):
        group = Group.objects.filter(pk=group_id, active=True).first() if str(group_id).isdigit() else None
        if group is None:
            errors["group"] = [f"No active group {group_id} in the managed list."]
    if errors:
        raise InvalidInput("The assessment was not saved.", field_errors=errors)
    return categories, group, language


def _apply_locked(item: Item, *, actor, categories, group, language, severity, confidence, threat_to_life) -> Item:
    if item.status in ITEM_FINAL:
        raise TransitionNotAllowed(f"Item {item.pk} is '{item.status}'; its assessment can no longer change.")
    before = _assessment(item)
    raised_flag = bool(threat_to_life) and not item.threat_to_life
    item.categories = categories
    item.group = group
    item.language = language
    item.severity = severity
    item.confidence = confidence
    item.threat_to_life = bool(threat_to_life)
    item.priority = item_priority(severity=severity, confidence=confidence, threat_to_life=item.threat_to_life)
    after = _assessment(item)
    if after == before:
        return item
    item.save(update_fields=["categories", "group", "language", "severity", "confidence", "threat_to_life",
                             "priority", "updated_at"])
    if raised_flag:
        alert = Alert.objects.create(
            kind="threat_to_life",
            message=f"Threat to life: item {item.pk} ({item.url[:200]}) in case {item.case_id}, flagged by "
                    f"{actor.get_username()}. Act on it first.",
        )
        after["alert"] = alert.pk
        notify_supervisors(kind="threat_to_life", message=alert.message, object_type="item", object_id=item.pk,
                           actor=actor)
    audit.record(actor=actor, verb="item.assessed", obj=item, before=before, after=after)
    return item


def item_assess(*, actor, item_id: int, categories: list[str] | None = None, group_id: int | None = None,
                language: str = "", severity: int | None = None, confidence: int | None = None,
                threat_to_life: bool = False) -> Item:
    """Record an analyst's (or supervisor's) assessment of an open item and recompute its priority.

    Checks the categories (TCO Art 2(7)), the group (from the managed list, active), the language code
    (≤ 16 characters), severity 0–7 and confidence 0–3; raises InvalidInput with field errors and changes
    nothing on bad input. Refuses items in a final status (TransitionNotAllowed). Writes one `item.assessed`
    event with the assessment before and after. Raising the threat-to-life flag creates an Alert for the
    supervisors in the same transaction (they see it on every page at once).
    """
    require_role(actor, TRIAGERS, "assessing items")
    categories, group, language = _validated(categories=categories, group_id=group_id, language=language,
                                             severity=severity, confidence=confidence)
    with transaction.atomic():
        return _apply_locked(lock_item(item_id), actor=actor, categories=categories, group=group, language=language,
                             severity=severity, confidence=confidence, threat_to_life=threat_to_life)


ASSESSMENT_FIELDS = ("categories", "group", "language", "severity", "confidence", "threat_to_life")


def item_assess_fields(*, actor, item_id: int, changes: dict) -> Item:
    """Change some of an item's assessment (the API's partial form): `changes` holds any of ASSESSMENT_FIELDS
    (`group` an id or None); the others keep their current values, read under the item's lock so that two
    partial assessments at once lose neither. Otherwise as item_assess."""
    require_role(actor, TRIAGERS, "assessing items")
    unknown = sorted(set(changes) - set(ASSESSMENT_FIELDS))
    if unknown:
        raise InvalidInput("The assessment was not saved.",
                           field_errors={name: ["Not a field of the assessment."] for name in unknown})
    with transaction.atomic():
        item = lock_item(item_id)
        merged = {"categories": item.categories, "group": item.group_id, "language": item.language,
                  "severity": item.severity, "confidence": item.confidence, "threat_to_life": item.threat_to_life,
                  **changes}
        categories, group, language = _validated(categories=merged["categories"], group_id=merged["group"],
                                                 language=merged["language"], severity=merged["severity"],
                                                 confidence=merged["confidence"])
        return _apply_locked(item, actor=actor, categories=categories, group=group, language=language,
                             severity=merged["severity"], confidence=merged["confidence"],
                             threat_to_life=merged["threat_to_life"])


def item_assign(*, actor, item_ids: list[int], assignee_id: int | None) -> dict:
    """Assign items to an analyst or supervisor (or unassign them with assignee_id=None), in one transaction.

    The assignee must be an active analyst or supervisor (InvalidInput otherwise). One `item.assigned` event per
    item whose assignee changed; unknown items are reported in "errors". Returns {"done", "errors"}.
    """
    from accounts.models import User

    require_role(actor, TRIAGERS, "assigning items")
    assignee = None
    if assignee_id not in (None, ""):
        assignee = User.objects.filter(pk=assignee_id, is_active=True, role__in=TRIAGERS).first()
        if assignee is None:
            raise InvalidInput("Items can be assigned to active analysts and supervisors only.",
                               field_errors={"assignee": ["Choose an active analyst or supervisor."]})
    ids = sorted({int(i) for i in item_ids})
    result = {"done": [], "errors": []}
    with transaction.atomic():
        items = {i.pk: i for i in Item.objects.select_for_update(of=("self",), no_key=True).select_related("platform")
                 .filter(pk__in=ids).order_by("id")}
        entries = []
        for item_id in ids:
            item = items.get(item_id)
            if item is None:
                result["errors"].append({"item": item_id, "detail": f"Item {item_id} does not exist.",
                                         "status_code": 404})
                continue
            result["done"].append(item_id)
            if item.assignee_id == (assignee and assignee.pk):
                continue
            entries.append({"actor": actor, "verb": "item.assigned", "object_type": "item", "object_id": item_id,
                            "before": {"assignee": item.assignee_id}, "after": {"assignee": assignee and assignee.pk}})
            item.assignee = assignee
            item.save(update_fields=["assignee", "updated_at"])
        if entries:
            audit.record_many(entries)
    return result

