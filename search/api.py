"""API v1: GET /api/v1/search/?q= (the search page's results as JSON, grouped by kind, the same rules)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import CanReadReferrals
from search import selectors
from search import serializers as search_s
from search.links import api_path, page_path


class Search(APIView):
    permission_classes = [CanReadReferrals]  # the unit's staff, and liaisons (their own platform's referrals)

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True,
                                     description="A URL (any form: it is canonicalised), a number (`123`, `#123`, "
                                                 "`I-123`, `R-123`, `C-123`), the unit's reference of a message, a "
                                                 "platform's reference, or words of a case title or item notes.")],
        responses={200: search_s.SearchOut},
    )
    def get(self, request):
        results = selectors.search(request.user, request.query_params.get("q", ""))
        query = results.query
        body = {"query": query.text, "interpreted_as": query.kind, "canonical_url": query.canonical_url,
                "searched": list(results.groups), "more": {group: results.more.get(group, False)
                                                          for group in selectors.GROUPS}}
        for group in selectors.GROUPS:
            body[group] = [{**row, "api_url": api_path(group, row["id"]), "page_url": page_path(group, row["id"])}
                           for row in results.rows(group)]
        return Response(search_s.SearchOut(body).data)
