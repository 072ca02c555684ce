"""A fixed-window rate limit per client address: a counter in Redis (REDIS_URL, the cache's server) shared by all
workers and servers, or in Django's cache on the embedded default (local memory, one process).

While Redis is down the limit still holds, counted in the process's own memory (each gunicorn worker counts its own
requests, so a client may reach the limit once per worker): the public pages keep answering instead of failing, and a
client is still refused past the limit (fail safe, not open)."""
import functools
import logging
import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache

from .clientip import client_ip

log = logging.getLogger(__name__)


def hit(scope: str, request, *, limit: int, window: int) -> bool:
    """Count one request of the client in `scope`; False once it exceeds `limit` within the current `window` s."""
    key = f"ratelimit:{scope}:{client_ip(request) or 'unknown'}:{int(time.time() // window)}"
    client = _redis_client()
    if client is not None:
        # One round trip per request: INCR; the window's first hit also sets the key's expiry. The key carries the
        # cache's prefix, so it lives (and is cleared) with the cache's other keys.
        cache_key = cache.make_key(key)
        try:
            count = client.incr(cache_key)
            if count == 1:
                client.expire(cache_key, window + 5)
        except redis.RedisError as exc:
            log.warning("rate limit %s: Redis unavailable (%s); counting in this process", scope, exc)
            count = _local_count(key, window)
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


_local_counts: dict[str, int] = {}
_local_lock = threading.Lock()


def _local_count(key: str, window: int) -> int:
    """The fallback counter while Redis is down; keys of past windows are dropped as new windows begin."""
    current = key.rsplit(":", 1)[1]
    with _local_lock:
        if len(_local_counts) > 10_000:
            for old in [k for k in _local_counts if k.rsplit(":", 1)[1] != current]:
                del _local_counts[old]
        _local_counts[key] = count = _local_counts.get(key, 0) + 1
    return count


@functools.cache
def _redis_client() -> redis.Redis | None:
    """One client per process, whose connection pool is reused by every request. (Django's cache API would take three
    round trips for add-or-increment, and builds a new client object on each call.)"""
    if not settings.REDIS_URL:
        return None
    # Short timeouts: a Redis that hangs must not hold up the public pages (the local counter takes over).
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
