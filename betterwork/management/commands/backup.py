"""Write one archive of the whole platform: the database (``pg_dump --format=custom``, taken as
the loader role so that row-level security hides no row), the media files and a manifest with
their checksums and every table's row count. ``manage.py restore_backup`` puts it back; see
``docs/backup.md`` and ``betterwork.backups``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from betterwork import backups
from betterwork.scale import add_loader_arguments, loader_for_command


class Command(BaseCommand):
    help = (
        "Write one archive (.tar) of the database (pg_dump, as the loader role) and the media files, "
        "with a manifest of checksums and row counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            help="The archive to write, or a folder (existing, or ending in /) to write "
            "betterwork-YYYYmmdd-HHMMSS.tar (UTC) into. Default: that name in the current folder.",
        )
        parser.add_argument(
            "--without-media",
            action="store_true",
            help="Leave the media files out (e.g. when they are in object storage, backed up there).",
        )
        add_loader_arguments(parser)

    def handle(
        self,
        *args: Any,
        output: str | None,
        without_media: bool,
        loader_url: str | None,
        superuser_url: str | None,
        **options: Any,
    ) -> None:
        path = Path(output) if output else Path.cwd()
        if path.is_dir() or (output or "").endswith(("/", os.sep)):
            path = path / backups.default_name()
        if path.exists():
            raise CommandError(f"{path} already exists: choose another --output.")
        media_root = None if without_media else self._media_root()
        loader = loader_for_command(loader_url=loader_url, superuser_url=superuser_url)
        try:
            access = backups.Access.of(loader.connection)
        finally:
            loader.close()
        try:
            written = backups.write_backup(path, access=access, media_root=media_root, say=self.stdout.write)
        except backups.BackupError as error:
            raise CommandError(f"No backup was written: {error}") from error
        size = written.path.stat().st_size
        self.stdout.write(
            f"Wrote {written.path} ({size / 1024 / 1024:,.1f} MB) in {written.seconds:.1f} s. "
            f"Restore it with: manage.py restore_backup {written.path}"
        )

    def _media_root(self) -> Path:
        if not isinstance(default_storage, FileSystemStorage):
            raise CommandError(
                f"Files are kept in {type(default_storage).__name__}, not in MEDIA_ROOT: back them up with "
                "that storage's own tools, and run this with --without-media."
            )
        return Path(settings.MEDIA_ROOT)
