"""Recompute the rollups from the answers: after a bulk load, or to check them."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from betterwork import tenancy
from betterwork.models import Programme
from reporting import rollups


class Command(BaseCommand):
    help = "Recompute the dashboards' rollups from each factory's latest final assessment per cycle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("programmes", nargs="*", help="Programme codes (default: every programme).")

    def handle(self, *args: Any, programmes: list[str], **options: Any) -> None:
        chosen = Programme.objects.order_by("code")
        if programmes:
            chosen = chosen.filter(code__in=[code.upper() for code in programmes])
            missing = {code.upper() for code in programmes} - set(chosen.values_list("code", flat=True))
            if missing:
                raise CommandError(f"No such programme: {', '.join(sorted(missing))}")
        for programme in chosen:
            started = time.perf_counter()
            with tenancy.scope({programme.pk}):
                counted = rollups.rebuild(programme)
            self.stdout.write(
                f"{programme.code}: {counted} assessments counted in {time.perf_counter() - started:.1f} s"
            )
