"""Spreadsheet imports: check a file and show every problem first, then apply all rows or none.

An app describes one kind of import with an ``Importer`` (its columns, its checks against the
database, how to write the rows) and its views call:

1. ``import_preview``: read, parse and check the upload; store it as an ``ImportRun`` with its
   errors and, when the importer has one, its plan: what each row will do (create, update with
   which changes, leave unchanged, or wait for the person to choose among candidates). Nothing
   else is written.
2. ``import_apply`` (the person confirms, with their choices): read the stored file again, check
   again and plan again (the data may have changed meanwhile: a plan that differs from the one
   shown is shown again instead of applied), and write every row or, on any problem, none.

While a run is applied, its importer's ``progress`` hears the stage and the rows written: a
worker keeps them in the cache for the run's page (``CachedProgress``), a command draws a bar.

Who may import what is the calling app's rule: it checks permissions before calling.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import PurePath
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from betterwork import audit
from betterwork.models import ImportAction, ImportRun, Programme
from betterwork.permissions import Principal
from betterwork.spreadsheets import (
    MAX_BYTES,
    MAX_ROWS,
    Column,
    ParsedStream,
    RowError,
    Source,
    SpreadsheetError,
    cap_errors,
    chunks_of,
    iter_table,
    opened,
)

# What applying a row will do; CHOOSE: the row may be one of several existing records, and the
# person says which, or NEW: none of these, a new record.
CREATE, UPDATE, UNCHANGED, CHOOSE = (
    ImportAction.CREATE,
    ImportAction.UPDATE,
    ImportAction.UNCHANGED,
    ImportAction.CHOOSE,
)
NEW = "new"


# --- How far applying a run has come ------------------------------------------------------------

STAGES = {
    "reading": gettext_lazy("Reading and checking the file"),
    "checking": gettext_lazy("Checking the file again"),
    "writing": gettext_lazy("Writing the rows"),
    "counting": gettext_lazy("Updating the dashboards"),
}


class Progress:
    """What applying a run tells as it goes: a stage (a key of ``STAGES``) with the rows it
    covers, then rows done. This one tells no one."""

    def stage(self, name: str, total: int) -> None:
        """A new stage begins."""

    def advance(self, rows: int) -> None:
        """``rows`` more rows of the stage are done."""


class CachedProgress(Progress):
    """Kept in the cache for the run's page: the run's transaction stays open until its end, so
    nothing written to the database would show before then. Written at most twice a second."""

    EVERY = 0.5  # seconds

    def __init__(self, run_id: int) -> None:
        self.key = progress_key(run_id)
        self.state: dict[str, Any] = {}
        self._written = 0.0

    def stage(self, name: str, total: int) -> None:
        self.state = {"stage": name, "done": 0, "total": total}
        self._write()

    def advance(self, rows: int) -> None:
        self.state["done"] = self.state.get("done", 0) + rows
        if time.monotonic() - self._written >= self.EVERY:
            self._write()

    def _write(self) -> None:
        cache.set(self.key, self.state, timeout=24 * 3600)
        self._written = time.monotonic()


def progress_key(run_id: int) -> str:
    return f"import-progress:{run_id}"


@dataclass(frozen=True)
class ProgressNow:
    stage: str
    done: int
    total: int

    @property
    def label(self) -> str:
        return str(STAGES.get(self.stage, self.stage))

    @property
    def percent(self) -> int | None:
        return min(100, round(100 * self.done / self.total)) if self.total else None


def progress_of(run: ImportRun) -> ProgressNow | None:
    """Where a run being applied by a worker stands, if it has begun."""
    if run.status != ImportRun.Status.APPLYING:
        return None
    state = cache.get(progress_key(run.pk))
    if not isinstance(state, dict) or state.get("stage") not in STAGES:
        return None
    return ProgressNow(stage=state["stage"], done=int(state.get("done", 0)), total=int(state.get("total", 0)))


@dataclass
class PlannedRow:
    row: int  # as the person sees it in their spreadsheet program
    action: str  # CREATE, UPDATE, UNCHANGED or CHOOSE
    label: str  # what the row is, e.g. the factory's name
    changes: list[str] = field(default_factory=list)  # for UPDATE: "Field: old → new"
    candidates: list[tuple[int, str]] = field(default_factory=list)  # for CHOOSE: (id, label)
    record: int | None = None  # for UPDATE and UNCHANGED: the record's id

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidates"] = [list(candidate) for candidate in self.candidates]
        return data


class Importer(Protocol):
    """One kind of import, e.g. attendance of a training session."""

    kind: str  # "<app>.<what>", e.g. "training.attendance"
    columns: Sequence[Column]
    max_bytes: int  # the largest file accepted, and the most rows
    max_rows: int
    background: bool
    progress: Progress  # told the stage and the rows written while a run is applied

    def target_id(self, target: Any) -> str:
        """Identifies what the rows go into, so a run is applied only to the target it was checked for."""
        ...

    def load(self, rows: Iterator[dict[str, Any]]) -> Any:
        """Hold the file's rows that parsed cleanly, as they are read, for ``check``, ``plan``
        and ``apply`` (their ``rows``): a list, or for files too large for one, a temporary
        table of the transaction they all run in."""
        ...

    def check(self, *, rows: Any, target: Any) -> list[RowError]:
        """Problems across rows and against the database (duplicates, unknown names, ...). A
        list with an attribute ``more`` says that many more problems were left out."""
        ...

    def plan(self, *, rows: Any, target: Any) -> list[PlannedRow]:
        """What applying will do with each checked row, for the preview; [] for an importer
        whose rows need no decision and whose effect the preview need not spell out."""
        ...

    def apply(self, *, rows: Any, target: Any, actor: Principal) -> dict[str, int]:
        """Write the rows and say what was done, e.g. {"created": 10, "updated": 2}.

        May raise ``RowsInvalid`` (or any ``ValidationError``) for a problem only found while
        writing: everything written is then rolled back and the run rejected.
        """
        ...


class BaseImporter:
    """Defaults for an ``Importer``: the target's primary key, and no checks beyond the columns."""

    kind: str = ""
    columns: Sequence[Column] = ()
    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS
    # Whether a large run may be applied by a worker: the importer is then built again there
    # from its class, the programme and the choices, and its target is the programme.
    background: bool = False
    progress: Progress = Progress()

    def target_id(self, target: Any) -> str:
        return "" if target is None else str(target.pk)

    def load(self, rows: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(rows)

    def check(self, *, rows: list[dict[str, Any]], target: Any) -> list[RowError]:
        return []

    def plan(self, *, rows: list[dict[str, Any]], target: Any) -> list[PlannedRow]:
        return []

    def apply(self, *, rows: list[dict[str, Any]], target: Any, actor: Principal) -> dict[str, int]:
        raise NotImplementedError


class RowsInvalid(ValidationError):
    """Raised by ``Importer.apply`` with the rows at fault."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__([error.message for error in errors])
        self.row_errors = errors


def _errors_of(error: ValidationError) -> list[RowError]:
    if isinstance(error, RowsInvalid):
        return error.row_errors
    if hasattr(error, "error_dict"):
        return [
            RowError(0, "" if name == "__all__" else str(name), str(message))
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return [RowError(0, "", str(message)) for message in error.messages]


@dataclass
class Checked:
    rows: Any  # what the importer's ``load`` made of the parsed rows
    row_count: int  # non-empty data rows in the file, valid or not


PROGRESS_EVERY = 1000  # rows read between two words to the progress


def _counted(parsed: ParsedStream, progress: Progress) -> Iterator[dict[str, Any]]:
    """The rows that parse cleanly, telling ``progress`` of every row read, clean or not."""
    told = 0
    for row in parsed.rows():
        if parsed.row_count - told >= PROGRESS_EVERY:
            progress.advance(parsed.row_count - told)
            told = parsed.row_count
        yield row
    progress.advance(parsed.row_count - told)


def _check(importer: Importer, content: Source, filename: str, target: Any) -> tuple[Checked, list[RowError]]:
    """Read, parse and check a file: its rows as the importer holds them, and every problem in
    row order. The file is read a row at a time, straight into the importer's ``load``."""
    nothing = Checked(rows=[], row_count=0)
    try:
        parsed = ParsedStream(
            importer.columns,
            iter_table(content, filename, max_bytes=importer.max_bytes, max_rows=importer.max_rows),
        )
        if parsed.header_errors:
            return nothing, parsed.errors
        # A savepoint: a file found unreadable halfway leaves nothing of it loaded.
        with transaction.atomic():
            rows = importer.load(_counted(parsed, importer.progress))
    except SpreadsheetError as error:
        return nothing, [RowError(0, "", error.message)]
    checked = Checked(rows=rows, row_count=parsed.row_count)
    if parsed.row_count == 0:
        return checked, [RowError(0, "", _("The file has no rows to import."))]
    if parsed.more_errors:
        # Already more problems than anyone would read: checking against the data would not help.
        return checked, cap_errors(parsed.errors, parsed.more_errors)
    found = importer.check(rows=rows, target=target)
    errors = sorted([*parsed.errors, *found], key=lambda error: error.row)
    return checked, cap_errors(errors, getattr(found, "more", 0))


def _as_json(errors: list[RowError]) -> list[dict[str, Any]]:
    return [{"row": e.row, "column": str(e.column), "message": str(e.message)} for e in errors]


@transaction.atomic
def import_preview(
    *,
    actor: Principal,
    programme: Programme,
    importer: Importer,
    target: Any,
    content: Source,
    filename: str,
) -> ImportRun:
    """Check an upload (its bytes, or the file open for reading) and store it as a run:
    ``previewed`` when clean, with the file kept in storage for the confirmation, else
    ``rejected`` with its errors. Nothing is imported, so nothing is audited."""
    source = opened(content)
    checked, errors = _check(importer, source, filename, target)
    plan = [] if errors else importer.plan(rows=checked.rows, target=target)
    digest = hashlib.sha256()
    for chunk in chunks_of(source):
        digest.update(chunk)
    run = ImportRun(
        programme=programme,
        kind=importer.kind,
        target_id=importer.target_id(target),
        # The name as the person's computer knows it, keeping the extension if it is too long.
        filename=PurePath(filename.replace("\\", "/")).name[-200:],
        sha256=digest.hexdigest(),
        status=ImportRun.Status.REJECTED if errors else ImportRun.Status.PREVIEWED,
        row_count=checked.row_count,
        errors=_as_json(errors),
        plan=[planned.as_dict() for planned in plan],
        created_by=actor.user,
    )
    if not errors:  # only a clean file can be confirmed, so only a clean file is kept
        run.file.save(run.filename, File(source), save=False)
    try:
        run.save()
    except Exception:
        if run.file:
            run.file.delete(save=False)
        raise
    return run


def _forget_file(run: ImportRun) -> None:
    """The run's stored upload is no longer needed: removed from storage once the transaction
    that says so commits."""
    if run.file:
        name, storage = str(run.file.name), run.file.storage
        run.file = None  # type: ignore[assignment]
        transaction.on_commit(lambda: storage.delete(name))


def _reject(run: ImportRun, errors: list[RowError]) -> ImportRun:
    run.status = ImportRun.Status.REJECTED
    run.errors = _as_json(errors)
    _forget_file(run)
    run.save(update_fields=["status", "errors", "file"])
    return run


def import_apply(
    *, actor: Principal, run: ImportRun, importer: Importer, target: Any, in_background: bool = False
) -> ImportRun:
    """Import a previewed run: every row, or, when any problem shows up, none.

    Returns the run: ``applied`` with its summary, or ``rejected`` with the errors found now.
    Raises ``ValidationError`` when the run was already applied or rejected, or waits for a
    choice; ``PlanChanged`` (a ``ValidationError``) when the plan differs from the one shown, now
    stored for showing; and ``PermissionDenied`` when it belongs to another kind of import or
    another target.
    """
    with transaction.atomic():
        applied, changed = _apply(
            actor=actor, run=run, importer=importer, target=target, in_background=in_background
        )
    if changed is not None:
        raise changed  # after the commit, which keeps the new plan
    return applied


def _apply(
    *, actor: Principal, run: ImportRun, importer: Importer, target: Any, in_background: bool
) -> tuple[ImportRun, PlanChanged | None]:
    locked = ImportRun.objects.select_for_update().filter(pk=run.pk).first()
    if locked is None:
        raise PermissionDenied  # another programme's run: it does not exist in this scope
    if locked.kind != importer.kind or locked.target_id != importer.target_id(target):
        raise PermissionDenied
    if locked.status == ImportRun.Status.APPLIED:
        raise ValidationError(_("This import was already applied."))
    if locked.status == ImportRun.Status.APPLYING and not in_background:
        raise ValidationError(_("This import is being applied in the background."))
    if locked.status == ImportRun.Status.REJECTED:
        raise ValidationError(
            _("This import has errors, so nothing can be imported. Upload a corrected file.")
        )

    importer.progress.stage("checking", locked.row_count)
    try:
        with locked.file.open("rb") as stored:
            checked, errors = _check(importer, stored, locked.filename, target)
    except (FileNotFoundError, ValueError):  # ValueError: a run without a file
        checked, errors = (
            Checked(rows=[], row_count=0),
            [RowError(0, "", _("The file checked is no longer kept: upload it again."))],
        )
    if errors:
        return _reject(locked, errors), None
    plan = importer.plan(rows=checked.rows, target=target)
    if _plan_changed(locked.plan, plan):
        locked.plan = [planned.as_dict() for planned in plan]
        locked.save(update_fields=["plan"])
        return locked, PlanChanged(
            _(
                "The data changed since the file was checked: look at what the import will do now, then confirm."
            )
        )
    undecided = [planned.row for planned in plan if planned.action == CHOOSE]
    if undecided:
        raise ValidationError(
            ngettext(
                "Choose what row %(rows)s is before importing.",
                "Choose what rows %(rows)s are before importing.",
                len(undecided),
            )
            % {"rows": ", ".join(str(row) for row in undecided[:20])}
        )
    try:
        # A savepoint: a failure while writing undoes every row written, yet the run's
        # rejection below is still saved.
        with transaction.atomic():
            importer.progress.stage("writing", checked.row_count)
            summary = importer.apply(rows=checked.rows, target=target, actor=actor)
    except ValidationError as error:
        return _reject(locked, cap_errors(_errors_of(error))), None

    locked.status = ImportRun.Status.APPLIED
    locked.summary = dict(summary)
    locked.applied_at = timezone.now()
    _forget_file(locked)  # the rows now live in the app's own tables
    locked.save(update_fields=["status", "summary", "applied_at", "file"])
    audit.record(
        actor=actor.user,
        action="import.apply",
        obj=locked,
        programme=locked.programme_id,
        after={
            "kind": locked.kind,
            "target_id": locked.target_id,
            "filename": locked.filename,
            "sha256": locked.sha256,
            "rows": locked.row_count,
            **locked.summary,
        },
    )
    return locked, None


class PlanChanged(ValidationError):
    """The plan computed on confirmation differs from the one shown: it is stored and shown again."""


def _plan_changed(shown: list[dict[str, Any]], now: list[PlannedRow]) -> bool:
    """Whether the plan now says something the person did not see. A row they were to choose for
    may now be what they chose (a new record or one of the candidates shown); any other row must
    do exactly what was shown."""
    if [item["row"] for item in shown] != [planned.row for planned in now]:
        return True
    for before, planned in zip(shown, now, strict=True):
        if before["action"] == CHOOSE:
            offered = {candidate[0] for candidate in before["candidates"]}
            if planned.action == CREATE or (planned.record in offered and planned.action != CHOOSE):
                continue
            if planned.action == CHOOSE and {c[0] for c in planned.candidates} == offered:
                continue
            return True
        if planned.as_dict() != before:
            return True
    return False


def applies_in_background(importer: Importer, run: ImportRun) -> bool:
    """A run of more rows than ``IMPORT_BACKGROUND_ROWS`` is applied by a worker."""
    return importer.background and run.row_count > settings.IMPORT_BACKGROUND_ROWS


@transaction.atomic
def import_apply_later(
    *, actor: Principal, run: ImportRun, importer: Importer, target: Any, decisions: dict[int, str]
) -> ImportRun:
    """Send a checked run to a worker (``betterwork.apply_import``), with the person's choices:
    it is ``applying`` until the worker has imported it, rejected it, or sent it back for another
    look (``notice`` says why)."""
    locked = ImportRun.objects.select_for_update().filter(pk=run.pk).first()
    if locked is None or locked.kind != importer.kind or locked.target_id != importer.target_id(target):
        raise PermissionDenied
    if locked.status != ImportRun.Status.PREVIEWED:
        raise ValidationError(_("This import was already applied, or is being applied."))
    locked.status = ImportRun.Status.APPLYING
    locked.decisions = {str(row): choice for row, choice in decisions.items()}
    locked.applied_by = actor.user
    locked.notice = ""
    locked.save(update_fields=["status", "decisions", "applied_by", "notice"])
    from betterwork.tasks import apply_import, enqueue_on_commit

    enqueue_on_commit(apply_import, locked.pk, f"{type(importer).__module__}.{type(importer).__qualname__}")
    return locked


def apply_in_background(run_id: int, importer_path: str) -> str:
    """The worker's part: build the importer again and apply the run; what became of it."""
    with transaction.atomic():
        run = ImportRun.objects.select_related("programme", "applied_by").filter(pk=run_id).first()
    if run is None or run.status != ImportRun.Status.APPLYING or run.applied_by is None:
        return "gone"
    decisions = {int(row): choice for row, choice in run.decisions.items()}
    importer = import_string(importer_path)(run.programme, decisions=decisions)
    importer.progress = CachedProgress(run.pk)
    try:
        done = import_apply(
            actor=Principal.for_user(run.applied_by),
            run=run,
            importer=importer,
            target=run.programme,
            in_background=True,
        )
    except ValidationError as error:  # the data changed, or a choice is missing: look again
        with transaction.atomic():
            ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.APPLYING).update(
                status=ImportRun.Status.PREVIEWED, notice=" ".join(error.messages)[:500]
            )
        return ImportRun.Status.PREVIEWED
    finally:
        cache.delete(progress_key(run_id))
    return done.status


def imports_expire(*, programme: Programme) -> int:
    """The programme's runs checked but left unconfirmed for ``IMPORT_FILES_KEPT_DAYS`` days are
    rejected, and their uploads leave the storage; how many. In the programme's scope."""
    days = settings.IMPORT_FILES_KEPT_DAYS
    stale = (
        ImportRun.objects.filter(programme=programme, status=ImportRun.Status.PREVIEWED)
        .filter(created_at__lt=timezone.now() - timedelta(days=days))
        .select_for_update(skip_locked=True)  # a run being confirmed right now is left to it
    )
    message = ngettext(
        "Not confirmed within %(days)s day: upload the file again to import it.",
        "Not confirmed within %(days)s days: upload the file again to import it.",
        days,
    ) % {"days": days}
    count = 0
    with transaction.atomic():
        for run in stale:
            _reject(run, [RowError(0, "", message)])
            count += 1
    return count


def import_run_for(*, run_id: int, kind: str, target_id: str) -> ImportRun | None:
    """A run of this kind and target in the current scope (without the stored file), or None."""
    return ImportRun.objects.filter(pk=run_id, kind=kind, target_id=target_id).first()
