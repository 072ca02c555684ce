"""Reads that may come from a streaming replica (DATABASE_REPLICA_URL): the public report-number lookup and the
dashboard. Everything else — every write, and every read that must see its own writes — uses the primary.

A view opts in with `@reads_from_replica`; inside it, the ORM (through `ReplicaRouter`) and raw SQL (through
`read_alias()`) read from the replica. If the replica cannot be reached, the request reads from the primary and the
replica is left alone for `REPLICA_RETRY_SECONDS`, so an outage costs one failed connection per process, not one per
request.
"""
import contextvars
import functools
import logging
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError

REPLICA = "replica"
REPLICA_RETRY_SECONDS = 30
logger = logging.getLogger(__name__)
_in_replica_view = contextvars.ContextVar("reads_from_replica", default=False)
_down_until = 0.0  # per process


def read_alias() -> str:
    """The database a tolerant read uses now: the replica inside a `@reads_from_replica` view when it is configured
    and answers, otherwise the primary."""
    global _down_until
    if not _in_replica_view.get() or REPLICA not in settings.DATABASES or time.monotonic() < _down_until:
        return DEFAULT_DB_ALIAS
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError as error:
        _down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        connections[REPLICA].close()
        logger.warning("replica unreachable, reading from the primary for %s s: %s", REPLICA_RETRY_SECONDS, error)
        return DEFAULT_DB_ALIAS
    return REPLICA


def reads_from_replica(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        token = _in_replica_view.set(True)
        try:
            return view(request, *args, **kwargs)
        finally:
            _in_replica_view.reset(token)

    return wrapper


class ReplicaRouter:
    """Sends the ORM's reads inside `@reads_from_replica` views to `read_alias()`; writes and migrations to the
    primary only (the replica is a copy kept by PostgreSQL's streaming replication, never migrated by Django)."""

    def db_for_read(self, model, **hints):
        return read_alias() if _in_replica_view.get() else None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
