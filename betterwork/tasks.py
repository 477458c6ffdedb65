"""Celery plumbing shared by every app: tasks that carry the programme scope."""

from __future__ import annotations

import uuid
from typing import Any

from celery import Task, shared_task
from django.db import transaction

from betterwork import tenancy

SCOPE_KWARG = "_programme_ids"


class ScopedTask(Task):
    """A task that runs in the scope it was enqueued with, inside one transaction.

    Enqueue with ``enqueue_on_commit(task, ...)``: the message is sent only once the
    enqueuing transaction commits, and carries the enqueuer's programme ids.
    """

    # The scope travels as an extra keyword the task body never sees; Celery's signature
    # check on sending would refuse it.
    typing = False
    # A long task (a PDF) opens its own short transactions, so others see its progress.
    one_transaction = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        programme_ids = kwargs.pop(SCOPE_KWARG, None)
        if programme_ids is None:
            raise tenancy.ScopeMissing(f"Task {self.name} was sent without a programme scope.")
        with tenancy.scope(programme_ids):
            if not self.one_transaction:
                return super().__call__(*args, **kwargs)
            with transaction.atomic():
                return super().__call__(*args, **kwargs)


def scoped_kwargs(kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**(kwargs or {}), SCOPE_KWARG: sorted(tenancy.require_scope())}


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> str:
    """Send ``task`` after the current transaction commits, carrying the current scope.

    Returns the task id, fixed now, so the caller can record it before the message exists.
    """
    task_kwargs = scoped_kwargs(kwargs)
    task_id = str(uuid.uuid4())
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=task_kwargs, task_id=task_id))
    return task_id


@shared_task(base=ScopedTask, name="betterwork.scope_probe")
def scope_probe() -> dict[str, Any]:
    """Report what a worker sees: its scope and the programmes it can read (health and tests)."""
    from betterwork.models import AuditEvent

    scope = tenancy.require_scope()
    visible = sorted(
        {
            pid
            for pid in AuditEvent.objects.unscoped(reason="scope probe").values_list(
                "programme_id", flat=True
            )
            if pid
        }
    )
    return {"scope": sorted(scope), "visible_audit_programmes": visible}


class LongScopedTask(ScopedTask):
    one_transaction = False  # the work opens its own transactions


@shared_task(base=LongScopedTask, name="betterwork.apply_import")
def apply_import(run_id: int, importer_path: str) -> str:
    """Apply a large spreadsheet import that a person confirmed (``betterwork.imports``)."""
    from betterwork.imports import apply_in_background

    return apply_in_background(run_id, importer_path)


@shared_task(name="betterwork.expire_unconfirmed_imports")
def expire_unconfirmed_imports() -> dict[str, int]:
    """Uploads checked but never confirmed do not stay in storage for ever (one programme per
    scope and transaction)."""
    from betterwork.imports import imports_expire
    from betterwork.models import Programme

    done: dict[str, int] = {}
    for programme in Programme.objects.order_by("code"):
        with tenancy.scope({programme.pk}):
            done[programme.code] = imports_expire(programme=programme)
    return done
