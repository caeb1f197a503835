"""Find anything: the items, referrals and cases a search names, grouped by kind, for the person searching.

Who may find what is decided here, not only by the views: the unit's staff search everything; a platform's
liaison only their own platform's referrals; anyone else nothing (NotPermitted).

Every query is bounded and indexed: at most LIMIT rows a group (one more is read to know there are more), newest
first, no COUNT, no OFFSET. One query per way of matching:

- a URL: items whose canonical_url is the canonical form or the URL as typed (item_canonical_idx), and their
  referrals;
- a number: the item, referral and case with that id (or only the kind its hint names);
- the unit's reference of a message: the referrals in that Delivery (an id range of its primary key);
- anything but a URL: referrals by platform_reference, in any case (referral_platform_ref_idx);
- words: items by the words of their notes, full-text (item_notes_fts_idx; the planner walks the items newest first
  instead when a word is in most notes), and cases whose title contains every word (case_title_trgm_idx).

The indexes are PostgreSQL's (search/migrations/0001_search_indexes.py). On SQLite, words are matched with LIKE
(every word a substring of the notes or the title): slower, and the same results for whole words.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr

from cases.models import Case, CaseStatus, Item, ItemStatus
from core.errors import NotPermitted
from core.roles import LIAISONS, UNIT_STAFF, has_role
from referral.models import Instrument, Referral, ReferralStatus
from search.query import CASES, ITEMS, NUMBER, REFERRALS, UNIT_REFERENCE, URL, Query, parse

LIMIT = 20
NOTES_EXCERPT = 160
GROUPS = (ITEMS, REFERRALS, CASES)

MATCH_URL = "URL"
MATCH_NUMBER = "number"
MATCH_UNIT_REFERENCE = "unit's reference"
MATCH_PLATFORM_REFERENCE = "platform's reference"
MATCH_NOTES = "notes"
MATCH_TITLE = "title"
EXACT_MATCHES = frozenset({MATCH_URL, MATCH_NUMBER, MATCH_UNIT_REFERENCE, MATCH_PLATFORM_REFERENCE})


@dataclass
class Results:
    query: Query
    groups: tuple[str, ...]  # the groups this person may search, in the order they are shown
    items: list[dict] = field(default_factory=list)
    referrals: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    more: dict[str, bool] = field(default_factory=dict)  # group → more rows match than were read

    def rows(self, group: str) -> list[dict]:
        return getattr(self, group)

    @property
    def empty(self) -> bool:
        return not any(self.rows(group) for group in self.groups)

    def only_result(self) -> tuple[str, int] | None:
        """(group, id) when the search found exactly one thing, by its URL, number or a reference (never by words):
        the page goes straight to it."""
        found = [(group, row) for group in self.groups for row in self.rows(group)]
        if len(found) == 1 and found[0][1]["match"] in EXACT_MATCHES and not any(self.more.values()):
            return found[0][0], found[0][1]["id"]
        return None


def search(user, raw, *, limit: int = LIMIT) -> Results:
    """What `raw` (the search box's text) finds for `user`; InvalidInput if the text cannot be searched,
    NotPermitted if the user may search nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotPermitted("Sign in to search.")
    if has_role(user, UNIT_STAFF):
        groups, platform_id = GROUPS, None
    elif has_role(user, LIAISONS):
        groups, platform_id = (REFERRALS,), user.platform_id or 0  # no platform: no referral is theirs
    else:
        raise NotPermitted("Your role does not allow searching.")
    query = parse(raw)
    results = Results(query=query, groups=groups)
    for group in groups:
        finders, statuses = {ITEMS: (_item_finders, ItemStatus), REFERRALS: (_referral_finders, ReferralStatus),
                             CASES: (_case_finders, CaseStatus)}[group]
        rows, more = _collect(finders(query, platform_id), limit)
        for row in rows:
            row["status_label"] = _label(statuses, row["status"])
            if "instrument" in row:
                row["instrument_label"] = _label(Instrument, row["instrument"])
        setattr(results, group, rows)
        results.more[group] = more
    return results


def _collect(finders: list[tuple[str, QuerySet]], limit: int) -> tuple[list[dict], bool]:
    """Each finder's rows in turn (the exact matches come first), without repeats, at most `limit`."""
    rows, seen, more = [], set(), False
    for label, queryset in finders:
        found = list(queryset.order_by("-id")[: limit + 1])
        more = more or len(found) > limit
        for row in found[:limit]:
            if row["id"] not in seen:
                seen.add(row["id"])
                rows.append({**row, "match": label})
    return rows[:limit], more or len(rows) > limit


# --- Items -----------------------------------------------------------------------------------------------------

def _items() -> QuerySet:
    return Item.objects.values(
        "id", "url", "status", "case_id", case_title=F("case__title"), platform_name=F("platform__name"),
        notes_excerpt=Substr("notes", 1, NOTES_EXCERPT),
    )


def _item_finders(query: Query, platform_id) -> list[tuple[str, QuerySet]]:
    finders = []
    if query.kind == URL:
        finders.append((MATCH_URL, _items().filter(canonical_url__in=query.urls)))
    if query.kind == NUMBER and ITEMS in query.number_kinds:
        finders.append((MATCH_NUMBER, _items().filter(pk=query.number)))
    if query.words:
        finders.append((MATCH_NOTES, _items().filter(_notes_match(query))))
    return finders


def _notes_match(query: Query) -> Q:
    if connection.vendor == "postgresql":
        notes = f"{connection.ops.quote_name(Item._meta.db_table)}.{connection.ops.quote_name('notes')}"
        # The same expression as item_notes_fts_idx; websearch syntax: "a phrase", -excluded, or. The text is a
        # parameter; the SQL holds only quoted names.
        return Q(RawSQL(f"to_tsvector('simple'::regconfig, {notes}) @@ "  # noqa: S611
                        "websearch_to_tsquery('simple'::regconfig, %s)", [query.text], output_field=BooleanField()))
    return _every_word("notes", query.words)


def _every_word(field_name: str, words) -> Q:
    condition = Q()
    for word in words:
        condition &= Q(**{f"{field_name}__icontains": word})
    return condition


# --- Referrals -------------------------------------------------------------------------------------------------

def _referrals(platform_id) -> QuerySet:
    queryset = Referral.objects.all()
    if platform_id is not None:  # a liaison: their own platform's only
        queryset = queryset.filter(platform_id=platform_id)
    return queryset.values("id", "status", "instrument", "platform_reference", "item_id", "created_at",
                           item_url=F("item__url"), platform_name=F("platform__name"))


def _referral_finders(query: Query, platform_id) -> list[tuple[str, QuerySet]]:
    finders = []
    if query.kind == URL:
        finders.append((MATCH_URL, _referrals(platform_id).filter(item__canonical_url__in=query.urls)))
    if query.kind == NUMBER and REFERRALS in query.number_kinds:
        finders.append((MATCH_NUMBER, _referrals(platform_id).filter(pk=query.number)))
    if query.kind == UNIT_REFERENCE:
        finders.append((MATCH_UNIT_REFERENCE,
                        _referrals(platform_id).filter(deliveries__id__range=query.delivery_ids)))
    if reference := query.platform_reference:
        finders.append((MATCH_PLATFORM_REFERENCE, _referrals(platform_id).exclude(platform_reference="")
                        .filter(platform_reference__iexact=reference)))
    return finders


# --- Cases -----------------------------------------------------------------------------------------------------

def _cases() -> QuerySet:
    return Case.objects.values("id", "title", "status", "created_at")


def _case_finders(query: Query, platform_id) -> list[tuple[str, QuerySet]]:
    finders = []
    if query.kind == NUMBER and CASES in query.number_kinds:
        finders.append((MATCH_NUMBER, _cases().filter(pk=query.number)))
    if query.words:
        finders.append((MATCH_TITLE, _cases().filter(_every_word("title", query.words))))
    return finders


def _label(choices, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value
