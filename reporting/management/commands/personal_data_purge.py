"""Remove the personal data whose kept period ended, programme by programme (docs/personal-data.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from betterwork import tenancy
from betterwork.models import Programme
from reporting import retention

LABELS = {
    "interview_notes": "interview notes",
    "committee_members": "committee members' names",
    "candidates": "election candidates' names",
    "training_participants": "training participants' names",
}


class Command(BaseCommand):
    help = (
        "Remove interview notes and erase committee members', candidates' and training participants' "
        "names kept longer than the settings allow; --dry-run only says what would go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("programmes", nargs="*", help="Programme codes (default: every programme).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; change nothing."
        )

    def handle(self, *args: Any, programmes: list[str], dry_run: bool, **options: Any) -> None:
        chosen = Programme.objects.order_by("code")
        if programmes:
            chosen = chosen.filter(code__in=[code.upper() for code in programmes])
            missing = {code.upper() for code in programmes} - set(chosen.values_list("code", flat=True))
            if missing:
                raise CommandError(f"No such programme: {', '.join(sorted(missing))}")
        verb = "would be removed" if dry_run else "removed"
        for programme in chosen:
            with tenancy.scope({programme.pk}), transaction.atomic():
                counts = retention.personal_data_purge(
                    programme=programme, today=programme.today(), dry_run=dry_run
                )
                if dry_run:
                    transaction.set_rollback(True)  # nothing written, whatever happened
            for kind in retention.KINDS:
                self.stdout.write(f"{programme.code}: {counts[kind]} {LABELS[kind]} {verb}")
