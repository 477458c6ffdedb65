"""Import historical assessments from a spreadsheet (docs/imports.md), as the import page does,
for files too large for the browser."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assessments.imports import HistoryImporter
from betterwork import permissions
from betterwork.import_command import add_import_arguments, run_import


class Command(BaseCommand):
    help = "Check a file of historical assessments (one row per answer) and, with --apply, import it."

    def add_arguments(self, parser: CommandParser) -> None:
        add_import_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run_import(self, options, HistoryImporter, permissions.can_import_assessments)
