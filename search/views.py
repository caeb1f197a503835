"""The search page, /search/?q=: the header's search box on every page submits here (a plain GET form).

A URL, number or reference that finds exactly one thing goes straight to its page; anything else lists what was
found, grouped by kind. Text that cannot be searched is a message on the page (400), never an error page.
"""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from core.access import REFERRAL_READERS, role_required
from core.errors import InvalidInput
from search import selectors
from search.links import page_path
from search.query import CASES, EMPTY_MESSAGE, ITEMS, REFERRALS

TITLES = {ITEMS: "Items", REFERRALS: "Referrals", CASES: "Cases"}


@require_safe
@role_required(*REFERRAL_READERS)
def search_page(request):
    raw = request.GET.get("q")
    context = {"q": raw or "", "results": None, "error": None, "hint": EMPTY_MESSAGE}
    if raw is None:
        return render(request, "search/results.html", context)
    try:
        results = selectors.search(request.user, raw)
    except InvalidInput as exc:
        context["error"] = exc.message
        return render(request, "search/results.html", context, status=400)
    if request.GET.get("list") != "1" and (only := results.only_result()):
        return redirect(page_path(*only))
    context["results"] = results
    context["groups"] = [
        {"key": group, "title": TITLES[group], "more": results.more[group],
         "rows": [{**row, "path": page_path(group, row["id"])} for row in results.rows(group)]}
        for group in results.groups
    ]
    return render(request, "search/results.html", context)
