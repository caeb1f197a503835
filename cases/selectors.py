"""Reads of cases and items: the querysets behind lists and pages, with their joins chosen once."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast

from audit.models import AuditEvent
from cases.compiled import CompiledQuery
from cases.models import Case, Item
from core.db import JSONArrayContains
from core.paging import NEWEST_FIRST, OLDEST_FIRST, Keyset
from platforms.models import Platform


def _anonymous(user) -> bool:
    return user is None or not getattr(user, "is_authenticated", False)


def related_model(name: str):
    """The model behind one of Item's reverse relations ("referrals", "evidence"): cases sit below those apps in the
    layers, so they read their rows through the relation, never by importing them."""
    return Item._meta.get_field(name).related_model


def cases_for(user) -> QuerySet[Case]:
    if _anonymous(user) or not user.is_unit_staff:
        return Case.objects.none()
    return Case.objects.all()


def items_for(user) -> QuerySet[Item]:
    if _anonymous(user) or not user.is_unit_staff:
        return Item.objects.none()
    return Item.objects.select_related("platform", "case").prefetch_related(
        Prefetch("referrals", queryset=related_model("referrals").objects.only("id", "item_id").order_by("id"))
    )


def item_rows_for(user) -> QuerySet[Item]:
    """The items `user` may read, with no joins loaded: the API builds its answers from `.values()` rows of this
    (cases/serializers.py ITEM_FIELDS) and `referral_ids_by_item`."""
    if _anonymous(user) or not user.is_unit_staff:
        return Item.objects.none()
    return Item.objects.all()


def referral_ids_by_item(item_ids) -> dict[int, list[int]]:
    """{item id: [its referrals' ids, ascending]}: one query for a page of items."""
    found: dict[int, list[int]] = {}
    if not item_ids:
        return found
    rows = related_model("referrals").objects.filter(item_id__in=item_ids).order_by("id").values_list("item_id", "id")
    for item_id, referral_id in rows:
        found.setdefault(item_id, []).append(referral_id)
    return found


TRIAGE_DEFAULT_STATUSES = ("logged", "returned")
QUEUE_KEYSETS = {"priority": Keyset("-priority", "-id"), "newest": NEWEST_FIRST, "oldest": OLDEST_FIRST}
QUEUE_SORTS = {sort: keyset.order for sort, keyset in QUEUE_KEYSETS.items()}
QUEUE_PAGE_SIZE = 50

# Review's order: a threat to life first, then priority, then the oldest proposal (item_review_idx).
REVIEW_KEYSET = Keyset("-threat_to_life", "-priority", "proposed_at", "id", kinds=("bool", "int", "datetime", "int"))


# What a row of the queue shows, read as values in one query (no model instances): the joins are columns.
QUEUE_ROW_FIELDS = ("id", "priority", "threat_to_life", "status", "url", "platform_id", "platform__name", "kind",
                    "categories", "group_id", "group__name", "language", "case_id", "assignee_id",
                    "assignee__username", "duplicate_of_id", "has_evidence")


@dataclass
class QueuePage:
    rows: list  # dicts of QUEUE_ROW_FIELDS, in the page's order
    next_cursor: str | None  # opaque to the page: "priority.id" (priority sort) or "id"
    sort: str


def parse_queue_cursor(sort: str, raw: str | None) -> tuple | None:
    """'7.1234' → (7, 1234) for the priority sort, '1234' → (1234,) for the others; anything else → None."""
    return QUEUE_KEYSETS.get(sort, QUEUE_KEYSETS["priority"]).decode(raw)


def _queue_filtered(user, filters: dict) -> QuerySet[Item]:
    qs = Item.objects.all()
    platform = filters.get("platform")
    if platform == "none":
        qs = qs.filter(platform__isnull=True)
    elif platform:
        qs = qs.filter(platform_id=platform)
    if filters.get("case"):
        qs = qs.filter(case_id=filters["case"])
    if filters.get("category"):
        qs = qs.filter(JSONArrayContains("categories", filters["category"]))  # __contains=[…] is PostgreSQL's only
    if filters.get("group"):
        qs = qs.filter(group_id=filters["group"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("language"):
        qs = qs.filter(language=filters["language"])
    assignee = filters.get("assignee")
    if assignee == "me":
        qs = qs.filter(assignee_id=user.pk)
    elif assignee == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee_id=assignee)
    if filters.get("duplicates") == "duplicates":
        qs = qs.filter(duplicate_of__isnull=False)
    elif filters.get("duplicates") == "originals":
        qs = qs.filter(duplicate_of__isnull=True)
    if filters.get("has_evidence"):
        qs = qs.filter(Exists(related_model("evidence").objects.filter(item_id=OuterRef("pk"))))
    return qs


def _queue_rows_query(ids: list[int]) -> QuerySet[Item]:
    evidence = Exists(related_model("evidence").objects.filter(item_id=OuterRef("pk")))
    return Item.objects.filter(pk__in=ids).annotate(has_evidence=evidence).values(*QUEUE_ROW_FIELDS)


_QUEUE_ROWS = CompiledQuery(_queue_rows_query)


def _queue_rows(ids: list[int]) -> list[dict]:
    """What .values() of _queue_rows_query answers (QUEUE_ROW_FIELDS of the items `ids`, in no order)."""
    if not ids:
        return []
    names, found = _QUEUE_ROWS.rows(ids)
    return [dict(zip(names, row, strict=True)) for row in found]


def triage_queue(user, filters: dict, sort: str = "priority", after: str | None = None,
                 size: int = QUEUE_PAGE_SIZE) -> QueuePage:
    """One page of the triage queue for the unit's staff: two queries whatever the filters and page (the keys of
    the page, then its rows as QUEUE_ROW_FIELDS values).

    `filters` are cleaned values (see TriageFilterForm): statuses (list; default logged + returned), platform
    (id or "none"), case, category, group, kind, language, assignee (id, "me" or "unassigned"), duplicates
    ("duplicates" | "originals"), has_evidence. `sort` is priority (priority desc, id desc), newest or oldest;
    `after` is the cursor of the previous page's last row.
    """
    sort = sort if sort in QUEUE_SORTS else "priority"
    if _anonymous(user) or not user.is_unit_staff:
        return QueuePage(rows=[], next_cursor=None, sort=sort)
    order = QUEUE_SORTS[sort]
    qs = _queue_filtered(user, filters)
    keyset = QUEUE_KEYSETS[sort]
    cursor = keyset.decode(after)
    if cursor is not None:
        qs = keyset.after(qs, cursor)
    statuses = list(filters.get("statuses") or TRIAGE_DEFAULT_STATUSES)
    columns = keyset.fields
    if len(statuses) == 1 or not connection.features.supports_slicing_ordering_in_compound:
        keys = list(qs.filter(status__in=statuses).order_by(*order).values_list(*columns)[: size + 1])
    else:
        parts = [qs.filter(status=status).order_by(*order).values_list(*columns)[: size + 1] for status in statuses]
        keys = list(parts[0].union(*parts[1:], all=True).order_by(*order)[: size + 1])
    more = len(keys) > size
    keys = keys[:size]
    ids = [key[-1] for key in keys]
    by_id = {row["id"]: row for row in _queue_rows(ids)}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    next_cursor = keyset.encode(keys[-1]) if more and keys else None
    return QueuePage(rows=rows, next_cursor=next_cursor, sort=sort)


# --- Review: the proposed items, in REVIEW_KEYSET's order ----------------------------------------------

REVIEW_PAGE_SIZE = 50
# What a row of Review shows, read as values in one query; evidence_id and preview_id are annotations.
REVIEW_ROW_FIELDS = ("id", "url", "priority", "threat_to_life", "proposed_at", "platform_id", "platform__name",
                     "kind", "categories", "group_id", "group__name", "case_id", "proposed_by_id",
                     "proposed_by__username", "duplicate_of_id")


@dataclass
class ReviewPage:
    rows: list  # dicts of REVIEW_ROW_FIELDS + evidence_id + preview_id, in REVIEW_KEYSET's order
    next_cursor: str | None  # REVIEW_KEYSET's cursor of the page's last row, when more follow


def _moment(value):
    """A bound of proposed_at: a datetime, or its ISO text (a ReviewJob keeps its filter as JSON)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def review_filtered(filters: dict) -> QuerySet[Item]:
    """The proposed items matching Review's `filters` (cleaned values, see referral.forms.ReviewFilterForm):
    platform (id or "none"), case, category, group, kind, proposer (user id), proposed_after / proposed_before
    (datetimes or ISO text: after ≤ proposed_at < before), has_evidence, duplicates ("duplicates" | "originals").
    Shared by the page and by ReviewJob's chunks, so "every proposal matching the filter" is what the page shows."""
    qs = Item.objects.filter(status="proposed")
    platform = filters.get("platform")
    if platform == "none":
        qs = qs.filter(platform__isnull=True)
    elif platform:
        qs = qs.filter(platform_id=platform)
    for name, column in (("case", "case_id"), ("group", "group_id"), ("kind", "kind"),
                         ("proposer", "proposed_by_id")):
        if filters.get(name):
            qs = qs.filter(**{column: filters[name]})
    if filters.get("category"):
        qs = qs.filter(JSONArrayContains("categories", filters["category"]))
    if filters.get("proposed_after"):
        qs = qs.filter(proposed_at__gte=_moment(filters["proposed_after"]))
    if filters.get("proposed_before"):
        qs = qs.filter(proposed_at__lt=_moment(filters["proposed_before"]))
    if filters.get("duplicates") == "duplicates":
        qs = qs.filter(duplicate_of__isnull=False)
    elif filters.get("duplicates") == "originals":
        qs = qs.filter(duplicate_of__isnull=True)
    if filters.get("has_evidence"):
        qs = qs.filter(Exists(related_model("evidence").objects.filter(item_id=OuterRef("pk"))))
    return qs


def review_queue(user, filters: dict, after: str | None = None, size: int = REVIEW_PAGE_SIZE, *,
                 preview_mimes=()) -> ReviewPage:
    """One page of Review for a decider: ONE query whatever the filters and the page (the rows, their first
    evidence and first evidence of a `preview_mimes` type as subqueries), down item_review_idx.

    A threat to life first, then priority, then the oldest proposal (REVIEW_KEYSET); `after` is the cursor of the
    previous page's last row (anything malformed is the first page)."""
    if _anonymous(user) or not user.is_unit_staff:
        return ReviewPage(rows=[], next_cursor=None)
    qs = review_filtered(filters)
    cursor = REVIEW_KEYSET.decode(after)
    if cursor is not None:
        qs = REVIEW_KEYSET.after(qs, cursor)
    evidence = related_model("evidence").objects.filter(item_id=OuterRef("pk")).order_by("id").values("id")[:1]
    previews = (Subquery(related_model("evidence").objects.filter(item_id=OuterRef("pk"), mime__in=list(preview_mimes))
                         .order_by("id").values("id")[:1]) if preview_mimes else Value(None, IntegerField()))
    rows = list(qs.order_by(*REVIEW_KEYSET.order)
                .annotate(evidence_id=Subquery(evidence), preview_id=previews)
                .values(*REVIEW_ROW_FIELDS, "evidence_id", "preview_id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return ReviewPage(rows=rows, next_cursor=REVIEW_KEYSET.encode(REVIEW_KEYSET.values(rows[-1])) if more else None)


def review_counts_by_platform(user) -> list[tuple[int | None, str, int]]:
    """[(platform id or None, name or "", proposals waiting)], most first: one GROUP BY query."""
    if _anonymous(user) or not user.is_unit_staff:
        return []
    # Counted on item_proposed_platform_idx alone (count(*) per platform id), then named: the join by id after the
    # GROUP BY touches one platform row per group instead of one per proposal.
    counts = (Item.objects.filter(status="proposed").order_by().values("platform_id")
              .annotate(n=Count("*")).values("platform_id", "n"))
    names = Platform.objects.filter(pk=OuterRef("platform_id")).values("name")[:1]
    rows = counts.annotate(platform__name=Subquery(names)).order_by("-n", "platform__name")
    return [(row["platform_id"], row["platform__name"] or "", row["n"]) for row in rows]


def review_keys(filters: dict, after: str | None, size: int) -> tuple[list[int], str | None]:
    """The ids of the next `size` proposals matching `filters` after the cursor `after`, in Review's order, and
    the cursor of the last one (None when none is left): a ReviewJob's chunk, one query."""
    qs = review_filtered(filters)
    cursor = REVIEW_KEYSET.decode(after)
    if cursor is not None:
        qs = REVIEW_KEYSET.after(qs, cursor)
    keys = list(qs.order_by(*REVIEW_KEYSET.order).values_list(*REVIEW_KEYSET.fields)[:size])
    return [key[-1] for key in keys], (REVIEW_KEYSET.encode(keys[-1]) if keys else None)


@dataclass
class TimelinePage:
    events: list
    older_cursor: int | None  # ?events_before=… for the next (older) page


TIMELINE_SIZE = 50


def _timeline_query(case_id: int, case_id_again: int, before: int | None = None) -> QuerySet:
    item_ids = Item.objects.filter(case_id=case_id_again).annotate(sid=Cast("id", CharField())).values("sid")
    qs = AuditEvent.objects.filter(
        # The type first (Q sorts its keywords): an event of another kind never builds the hash of the item ids.
        Q(object_type="case", object_id=str(case_id)) | (Q(object_type="item") & Q(object_id__in=item_ids))
    ).order_by("-id")
    if before is not None:
        qs = NEWEST_FIRST.after(qs, (before,))
    return qs[: TIMELINE_SIZE + 1]


_TIMELINE = CompiledQuery(_timeline_query)


def case_timeline(case: Case, before: int | None = None) -> TimelinePage:
    """The audit events of the case and of the items now in it, newest first, keyset-paged by event id: one
    query, compiled once (cases/compiled.py)."""
    args = (case.pk, case.pk) if before is None else (case.pk, case.pk, before)
    events = _TIMELINE.instances(AuditEvent, *args)
    more = len(events) > TIMELINE_SIZE
    events = events[:TIMELINE_SIZE]
    return TimelinePage(events=events, older_cursor=events[-1].pk if more else None)


def item_timeline(item: Item, size: int = 200) -> list[AuditEvent]:
    """The item's audit events and those of its referrals, newest first."""
    referral_ids = item.referrals.annotate(sid=Cast("id", CharField())).values("sid")
    return list(
        AuditEvent.objects.filter(
            Q(object_type="item", object_id=str(item.pk)) | Q(object_type="referral", object_id__in=referral_ids)
        ).order_by("-id")[:size]
    )


def earlier_referrals(item: Item, size: int = 20) -> list:
    """Referrals of other items with the same canonical URL (another case, an earlier logging), newest first, with
    their platform: what became of this content before (item_canonical_idx, then the referrals of those items)."""
    return list(related_model("referrals").objects.filter(item__canonical_url=item.canonical_url)
                .exclude(item_id=item.pk).select_related("platform").order_by("-id")[:size])


def item_copies(item: Item, size: int = 50) -> list[Item]:
    """Other copies of the same content: the items linked to the same original (or to this one), oldest first."""
    original_id = item.duplicate_of_id or item.pk
    return list(
        Item.objects.filter(duplicate_of_id=original_id).exclude(pk=item.pk).select_related("case", "platform")
        .order_by("id")[:size]
    )

