"""Reads of a case's page: its assessment summary, and a page of its items with their referrals."""

from django.db import connection
from django.db.models import F, JSONField, QuerySet
from django.db.models.expressions import RawSQL

from cases.compiled import CompiledQuery
from cases.models import Case, CaseCount, Item
from cases.selectors import _anonymous, related_model
from core.paging import PAGE_SIZE

# What a row of a case's items table shows, one query (the joins are columns); the id first: the page's cursor.
CASE_ITEM_COLUMNS = ("id", "url", "canonical_url", "platform_id", "platform__name", "kind", "categories", "status",
                     "decision_reason", "priority", "threat_to_life", "assignee__username", "duplicate_of_id",
                     "duplicate_of__case_id")


def _case_items_query(case_id: int, before: int | None = None) -> QuerySet:
    qs = Item.objects.filter(case_id=case_id)
    if before is not None:
        qs = qs.filter(id__lt=before)
    return qs.order_by("-id").values_list(*CASE_ITEM_COLUMNS)[: PAGE_SIZE + 1]


def _referrals_query(item_ids: list[int]) -> QuerySet:
    return (related_model("referrals").objects.filter(item_id__in=item_ids).order_by("id")
            .values_list("item_id", "id", "status"))


_CASE_ITEMS, _REFERRALS_OF = CompiledQuery(_case_items_query), CompiledQuery(_referrals_query)


def case_items_page(user, case_id: int, before: int | None) -> tuple[list[tuple], bool, dict[int, list[tuple]]]:
    """Up to PAGE_SIZE of the case's items (CASE_ITEM_COLUMNS), newest first, older than the id `before`; whether
    more follow; and their referrals {item id: [(referral id, status)]}: two queries, compiled once."""
    if _anonymous(user) or not user.is_unit_staff:
        return [], False, {}
    rows = _CASE_ITEMS.rows(case_id) if before is None else _CASE_ITEMS.rows(case_id, before)
    items = rows[1][:PAGE_SIZE]
    referrals: dict[int, list[tuple]] = {}
    if items:
        for item_id, referral_id, status in _REFERRALS_OF.rows([row[0] for row in items])[1]:
            referrals.setdefault(item_id, []).append((referral_id, status))
    return items, len(rows[1]) > PAGE_SIZE, referrals


def _json_subquery(sql: str) -> RawSQL:
    """Only ever given constant SQL built from our own table names; never user input."""
    return RawSQL(sql, (), output_field=JSONField())  # noqa: S611


# A case's summary from its counts (CaseCount, kept by triggers on the items): a few dozen rows (each key's shards
# summed) read down the (case, dimension, key, shard) index instead of all the case's items; shaped as the page
# shows it, the platforms named.
SUMMARY_SQL = """(SELECT jsonb_build_object(
    'status', (SELECT coalesce(jsonb_object_agg(t.key, t.n), '{{}}'::jsonb) FROM (
        SELECT c.key, sum(c.n)::bigint AS n FROM {counts} c WHERE c.case_id = {case}.id AND c.dimension = 's'
        GROUP BY c.key HAVING sum(c.n) <> 0) t),
    'category', (SELECT coalesce(jsonb_object_agg(t.key, t.n), '{{}}'::jsonb) FROM (
        SELECT c.key, sum(c.n)::bigint AS n FROM {counts} c WHERE c.case_id = {case}.id AND c.dimension = 'c'
        GROUP BY c.key HAVING sum(c.n) <> 0) t),
    'platform', (SELECT coalesce(jsonb_agg(jsonb_build_array(s.name, s.n) ORDER BY s.n DESC, s.name), '[]'::jsonb)
        FROM (SELECT coalesce(p.name, '') AS name, sum(c.n)::bigint AS n FROM {counts} c
              LEFT JOIN {platform} p ON p.id = nullif(c.key, '')::bigint
              WHERE c.case_id = {case}.id AND c.dimension = 'p' GROUP BY coalesce(p.name, '')
              HAVING sum(c.n) <> 0) s)))"""


def _case_query(pk: int) -> QuerySet[Case]:
    qs = Case.objects.filter(pk=pk).annotate(created_by_name=F("created_by__username"),
                                             assignee_name=F("assignee__username"))
    if connection.vendor != "postgresql":  # the SQLite of a laptop demo: case_summary() counts in Python
        return qs
    platform = Item._meta.get_field("platform").related_model._meta.db_table
    sql = SUMMARY_SQL.format(counts=CaseCount._meta.db_table, case=Case._meta.db_table, platform=platform)
    return qs.annotate(summary_counts=_json_subquery(sql))


_CASE = CompiledQuery(_case_query)


def case_with_summary(user, pk: int) -> Case | None:
    """The case `pk` if `user` may read it, with created_by_name, assignee_name and (PostgreSQL) its assessment
    summary computed in the same query: summary_counts {"status": {status: n}, "category": {category: n},
    "platform": [[name or "", n], …] (most first; "" is "no platform matched")}, read from the case's counts
    (SUMMARY_SQL). One query, compiled once (cases/compiled.py)."""
    if _anonymous(user) or not user.is_unit_staff:
        return None
    found = _CASE.instances(Case, pk)
    return found[0] if found else None


def case_summary(case: Case) -> dict:
    """{"status": {status: n}, "category": {category: n}, "platform": [(name or "", n)], "no_platform": n}."""
    if hasattr(case, "summary_counts"):
        counts = case.summary_counts
        statuses, categories = counts["status"], counts["category"]
        platforms = [tuple(pair) for pair in counts["platform"]]
    else:
        statuses, categories, by_platform = {}, {}, {}
        rows = Item.objects.filter(case_id=case.pk).values_list("status", "platform__name", "categories")
        for status, name, cats in rows.iterator(chunk_size=2000):
            statuses[status] = statuses.get(status, 0) + 1
            by_platform[name or ""] = by_platform.get(name or "", 0) + 1
            for c in cats or []:
                categories[c] = categories.get(c, 0) + 1
        platforms = sorted(by_platform.items(), key=lambda pair: (-pair[1], pair[0]))
    return {"status": statuses, "category": categories, "platform": platforms,
            "no_platform": sum(n for name, n in platforms if not name), "total": sum(statuses.values())}
