"""A session that has not passed the second factor cannot act for someone who must use one.

Checked here, on every request, rather than in the login view: a session made any other way (the admin's own login
form, a test client's force_login, a device reset by an admin while the session lives) is held too. django-otp's
OTPMiddleware (before this one) tells whether this session's device is still the user's and confirmed.
"""

from urllib.parse import urlencode

from django.apps import apps
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from accounts import two_factor
from core.compiled import CompiledQuery

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


class DeskOTPMiddleware(OTPMiddleware):
    """django-otp's OTPMiddleware, the session's device read by SQL compiled once per device model (the ORM took
    longer to build the query than the database to run it). The same device as Device.from_persistent_id, and
    django-otp still drops it when it is no longer the user's or no longer confirmed: a removed or reset device
    ends the session's verification at the next request."""

    _queries: dict[type, CompiledQuery] = {}

    def _device_from_persistent_id(self, persistent_id: str):
        try:
            label, device_id = self._normalize_persistent_id(persistent_id).rsplit("/", 1)
            app_label, model_name = label.split(".")
            model = apps.get_model(app_label, model_name)
            device_id = int(device_id)
        except (ValueError, LookupError):
            return None
        if not issubclass(model, Device) or not -(2**63) <= device_id < 2**63:
            return None
        query = self._queries.get(model)
        if query is None:
            query = self._queries[model] = CompiledQuery(
                lambda pk, model=model: model.objects.filter(id=pk).order_by("pk")[:1])
        found = query.instances(model, device_id)
        return found[0] if found else None
