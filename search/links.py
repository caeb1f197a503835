"""Where each search result opens: its page (the search page's links) and its API resource (the API's answer)."""

from django.urls import reverse

from search.query import CASES, ITEMS, REFERRALS

PAGES = {ITEMS: "item-detail", REFERRALS: "referral-detail", CASES: "case-detail"}
API = {ITEMS: "api:item-detail", REFERRALS: "api:referral-detail", CASES: "api:case-detail"}


def page_path(group: str, pk: int) -> str:
    return reverse(PAGES[group], args=[pk])


def api_path(group: str, pk: int) -> str:
    return reverse(API[group], args=[pk])
