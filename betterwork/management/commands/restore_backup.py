"""Restore an archive of ``manage.py backup``: the database, as the loader role, in one
transaction checked against the manifest before it commits, then the media files. It refuses,
changing nothing, an archive that is not ours or whose checksums do not match, and a database
that is not empty unless --replace is given. See ``docs/backup.md`` and ``betterwork.backups``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from betterwork import backups
from betterwork.scale import add_loader_arguments, loader_for_command


class Command(BaseCommand):
    help = (
        "Restore a backup (manage.py backup) into the configured database, which must be empty unless "
        "--replace is given, and its media files into MEDIA_ROOT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="The archive (.tar) written by manage.py backup.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Drop everything the database holds and restore the archive in its place (in the same "
            "transaction: a failure keeps what was there); the archive's media files replace those of "
            "the same name.",
        )
        parser.add_argument(
            "--database-name",
            help="Restore into this database of the configured server instead of the configured one "
            "(create it first, owned by the application role).",
        )
        parser.add_argument(
            "--media-root", help="Restore the media files into this folder instead of MEDIA_ROOT."
        )
        parser.add_argument("--without-media", action="store_true", help="Restore the database only.")
        add_loader_arguments(parser)

    def handle(
        self,
        *args: Any,
        archive: str,
        replace: bool,
        database_name: str | None,
        media_root: str | None,
        without_media: bool,
        loader_url: str | None,
        superuser_url: str | None,
        **options: Any,
    ) -> None:
        target_media = None if without_media else self._media_root(media_root)
        try:
            with backups.Backup.open(Path(archive)) as backup:
                loader = loader_for_command(loader_url=loader_url, superuser_url=superuser_url)
                try:
                    access = backups.Access.of(loader.connection, dbname=database_name)
                finally:
                    loader.close()
                restored = backups.restore_backup(
                    backup, access=access, media_root=target_media, replace=replace, say=self.stdout.write
                )
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {Path(archive).name} in {restored.seconds:.1f} s.")
        for note in restored.notes:
            self.stdout.write(note)

    def _media_root(self, given: str | None) -> Path:
        if given:
            return Path(given)
        if not isinstance(default_storage, FileSystemStorage):
            raise CommandError(
                f"Files are kept in {type(default_storage).__name__}, not in MEDIA_ROOT: restore them with "
                "that storage's own tools, and run this with --without-media."
            )
        return Path(settings.MEDIA_ROOT)
