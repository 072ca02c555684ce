"""A fixed-window rate limit per client address: a counter in Redis (REDIS_URL, the cache's server) shared by all
workers and servers, or in Django's cache on the embedded default (local memory, one process)."""
import functools
import time

import redis
from django.conf import settings
from django.core.cache import cache

from .clientip import client_ip


def hit(scope: str, request, *, limit: int, window: int) -> bool:
    """Count one request of the client in `scope`; False once it exceeds `limit` within the current `window` s."""
    key = f"ratelimit:{scope}:{client_ip(request) or 'unknown'}:{int(time.time() // window)}"
    client = _redis_client()
    if client is not None:
        # One round trip per request: INCR; the window's first hit also sets the key's expiry. The key carries the
        # cache's prefix, so it lives (and is cleared) with the cache's other keys.
        cache_key = cache.make_key(key)
        count = client.incr(cache_key)
        if count == 1:
            client.expire(cache_key, window + 5)
    else:
        if cache.add(key, 1, window + 5):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, window + 5)
                count = 1
    return count <= limit


@functools.cache
def _redis_client() -> redis.Redis | None:
    """One client per process, whose connection pool is reused by every request. (Django's cache API would take three
    round trips for add-or-increment, and builds a new client object on each call.)"""
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(settings.REDIS_URL)
