"""Personal data past its kept period leaves the platform, programme by programme: interview
notes (assessments), committee members' and candidates' names (advisory), training participants'
names (training). Each app removes its own; this runs them together, for the daily task and
``manage.py personal_data_purge`` (docs/personal-data.md). It lives here because only reporting
may call all three apps."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from advisory import retention as committee_retention
from assessments import interviews
from betterwork import audit
from betterwork.models import Programme
from training import services as training_services

# The kinds of personal data, in the order they are reported.
KINDS = ("interview_notes", "committee_members", "candidates", "training_participants")


@transaction.atomic
def personal_data_purge(*, programme: Programme, today: dt.date, dry_run: bool = False) -> dict[str, int]:
    """What left (or, with ``dry_run``, would leave) the programme, by kind. Call it inside the
    programme's scope. Each kind's removal is audited (``personal_data.purge``); a dry run
    changes nothing and records nothing."""
    removed = {
        "interview_notes": interviews.interview_notes_purge(
            programme=programme, today=today, dry_run=dry_run
        ),
        **committee_retention.committee_names_erase(programme=programme, today=today, dry_run=dry_run),
    }
    removed["training_participants"] = training_services.participant_names_erase(
        programme=programme, today=today, dry_run=dry_run
    )
    if removed["training_participants"] and not dry_run:
        # Training records its own erasure too; this row keeps every purge under one action.
        audit.record_purge(
            programme=programme,
            kind="training_participants",
            removed=removed["training_participants"],
            kept_days=settings.TRAINING_NAMES_KEPT_DAYS,
        )
    return {kind: removed[kind] for kind in KINDS}
