"""Committee members' and candidates' names are personal data, kept only as long as the
programme needs them (``settings.COMMITTEE_NAMES_KEPT_DAYS``).

A member's name goes that long after their term ended; a candidate's that long after the
election, once no member elected in it still serves (or left within the period). The name
becomes a neutral label ("Member 2186", in the programme's main language), the job in the
factory and the link to a sign-in are cleared, and side, sex, role, union membership, term and
attendance stay: the committees' figures do not change.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advisory.models import Candidate, CommitteeMember
from betterwork import audit
from betterwork.models import Programme


def _cutoff(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=settings.COMMITTEE_NAMES_KEPT_DAYS)


def member_names_due(*, programme: Programme, today: dt.date) -> QuerySet[CommitteeMember]:
    return CommitteeMember.objects.filter(
        programme=programme, term_ends_on__lt=_cutoff(today), name_erased_at__isnull=True
    )


def candidate_names_due(*, programme: Programme, today: dt.date) -> QuerySet[Candidate]:
    cutoff = _cutoff(today)
    still_recent = CommitteeMember.objects.filter(elected_in=OuterRef("election_id")).filter(
        Q(term_ends_on__isnull=True) | Q(term_ends_on__gte=cutoff)
    )
    return Candidate.objects.filter(
        programme=programme, election__held_on__lt=cutoff, name_erased_at__isnull=True
    ).exclude(Exists(still_recent))


@transaction.atomic
def committee_names_erase(*, programme: Programme, today: dt.date, dry_run: bool = False) -> dict[str, int]:
    """Erase the names whose kept period ended (``dry_run``: only count them), on record without
    the names. A system job: no acting person."""
    members = member_names_due(programme=programme, today=today)
    candidates = candidate_names_due(programme=programme, today=today)
    if dry_run:
        return {"committee_members": members.count(), "candidates": candidates.count()}
    with translation.override(programme.main_language):  # kept as data: in the programme's language
        member_label, candidate_label = _("Member") + " ", _("Candidate") + " "
    now = timezone.now()
    erased = {
        "committee_members": members.update(
            name=Concat(Value(member_label), Cast("id", CharField())),
            position="",
            user=None,
            name_erased_at=now,
        ),
        "candidates": candidates.update(
            name=Concat(Value(candidate_label), Cast("id", CharField())), name_erased_at=now
        ),
    }
    for kind, count in erased.items():
        if count:
            audit.record_purge(
                programme=programme, kind=kind, removed=count, kept_days=settings.COMMITTEE_NAMES_KEPT_DAYS
            )
    return erased
