"""A fixed-window rate limit per client address, kept in the cache (Redis in production: shared by all workers)."""
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind AXES_PROXY_COUNT reverse proxies the matching X-Forwarded-For
    entry (counted from the right, so that a client cannot forge it)."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(scope: str, request, *, limit: int, window: int) -> bool:
    """Count one request of the client in `scope`; False once it exceeds `limit` within the current `window` s."""
    key = f"ratelimit:{scope}:{client_address(request)}:{int(time.time() // window)}"
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


def valid_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
