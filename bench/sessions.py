"""A page client for a benchmark's user: signed in, and past the second factor where the role needs one (a
supervisor's session without it only gets the code page, accounts/middleware.py): the user's authenticator is
enrolled as fixture state and the session holds it, as django-otp keeps it after a real sign-in."""


def signed_in_client(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import two_factor

    client = Client()
    client.force_login(user)
    if two_factor.required_for(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name=two_factor.TOTP_DEVICE_NAME, confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
