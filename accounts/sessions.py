"""Sessions are read from the shared cache (SESSION_ENGINE cached_db, config/settings.py) and kept in the database.

Signing out, a new session key at sign-in and an expired session go through the session store, which drops the
cached copy too. A session row deleted any other way (the ORM, a shell, `clearsessions`) is dropped from the cache
here as well, so that deleting a session's row ends it at once, as it did when sessions were read from the database.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete

CACHED_DB = "django.contrib.sessions.backends.cached_db"


def _forget(session_key: str) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    caches[settings.SESSION_CACHE_ALIAS].delete(store.cache_key_prefix + session_key)


def _session_deleted(sender, instance, **kwargs):
    if settings.SESSION_ENGINE != CACHED_DB:
        return
    _forget(instance.session_key)  # now, and again once the deletion commits (a request may cache it meanwhile)
    transaction.on_commit(lambda: _forget(instance.session_key))


def connect() -> None:
    post_delete.connect(_session_deleted, sender=Session, dispatch_uid="accounts-session-deleted")
