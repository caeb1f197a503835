"""`Idempotency-Key` on the API's POSTs: a client that is not sure its request arrived sends it again with the same
key, and gets the first answer again instead of a second change.

Per client (an API key, or a signed-in user) and key:
- first request: the key's row is inserted before the view runs (the unique constraint on (owner, key) decides
  which of two simultaneous requests runs), then the answer is stored in it;
- the same key with the same request (method, path, body): the stored status and body, header
  `Idempotent-Replayed: true`, nothing run again;
- the same key with another request: 422; while the first request still runs: 409 with Retry-After.
An answer that says "try again" (429, 5xx) is not kept: the key is freed, and the retry runs. Keys are kept for
IDEMPOTENCY_KEY_HOURS (24): an older row is ignored and replaced, and beat deletes them hourly (`expire_keys`).

A request without the header costs nothing here (no query); one with it costs its key's insert and update.
The table lives in the database, so the embedded mode (SQLite, no Redis) has it too.
"""

import hashlib
import tempfile
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A row still "in progress" this long after it was inserted belongs to a request whose process died before it stored
# the answer (no request lives this long: gunicorn's timeout ends it first); the key may then be used again.
ABANDONED_AFTER = timedelta(minutes=10)
_NOT_KEPT = {429}  # and every 5xx: answers that ask for the request again


class IdempotencyMiddleware:
    """Only POSTs under /api/ that carry the header; after AuthenticationMiddleware (a session's user)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path_info.startswith("/api/"):
            return self.get_response(request)
        return _with_key(request, key, self.get_response)


def _error(status: int, detail: str, **headers) -> JsonResponse:
    """The API's error body (core/api_errors.py)."""
    return JsonResponse({"detail": detail, "errors": {}}, status=status, headers=headers)


def _with_key(request, key: str, get_response):
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return JsonResponse({"detail": "Invalid input.", "errors": {HEADER: [
            f"1 to {MAX_KEY_LENGTH} printable ASCII characters."]}}, status=400)
    if "HTTP_AUTHORIZATION" not in request.META and not request.user.is_authenticated:
        return get_response(request)  # no credentials: the view answers 401 without reading the body
    fingerprint = _fingerprint(request)  # before the authentication's CSRF check parses a form from the body
    if fingerprint is None:
        return _error(413, "Request body too large.")
    owner = _owner(request)
    if owner is None:  # a bad key, a missing CSRF token: the view answers 401/403 and nothing is kept
        return get_response(request)
    row, answer = _claim(owner, key, fingerprint)
    if answer is not None:
        return answer
    try:
        response = get_response(request)
    except BaseException:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        raise
    if response.streaming or response.status_code >= 500 or response.status_code in _NOT_KEPT:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
    else:
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status_code=response.status_code, content_type=response.get("Content-Type", ""), body=response.content)
    return response


def _claim(owner: str, key: str, fingerprint: str) -> tuple[IdempotencyKey | None, HttpResponse | None]:
    """Take the key for this request (the row, None), or the answer to give instead (None, response)."""
    for _ in range(3):  # a row found stale or gone between the insert and the read: insert again
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(owner=owner, key=key, fingerprint=fingerprint,
                                                     created_at=now), None
        except IntegrityError:
            pass
        row = IdempotencyKey.objects.filter(owner=owner, key=key).first()
        if row is None:  # the request holding it freed it (a 5xx or a 429)
            continue
        expired = row.created_at < now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
        abandoned = row.status_code is None and row.created_at < now - ABANDONED_AFTER
        if expired or abandoned:
            IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).delete()
            continue
        if row.fingerprint != fingerprint:
            return None, _error(422, f"This {HEADER} was used with another request (method, path or body): "
                                     "use a new key for a new request.")
        if row.status_code is None:
            return None, _error(409, f"A request with this {HEADER} is still being processed: send it again "
                                     "shortly to get its answer.", **{"Retry-After": "1"})
        replay = HttpResponse(bytes(row.body), status=row.status_code, content_type=row.content_type or None)
        replay["Idempotent-Replayed"] = "true"
        return None, replay
    return None, _error(409, f"This {HEADER} is changing hands: send the request again.", **{"Retry-After": "1"})


def _owner(request) -> str | None:
    """Who the key belongs to: the API key or the signed-in user the API itself would see (its authenticators)."""
    drf_request = Request(request, authenticators=[auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
    try:
        user, auth = drf_request.user, drf_request.auth
    except APIException:
        return None
    if getattr(auth, "prefix", None):
        return f"key:{auth.prefix}"
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None


def _largest_upload() -> int:
    """No API view accepts a body bigger than this (evidence, imports; a megabyte for the multipart framing)."""
    return max(settings.EVIDENCE_MAX_BYTES, settings.IMPORT_MAX_BYTES) + 1024 * 1024


def _fingerprint(request) -> str | None:
    """sha256 of the method, path and body; None for a body bigger than any view takes (it is not read)."""
    digest = hashlib.sha256(f"{request.method}\0{request.get_full_path()}\0".encode())
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None or length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        digest.update(request.body)  # kept by Django: the view parses it from there
        return digest.hexdigest()
    if length > _largest_upload():
        return None
    # An upload bigger than Django keeps in memory: hashed on its way into a spooled file that then stands in for the
    # request's stream, from which Django parses it as it would have.
    spooled = tempfile.SpooledTemporaryFile(max_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    while chunk := request.read(1024 * 1024):
        digest.update(chunk)
        spooled.write(chunk)
    spooled.seek(0)
    request._stream, request._read_started = spooled, False
    return digest.hexdigest()


def expire_keys(now=None) -> int:
    """Delete the keys older than IDEMPOTENCY_KEY_HOURS (beat, hourly); how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
