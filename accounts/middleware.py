"""A session that has not passed the second factor cannot act for someone who must use one.

Checked here, on every request, rather than in the login view: a session made any other way (the admin's own login
form, a test client's force_login, a device reset by an admin while the session lives) is held too. django-otp's
OTPMiddleware (before this one) tells whether this session's device is still the user's and confirmed.
"""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from accounts import two_factor

# The pages such a session may open: the code, the enrolment, signing out (and the password step).
OPEN = frozenset({"login", "login-verify", "two-factor-enrol", "logout"})


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if two_factor.required_for(user) and not user.is_verified() and not self._open(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": "Sign in with your second factor first (or use an API key)."},
                                    status=403)
            target = "login-verify" if two_factor.has_device(user) else "two-factor-enrol"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _open(request) -> bool:
        try:
            return resolve(request.path_info).url_name in OPEN
        except Resolver404:
            return False
