"""API keys and their users, cached in the shared cache (Redis) so that a request does not pay two queries to
authenticate, and invalidated the moment a key or its user changes.

Each entry is tagged with a generation number kept per key prefix. A change to a key (revoked, expiry moved,
deleted) or to its user (role, platform, active, deleted) bumps the generation of the user's keys when its
transaction commits; an entry of an older generation is never used. A request that read the database before the
change committed and stores its entry after the bump stores it under the old generation, so it is never served.
One round trip (MGET) per request. The presented key is still verified against the stored hash every time.

Only with a cache shared by every process (Redis): with a per-process cache a change made in one process could
not reach the others, so there is no caching at all.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from accounts.models import User, UserAPIKey

_ENTRY = "apikey:v1:{}"
_GENERATION = "apikey:gen:{}"


def enabled() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return settings.API_KEY_CACHE_SECONDS > 0 and backend.endswith(("RedisCache", "PyMemcacheCache"))


def lookup(prefix: str) -> tuple[UserAPIKey | None, int]:
    """The cached key (with its user) if its entry is of the current generation; and that generation."""
    found = cache.get_many([_ENTRY.format(prefix), _GENERATION.format(prefix)])
    generation = found.get(_GENERATION.format(prefix), 0)
    entry = found.get(_ENTRY.format(prefix))
    if entry is not None and entry[0] == generation:
        return entry[1], generation
    return None, generation


def store(api_key: UserAPIKey, generation: int) -> None:
    cache.set(_ENTRY.format(api_key.prefix), (generation, api_key), timeout=settings.API_KEY_CACHE_SECONDS)


def _bump(prefixes) -> None:
    for prefix in prefixes:
        key = _GENERATION.format(prefix)
        try:
            cache.incr(key)
        except ValueError:  # no generation yet: start one (entries stored so far were of generation 0)
            cache.set(key, 1, timeout=None)
        cache.delete(_ENTRY.format(prefix))


def invalidate(prefixes) -> None:
    """Forget these keys now and again when the current transaction commits (or at once outside one)."""
    prefixes = list(prefixes)
    if not prefixes or not enabled():
        return
    _bump(prefixes)
    transaction.on_commit(lambda: _bump(prefixes))


def _key_changed(sender, instance, **kwargs):
    invalidate([instance.prefix])


def _user_changed(sender, instance, **kwargs):
    if kwargs.get("created"):
        return
    invalidate(UserAPIKey.objects.filter(user_id=instance.pk).values_list("prefix", flat=True))


def connect() -> None:
    post_save.connect(_key_changed, sender=UserAPIKey, dispatch_uid="api-key-cache-key-saved")
    post_delete.connect(_key_changed, sender=UserAPIKey, dispatch_uid="api-key-cache-key-deleted")
    post_save.connect(_user_changed, sender=User, dispatch_uid="api-key-cache-user-saved")
    post_delete.connect(_user_changed, sender=User, dispatch_uid="api-key-cache-user-deleted")
