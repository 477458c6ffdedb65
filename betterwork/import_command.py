"""The two steps of a spreadsheet import from the command line, shared by every import command:
the same checks, plan and all-or-nothing write as the page, recorded as an ``ImportRun``.

    manage.py import_factories KH factories.xlsx --user manager@example.org          (check only)
    manage.py import_factories KH factories.xlsx --user manager@example.org --apply  (then write)

A command takes files ten times the size the page takes; each step says how long it took.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from betterwork import tenancy
from betterwork.imports import STAGES, Importer, Progress, import_apply, import_preview
from betterwork.models import ImportRun, Programme, User
from betterwork.permissions import Principal

LARGER = 10  # how many times the page's limits a command takes


class BarProgress(Progress):
    """A bar per stage on the terminal, counting rows (nothing when the output is no terminal)."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None

    def stage(self, name: str, total: int) -> None:
        self.close()
        self.bar = tqdm(
            total=total or None,
            desc=str(STAGES[name]),
            unit=" rows",
            file=sys.stderr,
            disable=None,
        )

    def advance(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def add_import_arguments(parser: CommandParser) -> None:
    parser.add_argument("programme", help="The programme's code, e.g. KH.")
    parser.add_argument("file", help="A .csv or .xlsx file.")
    parser.add_argument("--user", required=True, help="The e-mail of the person importing (on record).")
    parser.add_argument("--apply", action="store_true", help="Write the rows once the file is clean.")


def run_import(
    command: BaseCommand,
    options: dict[str, Any],
    make_importer: Callable[[Programme], Importer],
    allowed: Callable[[Principal, int], bool],
) -> ImportRun:
    """Check the file, print its problems or its plan, and with ``--apply`` write it."""
    programme = Programme.objects.filter(code=options["programme"].upper()).first()
    if programme is None:
        raise CommandError(f"No such programme: {options['programme']}")
    user = User.objects.filter(email__iexact=options["user"], is_active=True).first()
    if user is None:
        raise CommandError(f"No active user with the e-mail {options['user']}")
    actor = Principal.for_user(user)
    if not allowed(actor, programme.pk):
        raise CommandError(f"{user.email} may not import this into {programme.code}.")
    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    out = command.stdout
    with tenancy.scope({programme.pk}):
        with transaction.atomic():  # the scope holds inside a transaction
            importer = make_importer(programme)
        importer.max_bytes *= LARGER
        importer.max_rows *= LARGER
        importer.progress = bar = BarProgress()
        started = time.perf_counter()
        bar.stage("reading", 0)
        with path.open("rb") as content:  # read a chunk at a time, never whole
            run = import_preview(
                actor=actor,
                programme=programme,
                importer=importer,
                target=programme,
                content=content,
                filename=path.name,
            )
        bar.close()
        out.write(f"Checked {run.row_count:,} rows in {time.perf_counter() - started:.1f} s.")
        if run.errors:
            for error in run.errors:
                where = f"row {error['row']}" if error["row"] else "file"
                column = f", {error['column']}" if error["column"] else ""
                out.write(f"  {where}{column}: {error['message']}")
            raise CommandError(f"{len(run.errors)} problems: nothing was imported.")
        for action, count in run.plan_counts:
            out.write(f"  {action}: {count:,}")
        if not options["apply"]:
            out.write("Nothing written yet: run again with --apply to import.")
            return run
        started = time.perf_counter()
        try:
            run = import_apply(actor=actor, run=run, importer=importer, target=programme)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        finally:
            bar.close()
        if run.status != ImportRun.Status.APPLIED:
            for problem in run.errors:
                out.write(f"  row {problem['row']}: {problem['message']}")
            raise CommandError("Nothing was imported.")
        summary = ", ".join(f"{key} {value:,}" for key, value in run.summary.items())
        out.write(f"Imported in {time.perf_counter() - started:.1f} s: {summary}.")
    return run
