"""Two-factor sign-in: a TOTP device (an authenticator app) and single-use recovery codes, with django-otp.

Who must use it: supervisors and admins always; everyone when OTP_REQUIRED_FOR_ALL is set. Analysts and liaisons
may enrol (liaisons mostly work through API keys, which never ask for a second factor). Whoever has a device is
asked for a code at every sign-in. Enrolment, a recovery code used and a reset are audit events.

The sign-in pages are in accounts/views.py; the rule that an unverified session of someone who must use a second
factor can do nothing else is accounts/middleware.py.
"""

import base64

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp import verify_token as otp_verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit import chain as audit
from core.errors import InvalidInput, NotPermitted
from core.roles import ADMINS, SUPERVISORS, Role, require_role, require_role_or_system

EVERYONE = frozenset(Role.values)
# Supervisors decide what is sent to platforms; admins hold users, keys and contact points.
REQUIRED_ROLES = SUPERVISORS | ADMINS
OPTIONAL_ROLES = EVERYONE - REQUIRED_ROLES
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def required_for(user) -> bool:
    """Must this user pass a second factor before doing anything? (No query: the role and a setting.)"""
    if not getattr(user, "is_authenticated", False):
        return False
    return settings.OTP_REQUIRED_FOR_ALL or user.role in REQUIRED_ROLES or user.is_superuser


def has_device(user) -> bool:
    """Has the user a confirmed authenticator (or recovery codes left over from one)?"""
    return any(True for _ in devices_for_user(user, confirmed=True))


def secret_text(device: TOTPDevice) -> str:
    """The device's key as an authenticator app takes it by hand: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code in a data: URI (an <img>; the CSP allows data: images, no script)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def totp_enrolment(*, actor) -> TOTPDevice:
    """The actor's pending (unconfirmed) authenticator, made on the first call and kept until confirmed, so that
    reloading the enrolment page shows the same QR code. Nothing is audited until it is confirmed."""
    require_role(actor, EVERYONE, "enrolling a second factor")
    if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise InvalidInput("You already have an authenticator app; an admin can reset it if it is lost.")
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_enrol_confirm(*, actor, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the actor's pending authenticator with a first code from it; make fresh recovery codes (any older
    ones are removed). Audited as `two_factor.enrolled`. Returns the device and the codes, shown once."""
    require_role(actor, EVERYONE, "enrolling a second factor")
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).order_by("id").first()
    if device is None:
        raise InvalidInput("There is no enrolment in progress: open the enrolment page again.")
    if not device.verify_token(_clean(token)):  # outside the transaction: the device keeps its throttle count
        raise InvalidInput("That code is not right. Type the six digits the app shows now.",
                           field_errors={"otp_token": "That code is not right."})
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed:
            raise InvalidInput("This authenticator is already enrolled.")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
        StaticDevice.objects.filter(user=actor).delete()
        recovery = StaticDevice.objects.create(user=actor, name=RECOVERY_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
        audit.record(actor=actor, verb="two_factor.enrolled", obj=actor,
                     after={"device": device.name, "recovery_codes": len(codes)})
    return device, codes


def verify_second_factor(user: User, token: str):
    """The user's confirmed device that accepts `token`: the authenticator's current code, else one of the recovery
    codes (used up, audited as `two_factor.recovery_code_used`). None when no device accepts it."""
    token = _clean(token)
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True):
        # A code of the app's length in digits goes to the app only, anything else to the recovery codes only: a
        # mistyped code does not also count against (and throttle) the other device.
        app_shaped = token.isdigit() and len(token) == getattr(device, "digits", 6)
        if isinstance(device, StaticDevice) == app_shaped:
            continue
        with transaction.atomic():
            verified = otp_verify_token(user, device.persistent_id, token.lower())
            if verified is not None and isinstance(verified, StaticDevice):
                audit.record(actor=user, verb="two_factor.recovery_code_used", obj=user,
                             after={"recovery_codes_left": verified.token_set.count()})
        if verified is not None:
            return verified
    return None


def two_factor_reset(*, actor, user_id: int) -> int:
    """Remove every second-factor device of a user (a lost phone): an admin's act, or the operator's on the server.
    Audited as `two_factor.reset`, naming the devices removed. The user's sessions lose their verification at once
    (django-otp checks the device on every request); someone who must use a second factor enrols again at their
    next step. Returns the number of devices removed."""
    require_role_or_system(actor, ADMINS, "resetting a user's second factor")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise InvalidInput(f"No user {user_id}.")
        devices = list(devices_for_user(user, confirmed=None))
        if not devices:
            raise InvalidInput(f"{user.username} has no second-factor device to reset.")
        for device in devices:
            device.delete()
        audit.record(actor=actor, verb="two_factor.reset", obj=user,
                     before={"devices": sorted(device.name for device in devices)})
    return len(devices)


def two_factor_remove_own(*, actor) -> int:
    """Remove the actor's own authenticator and recovery codes: only someone who need not use a second factor (an
    analyst or a liaison, unless OTP_REQUIRED_FOR_ALL). Audited as `two_factor.removed`. Returns the count."""
    require_role(actor, OPTIONAL_ROLES, "removing your second factor")
    if required_for(actor):
        raise NotPermitted("Everyone signs in with a second factor here: an admin can reset a lost one.")
    with transaction.atomic():
        devices = list(devices_for_user(actor, confirmed=None))
        if not devices:
            raise InvalidInput("You have no second factor to remove.")
        for device in devices:
            device.delete()
        audit.record(actor=actor, verb="two_factor.removed", obj=actor,
                     before={"devices": sorted(device.name for device in devices)})
    return len(devices)


def _clean(token: str) -> str:
    return "".join((token or "").split())[:16]
