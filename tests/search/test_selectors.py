"""The search selector on PostgreSQL: what each kind of search finds, for whom, and through which index."""

import pytest
from django.db import connection, transaction

from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from core.errors import NotPermitted
from referral.models import Referral
from referral.outbox.formatters import unit_reference
from search import selectors
from search.query import ITEMS, REFERRALS
from tests.conftest import make_user
from tests.search.conftest import YOUTU_BE

pytestmark = pytest.mark.django_db


def ids(rows):
    return [row["id"] for row in rows]


def test_a_youtu_be_link_finds_the_youtube_com_item(analyst, youtube_item):
    results = selectors.search(analyst, YOUTU_BE)
    assert ids(results.items) == [youtube_item.pk]
    assert results.items[0]["match"] == "URL"
    assert results.only_result() == (ITEMS, youtube_item.pk)


def test_a_url_finds_the_item_and_its_referrals(supervisor, approved_referral):
    results = selectors.search(supervisor, "http://www.tube.example/watch?v=abc123&utm_source=x")
    assert ids(results.items) == [approved_referral.item_id]
    assert ids(results.referrals) == [approved_referral.pk]
    assert results.only_result() is None  # two things found: the list


def test_duplicates_at_one_url_are_all_found_newest_first(analyst, case, youtube_item):
    again = item_actions.item_log(actor=analyst, case=case, url="https://youtu.be/dQw4w9WgXcQ", kind="media",
                                  categories=["incitement"])
    assert ids(selectors.search(analyst, "youtube.com/watch?v=dQw4w9WgXcQ").items) == [again.pk, youtube_item.pk]


def test_numbers_find_each_kind_and_a_hint_only_its_own(analyst, referral_a):
    item_id, case_id = referral_a.item_id, referral_a.item.case_id
    results = selectors.search(analyst, f"#{referral_a.pk}")
    assert referral_a.pk in ids(results.referrals)
    assert ids(selectors.search(analyst, f"I-{item_id}").items) == [item_id]
    hinted = selectors.search(analyst, f"R-{referral_a.pk}")
    assert ids(hinted.referrals) == [referral_a.pk] and hinted.items == [] and hinted.cases == []
    assert ids(selectors.search(analyst, f"case {case_id}").cases) == [case_id]
    assert selectors.search(analyst, "I-999999").empty


def test_a_platforms_reference_any_case(analyst, referral_a, referral_b):
    results = selectors.search(analyst, "tube-4411")
    assert ids(results.referrals) == [referral_a.pk]
    assert results.referrals[0]["match"] == "platform's reference"
    assert results.referrals[0]["platform_reference"] == "TUBE-4411"
    assert ids(selectors.search(analyst, "CHIRP-77").referrals) == [referral_b.pk]


def test_the_units_reference_finds_the_referrals_of_that_message(analyst, approved_referral):
    delivery = approved_referral.deliveries.get()
    results = selectors.search(analyst, unit_reference(delivery))
    assert ids(results.referrals) == [approved_referral.pk]
    assert results.referrals[0]["match"] == "unit's reference"


def test_words_of_the_notes_and_of_case_titles(analyst, noted_item, youtube_item):
    results = selectors.search(analyst, "hydra recruitment")
    assert ids(results.items) == [noted_item.pk]
    assert results.items[0]["match"] == "notes" and results.items[0]["notes_excerpt"].startswith("Recruitment")
    assert results.cases == []  # the title has "Hydra" but not "recruitment"
    assert ids(selectors.search(analyst, "hydra outlet").cases) == [noted_item.case_id]
    assert ids(selectors.search(analyst, "media HYDRA").cases) == [noted_item.case_id]
    assert selectors.search(analyst, "hydra submarine").empty
    assert selectors.search(analyst, "hydra").only_result() is None  # words never jump to a page


