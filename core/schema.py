"""The OpenAPI schema's view of errors: every operation lists each error status it can answer, with the API's one
error body (core/api_errors.py) as the component `Error`.

drf-spectacular documents only the success answer of an operation. ErrorResponsesAutoSchema (REST_FRAMEWORK's
DEFAULT_SCHEMA_CLASS) adds, where they can happen:

- 400: a body or query parameters that do not validate; a malformed `Idempotency-Key` (POST);
- 401 / 403: no or a bad key; a role that may not do this (every endpoint needs a signed-in user);
- 404: an object in the path that does not exist or is not yours; a tampered page cursor;
- 409: a transition the object's state does not allow (POST: every transition is an action endpoint); the first
  request with the same `Idempotency-Key` still running (with `Retry-After`);
- 413 / 415: a body over the size limit (uploads; any POST, whose body an `Idempotency-Key` fingerprints); a body
  of a type the endpoint does not parse;
- 422: an `Idempotency-Key` sent again with another request (POST; core/idempotency.py);
- 429: throttled, with `Retry-After` (every operation);
- 503: the database kept refusing a write for contention; nothing was saved, send it again (`Retry-After`).

A view adds what these rules cannot see with `extend_schema(responses={..., 404: ERROR})` (e.g. an id in the body
that may not exist); the view's own entries win.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class ErrorOut(serializers.Serializer):
    """The API's error body: a message, and the fields' messages for invalid input."""

    detail = serializers.CharField(help_text="What went wrong, for a person.")
    errors = serializers.DictField(child=serializers.JSONField(), help_text=(
        "Per field, its messages (a list of strings; for a nested field, the same shape again). Empty unless "
        "the input was invalid."))

    class Meta:
        ref_name = "Error"


ERROR = OpenApiResponse(ErrorOut)  # for a view's own extend_schema(responses=...); described below

DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field's problems.",
    "401": "No API key or session, or an unknown, expired or revoked key.",
    "403": "Your role does not allow this.",
    "404": "Not found (also another platform's object: never revealed), or a page cursor that is not valid.",
    "409": "The object's state does not allow this now (or this request's Idempotency-Key is still running).",
    "413": "The body is over the size limit.",
    "415": "The body's content type is not one this endpoint takes.",
    "422": "This `Idempotency-Key` was used with another body.",
    "429": "Too many requests: wait `Retry-After` seconds.",
    "503": "The database is busy; nothing was saved. Send the same request again after `Retry-After` seconds.",
}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER, required=False, description=(
        "1 to 255 printable ASCII characters, new for each new request. Sent again with the same request, the "
        "first answer comes back (header `Idempotent-Replayed: true`) and nothing changes a second time; with "
        "another request, 422; while the first is still running, 409 with `Retry-After`. Kept 24 hours."))
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}}


class ErrorResponsesAutoSchema(AutoSchema):
    def error_statuses(self) -> set[str]:
        """The error statuses this operation can answer (module docstring)."""
        codes = {"401", "403", "429"}
        has_body = self._get_request_body() is not None
        if has_body or self._has_query_parameters() or self.method == "POST":  # POST: a malformed Idempotency-Key
            codes.add("400")
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            codes.add("404")
        if self.method in WRITES:
            codes.add("503")
        if self.method == "POST":  # every transition is a POST (an action endpoint); and the Idempotency-Key's
            codes |= {"409", "413", "422"}  # fingerprint reads the body whole: its size is capped
        if has_body:
            codes.add("415")
            if any(parser.media_type.startswith("multipart/") for parser in self.view.get_parsers()):
                codes.add("413")
        return codes

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self.error_statuses()):
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorOut, code, direction=direction)
            if not responses[code].get("description"):
                responses[code]["description"] = DESCRIPTIONS[code]
        for code in ("409", "429", "503") if self.method == "POST" else ("429", "503"):
            if code in responses:
                responses[code].setdefault("headers", {}).update(RETRY_AFTER)
        return responses

    def _has_query_parameters(self) -> bool:
        if self.method != "GET":
            return False
        if self._is_list_view() and (self._get_paginator() or self.get_filter_backends()):
            return True
        return any(getattr(parameter, "location", None) == "query" for parameter in self.get_override_parameters())
