"""A fixed-window rate limit per client address, kept in the cache (Redis in production: shared by all workers)."""
import time

from django.core.cache import cache

from accounts.clientip import client_ip


def hit(scope: str, request, *, limit: int, window: int) -> bool:
    """Count one request of the client in `scope`; False once it exceeds `limit` within the current `window` s."""
    key = f"ratelimit:{scope}:{client_ip(request) or 'unknown'}:{int(time.time() // window)}"
    client = _redis_client(key)
    if client is not None:
        # One round trip per request: INCR; the window's first hit also sets the key's expiry.
        cache_key = cache.make_and_validate_key(key)
        count = client.incr(cache_key)
        if count == 1:
            client.expire(cache_key, window + 5)
    else:
        if cache.add(key, 1, window + 5):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:
                cache.add(key, 1, window + 5)
                count = 1
    return count <= limit


# Django's Redis backend builds a new client object (copying ~170 response callbacks) on every call; keep one per
# backend instance (the backend is kept in the value so that its id is never reused).
_clients: dict[int, tuple] = {}


def _redis_client(key):
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    if get_client is None or not hasattr(cache, "make_and_validate_key"):
        return None
    entry = _clients.get(id(backend))
    if entry is None:
        entry = _clients[id(backend)] = (backend, get_client(write=True))
    return entry[1]

