from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

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
        try:
            # get_from_key looks up usable (unrevoked) keys by prefix and verifies the hash.
            api_key = UserAPIKey.objects.get_from_key(key)
        except UserAPIKey.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from exc
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(_("API key expired or revoked."))
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive."))
        return api_key.user, api_key

    def authenticate_header(self, request):
        return self.keyword
