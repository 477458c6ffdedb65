"""Reads that may come from a read replica: the dashboards, the public pages and the exports,
the heavy readers, so that they do not compete with the advisors' writes on the primary.

- ``DATABASE_REPLICA_URL`` names a streaming replica of the primary; without it, everything
  reads from the primary and nothing here does any work.
- A view marked ``@reads_from_replica`` runs its reads there, inside a transaction of the
  replica into which our database backend writes the request's programme scope, so row-level
  security holds on the replica exactly as on the primary. Writes (an audit row) still go to
  the primary.
- Read-your-writes: after a request that wrote, the primary's WAL position is kept in the user's
  session; until the replica has replayed that far, the user's marked pages read from the
  primary, so nobody misses a change they have just made. Other users may read a replica a
  moment behind.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

REPLICA = "replica"
WRITTEN_AT = "replica.written_at_lsn"  # the session key: the primary's WAL position after a write
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")

RETRY_AFTER_SECONDS = 30
logger = logging.getLogger(__name__)
_out_of_reach_until = 0.0
_reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)


def configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    """Reads go to the replica inside a view marked for it, everything else to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            return str(instance._state.db)  # an object's relations come from where it came from
        return REPLICA if _reading_replica.get() else None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        instance = hints.get("instance")
        if _reading_replica.get() or (instance is not None and instance._state.db == REPLICA):
            return "default"  # an object read from the replica is saved to the primary
        return None  # as Django decides without a router (the object's own database, else default)

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool:
        return True  # the same data, wherever it was read

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # the replica follows the primary; nobody migrates it


@contextmanager
def replica_reads() -> Iterator[None]:
    with transaction.atomic(using=REPLICA):  # our backend writes the scope into it
        token = _reading_replica.set(True)
        try:
            yield
        finally:
            _reading_replica.reset(token)


def caught_up(request: HttpRequest) -> bool:
    """Has the replica replayed the user's last write? (Always, for a user who wrote nothing.)"""
    session = getattr(request, "session", None)
    written_at = session.get(WRITTEN_AT) if session is not None else None
    if not written_at:
        return True
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END"
            " >= %s::pg_lsn",
            [written_at],
        )
        (done,) = cursor.fetchone()
    if done and session is not None:
        del session[WRITTEN_AT]  # no need to ask again
    return bool(done)


def _streamed_from_replica(content: Iterator[Any]) -> Iterator[Any]:
    with replica_reads():
        yield from content


def replica_usable(request: HttpRequest) -> bool:
    """Configured, reachable, and caught up with the user's last write; otherwise the primary
    answers (a replica down or being rebuilt slows the heavy pages, it does not break them).
    After a failure this process leaves the replica alone for RETRY_AFTER_SECONDS."""
    global _out_of_reach_until
    if not configured() or time.monotonic() < _out_of_reach_until:
        return False
    try:
        connections[REPLICA].ensure_connection()
        return caught_up(request)
    except DatabaseError:
        logger.warning("the read replica is out of reach: reading from the primary", exc_info=True)
        connections[REPLICA].close()
        _out_of_reach_until = time.monotonic() + RETRY_AFTER_SECONDS
        return False


def reads_from_replica(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not replica_usable(request):
            return view(request, *args, **kwargs)
        with replica_reads():
            response = view(request, *args, **kwargs)
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            # A streamed export reads while it is sent, after the view returned.
            response.streaming_content = _streamed_from_replica(response.streaming_content)  # type: ignore[arg-type]
        return response

    return wrapped


class ReadYourWritesMiddleware:
    """After a request that wrote, keep the primary's WAL position in the session (see above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if (
            configured()
            and request.method not in SAFE_METHODS
            and response.status_code < 400
            and session is not None
            and session.session_key  # a browser's session: API clients with a token have none
            and request.user.is_authenticated
        ):
            # The view's transaction has committed (ATOMIC_REQUESTS wraps the view alone).
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                (request.session[WRITTEN_AT],) = cursor.fetchone()
        return response
