"""Load the compliance tool from its data files: points.yaml first, then version files, then
their translations (translations/<tool>-<version>.<language>.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments import services
from betterwork.models import Programme

TOOL_DIR = Path(__file__).resolve().parents[2] / "tool"


class Command(BaseCommand):
    help = "Load clusters, compliance points and tool versions from YAML files (default: assessments/tool/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files", nargs="*", help="Version files; all of assessments/tool/ when none is given."
        )
        parser.add_argument("--publish", action="store_true", help="Publish each loaded version.")

    def handle(self, *args: Any, files: list[str], publish: bool, **options: Any) -> None:
        clusters, points = services.points_load(data=self._read(TOOL_DIR / "points.yaml"))
        self.stdout.write(f"{clusters} clusters, {points} compliance points")
        paths = [Path(f) for f in files] or sorted(
            p for p in TOOL_DIR.glob("*.yaml") if p.name != "points.yaml"
        )
        # The global template first: country versions refer to its questions.
        for path in sorted(paths, key=lambda p: p.name != "global.yaml"):
            data = self._read(path)
            if not files and data.get("tool") not in ("global", *self._programme_codes()):
                self.stdout.write(f"{path.name}: skipped, no programme {data.get('tool')} on this platform")
                continue
            try:
                version, outcome = services.tool_load(data=data, publish=publish)
            except ValidationError as error:
                raise CommandError(f"{path.name}: " + "; ".join(error.messages)) from error
            self.stdout.write(
                f"{path.name}: {version} {outcome}, {version.questions.count()} questions, {version.status}"
            )
        if not files:
            self._translations()

    def _translations(self) -> None:
        """Each version's text in other languages (translations/), once the versions are there."""
        for path in sorted((TOOL_DIR / "translations").glob("*.yaml")):
            try:
                count = services.tool_translation_load(data=self._read(path))
            except ValidationError as error:
                raise CommandError(f"{path.name}: " + "; ".join(error.messages)) from error
            self.stdout.write(f"{path.name}: {count} texts")

    def _programme_codes(self) -> list[str]:
        return list(Programme.objects.values_list("code", flat=True))

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise CommandError(f"{path}: {error}") from error
        if not isinstance(data, dict):
            raise CommandError(f"{path}: not a tool file")
        return data
