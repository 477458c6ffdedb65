"""The tenancy layer: which country programmes the current request or task may touch.

Wall 1 (the application): the scope lives in a ContextVar, set at the start of each request
or task and reset in ``finally``. Tenant models' default manager filters by it and raises
when no scope is set, so a forgotten scope fails closed instead of returning every row.

Wall 2 (the database): the same scope is written into each transaction with
``set_config('app.programme_ids', ..., true)`` (see ``betterwork.db.postgresql``), and
row-level security policies on every tenant table (``betterwork.rls``) read it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import connections, models

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger("betterwork.tenancy")

SCOPE_SETTING = "app.programme_ids"

_scope: ContextVar[frozenset[int] | None] = ContextVar("programme_scope", default=None)


class ScopeMissing(RuntimeError):
    """A tenant query ran with no programme scope set: a bug, never 'all rows'."""


def current_scope() -> frozenset[int] | None:
    return _scope.get()


def require_scope() -> frozenset[int]:
    ids = _scope.get()
    if ids is None:
        raise ScopeMissing(
            "No programme scope is set. Run tenant queries inside tenancy.scope(...) "
            "or a request handled by ScopeMiddleware."
        )
    return ids


def scope_setting_value(ids: frozenset[int] | None) -> str:
    return ",".join(str(i) for i in sorted(ids)) if ids else ""


def apply_scope_to_transaction(connection: BaseDatabaseWrapper) -> None:
    """Write the current scope into the open transaction (transaction-local, never per session)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [SCOPE_SETTING, scope_setting_value(_scope.get())])


@contextmanager
def scope(programme_ids: Iterable[int], *, using: str | None = None) -> Iterator[frozenset[int]]:
    """Run the block with this set of programme ids as the scope.

    Transactions opened inside the block carry the scope to the database; a transaction
    already open, on any database alias the request or task touches (the primary, a read
    replica), gets the scope written into it now and restored on exit. ``using`` limits that
    to one alias.
    """
    ids = frozenset(int(i) for i in programme_ids)
    token = _scope.set(ids)
    candidates = [connections[using]] if using else connections.all(initialized_only=True)
    open_now = [c for c in candidates if c.in_atomic_block]
    try:
        for connection in open_now:
            apply_scope_to_transaction(connection)
        yield ids
    finally:
        _scope.reset(token)
        for connection in open_now:
            if connection.in_atomic_block and not connection.needs_rollback:
                apply_scope_to_transaction(connection)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Default manager of every tenant model: filtered by the scope, raising without one."""

    def get_queryset(self) -> TenantQuerySet:
        ids = require_scope()
        return super().get_queryset().filter(programme_id__in=ids)

    def unscoped(self, *, reason: str) -> TenantQuerySet:
        """All programmes' rows, for system jobs only; the database wall still applies."""
        logger.warning("unscoped query on %s: %s", self.model._meta.label, reason)
        return super().get_queryset()


class TenantModel(models.Model):
    """Base of every tenant-scoped model: a programme column, the scoped manager, RLS."""

    programme = models.ForeignKey(
        "betterwork.Programme", on_delete=models.PROTECT, related_name="+", db_index=True
    )

    objects = TenantManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        ids = require_scope()
        if self.programme_id is not None and self.programme_id not in ids:
            raise ScopeMissing(
                f"Cannot save {self._meta.label} of programme {self.programme_id} "
                f"outside the scope {sorted(ids)}."
            )
        super().save(*args, **kwargs)


def tenant_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, TenantModel)]
