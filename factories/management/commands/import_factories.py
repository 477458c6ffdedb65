"""Import a factory list from a spreadsheet (docs/imports.md), as the import page does. Rows that
could be one of several factories wait for a choice: give it with --decide ROW=FACTORY_ID (the
platform's factory id, e.g. KH000018) or ROW=new."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from betterwork import permissions
from betterwork.import_command import add_import_arguments, run_import
from betterwork.imports import NEW
from betterwork.models import Programme
from factories.imports import FactoryImporter
from factories.models import Factory


class Command(BaseCommand):
    help = "Check a factory list and, with --apply, update the programme's registry from it."

    def add_arguments(self, parser: CommandParser) -> None:
        add_import_arguments(parser)
        parser.add_argument(
            "--decide",
            action="append",
            default=[],
            metavar="ROW=ID",
            help="Which factory a row is (its factory id), or ROW=new; may be repeated.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def importer(programme: Programme) -> FactoryImporter:
            return FactoryImporter(programme, decisions=self._decisions(programme, options["decide"]))

        run_import(self, options, importer, permissions.can_import_factories)

    @staticmethod
    def _decisions(programme: Programme, given: list[str]) -> dict[int, str]:
        decisions = {}
        for item in given:
            row, _equals, choice = item.partition("=")
            if not row.isdigit() or not choice:
                raise CommandError(f"--decide takes ROW=FACTORY_ID or ROW=new, not {item!r}")
            if choice.lower() == NEW:
                decisions[int(row)] = NEW
                continue
            factory = Factory.objects.filter(programme=programme, public_id__iexact=choice).first()
            if factory is None:
                raise CommandError(f"No factory {choice} in {programme.code}.")
            decisions[int(row)] = str(factory.pk)
        return decisions
