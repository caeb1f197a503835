"""What accounts tells the layers above it, without importing them (notifications listens: notifications/apps.py)."""

from django.dispatch import Signal

# Sent inside the transaction that issued an API key, by the service and by the admin's add form:
# `key` (the UserAPIKey, never the key in clear), `user` (whose key it is), `actor` (who issued it; None for the
# command line).
api_key_issued = Signal()
