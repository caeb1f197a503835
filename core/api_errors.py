"""The API's one error mapping: every error body is `{"detail": "...", "errors": {field: [messages]}}`."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        return {key: value if isinstance(value, list | dict) else [value] for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response({"detail": exc.message, "errors": exc.field_errors}, status=exc.status_code)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "errors": _flatten(exc.detail)}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    return response


class NotFoundAsJSONMiddleware:
    """A path under /api/ that matches no route answers the API's JSON 404, not the site's HTML page.

    Sits before CommonMiddleware in MIDDLEWARE, so a missing trailing slash still redirects first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == status.HTTP_404_NOT_FOUND
            and request.path_info.startswith("/api/")
            and response.get("Content-Type", "").split(";")[0] != "application/json"
        ):
            return JsonResponse({"detail": str(exceptions.NotFound.default_detail), "errors": {}}, status=404)
        return response