def test_a_liaison_finds_only_their_own_platforms_referrals(liaison_a, referral_a, referral_b, youtube_item):
    own = selectors.search(liaison_a, "TUBE-4411")
    assert own.groups == (REFERRALS,) and ids(own.referrals) == [referral_a.pk]
    assert own.items == [] and own.cases == []
    # Another platform's referral, by its reference, its number, its URL and its unit reference: nothing.
    other = referral_b
    for text in ["CHIRP-77", str(other.pk), f"R-{other.pk}", "https://chirp.example/u/someone/status/42",
                 unit_reference(other.deliveries.get())]:
        assert selectors.search(liaison_a, text).empty, text
    # Items and cases are the unit's: a liaison finds none, even by URL or number.
    assert selectors.search(liaison_a, YOUTU_BE).empty
    assert selectors.search(liaison_a, f"C-{youtube_item.case_id}").empty
    # Their own referral by URL and by number.
    assert ids(selectors.search(liaison_a, "https://tube.example/watch?v=abc123").referrals) == [referral_a.pk]
    assert ids(selectors.search(liaison_a, str(referral_a.pk)).referrals) == [referral_a.pk]


def test_a_liaison_without_a_platform_finds_nothing(liaison_a, referral_a):
    liaison_a.platform = None
    assert selectors.search(liaison_a, "TUBE-4411").empty


def test_every_unit_role_searches_everything(analyst, supervisor, admin_user, referral_a):
    for user in (analyst, supervisor, admin_user):
        assert ids(selectors.search(user, "TUBE-4411").referrals) == [referral_a.pk]


def test_nobody_else_may_search(db, referral_a):
    from django.contrib.auth.models import AnonymousUser

    for user in (None, AnonymousUser()):
        with pytest.raises(NotPermitted):
            selectors.search(user, "TUBE-4411")
    inactive = make_user("gone_analyst", "analyst")
    inactive.is_active = False
    with pytest.raises(NotPermitted):
        selectors.search(inactive, "TUBE-4411")
    roleless = make_user("odd_one", "analyst")
    roleless.role = "visitor"
    with pytest.raises(NotPermitted):
        selectors.search(roleless, "TUBE-4411")


def test_each_group_is_bounded_and_says_there_is_more(analyst, case, django_assert_max_num_queries):
    for n in range(7):
        item_actions.item_log(actor=analyst, case=case, url=f"https://tube.example/watch?v=m{n}", kind="post",
                              categories=["incitement"], notes=f"hydra clip {n}")
        case_actions.case_create(actor=analyst, title=f"Hydra {n}", description="")
    with django_assert_max_num_queries(3):  # items by notes, referrals by reference, cases by title
        results = selectors.search(analyst, "hydra", limit=5)
    assert len(results.items) == 5 and results.more[ITEMS]
    assert len(results.cases) == 5 and results.more["cases"]
    assert ids(results.items) == sorted(ids(results.items), reverse=True)  # newest first
    with django_assert_max_num_queries(4):  # a number: the item, the referral, the case, a platform's reference
        selectors.search(analyst, "12")


def explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(("text", "group", "index"), [
    ("hydra recruitment", ITEMS, "item_notes_fts_idx"),
    ("hydra outlet", "cases", "case_title_trgm_idx"),
    ("TUBE-4411", REFERRALS, "referral_platform_ref_idx"),
    ("https://youtu.be/dQw4w9WgXcQ", ITEMS, "item_canonical_idx"),
])
def test_each_search_can_use_its_index(analyst, text, group, index):
    """The indexes of search/migrations match the expressions the selector queries (the planner can use them)."""
    from search import query as q

    finders = {ITEMS: selectors._item_finders, REFERRALS: selectors._referral_finders,
               "cases": selectors._case_finders}[group](q.parse(text), None)
    # Without the page's ORDER BY … LIMIT: on the test's near-empty tables the planner may rightly walk the primary
    # key newest first instead, which says nothing about whether the index fits the expression.
    plans = [explain(queryset.order_by()) for _, queryset in finders]
    assert any(index in plan for plan in plans), plans


def test_referrals_found_have_their_labels(analyst, referral_a):
    row = selectors.search(analyst, "TUBE-4411").referrals[0]
    assert row["status_label"] == "Acknowledged" and row["instrument_label"].startswith("Referral")
    assert Referral.objects.get(pk=row["id"]).platform_id == referral_a.platform_id
