"""Signing in (a password, then a code from the authenticator app or a recovery code), enrolling an authenticator,
signing out. The second step counts towards the login lockout exactly as a wrong password does."""

import time
from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import two_factor
from accounts.models import User
from core.access import show_domain_error
from core.errors import DomainError

PENDING = "two_factor_pending"  # the session's note of who passed the password step and still owes a code
PENDING_SECONDS = 300  # the code must follow the password within this time


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label="Code", max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text="The six digits your authenticator app shows now, or one of your recovery codes.")


class FirstCodeForm(TokenForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].help_text = "The six digits the app shows now, after you added the key."


class SignInView(LoginView):
    """The password step. Someone with a second factor is not signed in yet: the session notes who they are and the
    code page follows. Everyone else is signed in; whoever must enrol is then held on the enrolment page by
    accounts/middleware.py."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.has_device(user):
            return super().form_valid(form)
        session = self.request.session
        session.cycle_key()
        session[PENDING] = {"user": user.pk, "backend": user.backend, "at": time.time()}
        target = reverse("login-verify")
        next_url = self.get_redirect_url()
        return redirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)


def _who_owes_a_code(request) -> tuple[User | None, dict | None]:
    """(user, pending note): the one who passed the password step on this session, or the signed-in person who has
    a device but has not given a code on this session."""
    pending = request.session.get(PENDING)
    if pending and time.time() - pending.get("at", 0) <= PENDING_SECONDS:
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
        return user, pending
    if pending:
        del request.session[PENDING]
    user = request.user
    if user.is_authenticated and not user.is_verified() and two_factor.has_device(user):
        return user, None
    return None, None


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _locked_out(request, credentials) -> object:
    """Sign-in locked for this name: forget the half-finished sign-in and show the lockout page."""
    request.session.pop(PENDING, None)
    if request.user.is_authenticated:
        auth_logout(request)
    return get_lockout_response(request, None, credentials)


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_verify(request):
    """The second step: the field `otp_token`. A wrong code is a failed sign-in for django-axes (the same limits as
    a wrong password); a locked name is refused before its code is tried."""
    user, pending = _who_owes_a_code(request)
    if user is None:
        return redirect("login")
    credentials = {"username": user.username}
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if AxesProxyHandler.is_locked(request, credentials):
            return _locked_out(request, credentials)
        device = two_factor.verify_second_factor(user, request.POST.get("otp_token", "")) \
            if form.is_valid() else None
        if device is not None:
            if pending is not None:
                request.session.pop(PENDING, None)
                user.otp_device = device  # django-otp keeps it in the session when the user_logged_in signal fires
                auth_login(request, user, backend=pending["backend"])
            else:
                otp_login(request, device)
                request.session.cycle_key()
            return redirect(_next(request))
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return _locked_out(request, credentials)
        form.add_error("otp_token", "That code is not right, or it was already used.")
    return render(request, "registration/login_verify.html",
                  {"form": form, "next": _next(request), "username": user.username})


@login_required
@require_POST
def two_factor_remove(request):
    """An analyst's or liaison's own authenticator removed (audited); supervisors and admins keep theirs."""
    try:
        two_factor.two_factor_remove_own(actor=request.user)
    except DomainError as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, "Your authenticator and recovery codes are removed: you sign in with your password.")
    return redirect("two-factor-enrol")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request):
    """Enrol an authenticator app: a QR code (SVG made on the server) and the key in text, confirmed by a first
    code; then the recovery codes, shown once."""
    user = request.user
    if request.method == "GET" and two_factor.has_device(user):
        return render(request, "accounts/two_factor.html", {"enrolled": True,
                                                            "required": two_factor.required_for(user)})
    form = FirstCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor.totp_enrol_confirm(actor=user, token=form.cleaned_data["otp_token"])
        except DomainError as exc:
            show_domain_error(request, exc, form)
        else:
            otp_login(request, device)
            request.session.cycle_key()
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
    try:
        device = two_factor.totp_enrolment(actor=user)
    except DomainError as exc:
        show_domain_error(request, exc)
        return redirect("home")
    return render(request, "accounts/two_factor.html", {
        "form": form, "qr_code": two_factor.qr_code_data_uri(device), "secret": two_factor.secret_text(device),
        "required": two_factor.required_for(user), "next": _next(request)})
