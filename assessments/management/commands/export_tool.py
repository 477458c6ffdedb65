"""Write a tool version back out as its YAML data file."""

from __future__ import annotations

from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from assessments import selectors


class Command(BaseCommand):
    help = "Export a compliance tool version as YAML (to standard output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tool", help='"global" or a country programme code')
        parser.add_argument("version")

    def handle(self, *args: Any, tool: str, version: str, **options: Any) -> None:
        try:
            found = selectors.tool_version(tool=tool, version=version)
        except Http404 as error:
            raise CommandError(f"No version {version} of the {tool} tool.") from error
        self.stdout.write(
            yaml.safe_dump(
                selectors.tool_export(version=found), sort_keys=False, allow_unicode=True, width=110
            )
        )
