from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts import key_cache
from accounts.models import UserAPIKey


class BearerAPIKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`: a djangorestframework-api-key key, acting as its user.

    An unknown, revoked or expired key is a 401, never an anonymous request.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: expected 'Bearer <key>'."))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from exc
        api_key = self._usable_key(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(_("API key expired or revoked."))
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive."))
        return api_key.user, api_key

    @staticmethod
    def _usable_key(key: str) -> UserAPIKey | None:
        """The unrevoked key whose stored hash matches `key`, with its user: from the shared cache when it holds
        the current generation (accounts/key_cache.py), else one query, then cached."""
        prefix = key.partition(".")[0]
        cached, generation = key_cache.lookup(prefix) if key_cache.enabled() else (None, 0)
        if cached is not None:
            return cached if cached.is_valid(key) else None
        api_key = UserAPIKey.objects.get_usable_keys().select_related("user").filter(prefix=prefix).first()
        if api_key is None or not api_key.is_valid(key):
            return None
        if key_cache.enabled():
            key_cache.store(api_key, generation)
        return api_key

    def authenticate_header(self, request):
        return self.keyword
