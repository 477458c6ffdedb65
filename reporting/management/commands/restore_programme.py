"""Restore a programme from its archive (``manage.py export_programme``) into a database that
does not hold it: every id kept, derived figures rebuilt and compared with the archive's; a
failure undoes the whole restore (``reporting.archive``)."""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from betterwork.scale import add_loader_arguments, loader_for_command
from reporting.archive import ArchiveError, restore_archive


class Command(BaseCommand):
    help = "Restore a programme from its archive into a database that does not hold it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="The archive (.json or .json.gz).")
        add_loader_arguments(parser)

    def handle(
        self, *args: Any, archive: str, loader_url: str | None, superuser_url: str | None, **options: Any
    ) -> None:
        path = Path(archive)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        loader = loader_for_command(loader_url=loader_url, superuser_url=superuser_url)
        started = time.perf_counter()
        bar = tqdm(unit=" rows", file=sys.stderr, disable=None, desc="Restoring")
        try:
            with _open(path) as source:
                summary = restore_archive(
                    source,
                    loader=loader,
                    reason=f"restored from {path.name}",
                    on_start=lambda total: setattr(bar, "total", total),
                    progress=bar.update,
                )
        except (ArchiveError, OSError, EOFError) as error:
            raise CommandError(f"Nothing was restored: {error}") from error
        finally:
            bar.close()
            loader.close()
        self.stdout.write(
            f"{summary.programme}: {summary.rows:,} rows of {len(summary.tables)} tables and {summary.files} files "
            f"restored in {time.perf_counter() - started:.1f} s ({summary.shared_kept:,} shared rows were "
            f"already here). All {summary.figures:,} dashboard figures equal the archive's."
        )
        self.stdout.write(
            "Passwords are not in archives: people sign in after choosing a new one with "
            '"Forgot your password?" on the sign-in page.'
        )


def _open(path: Path) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb")) if path.name.endswith(".gz") else path.open("rb")
