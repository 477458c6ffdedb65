"""Write a programme's archive: every row, the shared rows they refer to, its files and its
dashboard figures, in one JSON file (``reporting.archive``); ``.gz`` compresses it."""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from betterwork.models import Programme
from reporting.archive import write_archive


class Command(BaseCommand):
    help = "Write a programme's archive (one JSON file) for manage.py restore_programme."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("programme", help="The programme's code, e.g. KH.")
        parser.add_argument(
            "--output", required=True, help="The file to write; a name ending in .gz is compressed."
        )
        parser.add_argument(
            "--without-files", action="store_true", help="Leave out attachments and evidence files."
        )

    def handle(self, *args: Any, programme: str, output: str, without_files: bool, **options: Any) -> None:
        chosen = Programme.objects.filter(code=programme.upper()).first()
        if chosen is None:
            raise CommandError(f"No such programme: {programme}")
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"No such folder: {path.parent}")
        started = time.perf_counter()
        bar = tqdm(unit=" rows", file=sys.stderr, disable=None, desc=f"Exporting {chosen.code}")
        partial = path.with_name(path.name + ".partial")
        try:
            with _open(partial) as out:
                summary = write_archive(
                    out,
                    chosen,
                    with_files=not without_files,
                    on_start=lambda total: setattr(bar, "total", total),
                    progress=bar.update,
                )
            partial.replace(path)  # a half-written archive never carries the final name
        finally:
            bar.close()
            partial.unlink(missing_ok=True)
        self.stdout.write(
            f"{chosen.code}: {summary.rows:,} rows of {len(summary.tables)} tables, {summary.files} files and "
            f"{summary.figures:,} dashboard figures written to {path} ({path.stat().st_size / 1e6:,.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s."
        )
        for name in summary.files_missing:
            self.stderr.write(f"  missing from storage, left out: {name}")


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz.partial"):
        return cast(IO[bytes], gzip.open(path, "wb", compresslevel=6))
    return path.open("wb")
