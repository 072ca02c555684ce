"""The cache backend under REDIS_URL: Django's RedisCache, failing soft while Redis is down.

Nothing the portal keeps in the cache is the only copy (peer statistics are recomputed, the reminders' fast path
falls back on the database), so an unreachable Redis costs a miss, not a server error: reads return the default,
writes are dropped and `add` answers False ("already there", the cautious answer: a password-reset e-mail is not
queued, as the broker on the same Redis could not take it anyway). Short socket timeouts keep a hung Redis from
holding up the pages. The rate limit keeps its own client and fallback (accounts/ratelimit.py).
"""
import functools
import logging

import redis
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1


def _soft(default):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as exc:
                log.warning("cache %s: Redis unavailable (%s); treated as a miss", method.__name__, exc)
                return default(args, kwargs) if callable(default) else default
        return call
    return wrap


def _given_default(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        params = {**params, "OPTIONS": {"socket_connect_timeout": TIMEOUT_SECONDS, "socket_timeout": TIMEOUT_SECONDS,
                                        **params.get("OPTIONS", {})}}
        super().__init__(server, params)

    get = _soft(_given_default)(RedisCache.get)
    get_many = _soft(lambda args, kwargs: {})(RedisCache.get_many)
    has_key = _soft(False)(RedisCache.has_key)
    add = _soft(False)(RedisCache.add)
    set = _soft(None)(RedisCache.set)
    set_many = _soft(lambda args, kwargs: [])(RedisCache.set_many)
    touch = _soft(False)(RedisCache.touch)
    delete = _soft(False)(RedisCache.delete)
    delete_many = _soft(None)(RedisCache.delete_many)
