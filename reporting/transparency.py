"""The public transparency list: per factory, its compliance on the publicly reported questions of
its latest final assessment, named only once the programme's notice period has passed.

The rules, from the programme's settings (``Rules.statements`` says them in plain words on the page):

- Only final or published assessments count; drafts never do.
- An assessment's entry appears ``transparency_notice_days`` days after its report became final
  (``final_at``, when the report was sent to the factory), counted in days of the programme's time
  zone: final on 1 March with 60 days of notice, the entry appears on 30 April.
- A factory is listed from its ``transparency_min_cycles``-th final assessment on.
- With ``transparency_persisting_cycles`` N above 0, an issue is named only when its question
  (matched across tool versions by its stable key) was non-compliant in N consecutive final
  assessments of the factory.
- A factory shows its latest final assessment whose notice has passed. While a newer final report is
  still in its notice period, the earlier entry stays and says when it will be replaced: the newer
  findings get the same notice as every other. Issues the newer report found compliant show as
  remediated at once: improvements never wait for a notice period, new findings always get one.
- A factory with no named issue is listed as compliant; under the persisting rule, as having no
  persisting issue (which says nothing about newer issues).

Everything here reads within the current scope; public pages read under ``public_reading``. Entries
are plain data, not model instances: a public page can show only what is computed here, and no
finding text, person or interview note is ever read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments.figures import COUNTED
from assessments.models import Answer, AnswerValue, Assessment, in_language
from betterwork import permissions, tenancy
from betterwork import selectors as programme_selectors
from betterwork.models import Programme
from betterwork.permissions import Principal
from factories.models import Factory
from reporting.models import TransparencyResponse

COMPLIANT = "compliant"
NON_COMPLIANT = "non_compliant"
STATUSES = (NON_COMPLIANT, COMPLIANT)


# --- The programme's rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    notice_days: int
    min_cycles: int
    persisting_cycles: int
    time_zone: str

    @classmethod
    def of(cls, programme: Programme) -> Rules:
        return cls(
            notice_days=programme.transparency_notice_days,
            min_cycles=max(programme.transparency_min_cycles, 1),
            persisting_cycles=programme.transparency_persisting_cycles,
            time_zone=programme.time_zone,
        )

    def listed_from(self, final_at: dt.datetime) -> dt.date:
        """The day an assessment's entry appears: the day its report became final, in the
        programme's time zone, plus the notice period."""
        return final_at.astimezone(ZoneInfo(self.time_zone)).date() + dt.timedelta(days=self.notice_days)

    def status_label(self, status: str) -> str:
        if status == NON_COMPLIANT:
            return _("Non-compliant")
        return _("No persisting issue") if self.persisting_cycles > 1 else _("Compliant")

    @property
    def compliant_label(self) -> str:
        return self.status_label(COMPLIANT)

    @property
    def non_compliant_label(self) -> str:
        return self.status_label(NON_COMPLIANT)

    def status_choices(self) -> list[tuple[str, str]]:
        return [(status, self.status_label(status)) for status in STATUSES]

    def statements(self) -> list[str]:
        """The rules in plain words, for the public page (in the active language)."""
        days, cycles, persisting = self.notice_days, self.min_cycles, self.persisting_cycles
        lines = [
            _("Only final assessment reports count, never drafts.")
            if days == 0
            else ngettext(
                "A factory is named %(days)s day after its assessment report became final, so that it "
                "can act on the findings first. Only final reports count, never drafts.",
                "A factory is named %(days)s days after its assessment report became final, so that it "
                "can act on the findings first. Only final reports count, never drafts.",
                days,
            )
            % {"days": days},
            _("Every factory with a final assessment report is listed.")
            if cycles <= 1
            else ngettext(
                "A factory is listed once it has had at least %(count)s final assessment.",
                "A factory is listed once it has had at least %(count)s final assessments.",
                cycles,
            )
            % {"count": cycles},
        ]
        if persisting > 1:
            lines.append(
                ngettext(
                    "An entry names only the publicly reported issues found non-compliant in %(count)s "
                    "consecutive assessment of the factory; factories with no such issue are listed as "
                    "having no persisting issue.",
                    "An entry names only the publicly reported issues found non-compliant in %(count)s "
                    "consecutive assessments of the factory; factories with no such issue are listed as "
                    "having no persisting issue.",
                    persisting,
                )
                % {"count": persisting}
            )
        else:
            lines.append(
                _(
                    "An entry names each publicly reported issue found non-compliant in the report; "
                    "factories compliant on every publicly reported issue are listed as compliant."
                )
            )
        lines += [
            _(
                "Each factory is shown with its latest final report whose notice period has passed. When "
                "a newer report becomes final, the entry stays until the newer report's notice period has "
                "passed too; issues the newer report found compliant show as remediated at once."
            ),
            _(
                "Only the questions are published: no findings, names or interview notes. A factory may "
                "publish a response, shown beside its entry."
            ),
            _("Days are counted in the programme's time zone (%(zone)s).") % {"zone": self.time_zone},
        ]
        return lines


# --- What an entry holds --------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    key: str
    question: str  # the question's text in the viewer's language
    point_code: str
    point: str
    cycles: int  # consecutive final assessments non-compliant on it, this one included
    remediated: bool = False  # the newer report, still in its notice period, found it compliant


@dataclass(frozen=True)
class Response:
    text: str
    updated_on: dt.date


@dataclass(frozen=True)
class Entry:
    assessment_id: int
    factory_id: int
    public_id: str
    name: str
    region: str
    cycle: int
    visited_on: dt.date | None
    reported_on: dt.date
    listed_from: dt.date
    issues: tuple[Issue, ...] = ()
    replaced_on: dt.date | None = None  # a newer final report replaces this entry on that day
    response: Response | None = None

    @property
    def named_issues(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if not issue.remediated)

    @property
    def remediated_issues(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.remediated)

    @property
    def status(self) -> str:
        return NON_COMPLIANT if self.named_issues else COMPLIANT


# --- Computing the entries ------------------------------------------------------------------


@dataclass
class _Final:
    id: int
    cycle: int
    final_at: dt.datetime
    visited_on: dt.date | None
    listed_from: dt.date


@dataclass
class _Factory:
    id: int
    public_id: str
    name: str
    region: str
    finals: list[_Final] = field(default_factory=list)  # by cycle


@dataclass
class _Planned:
    factory: _Factory
    shown: _Final
    earlier: list[_Final]  # the factory's earlier finals, latest first
    newer: list[_Final]  # finals after the shown one, still in their notice period


def _final_assessments(
    *, programme: Programme, rules: Rules, factory_ids: Iterable[int] | None = None
) -> list[_Factory]:
    """Every final assessment of the programme's factories (one query), by factory."""
    rows = Assessment.objects.filter(programme=programme, status__in=COUNTED, final_at__isnull=False)
    if factory_ids is not None:
        rows = rows.filter(factory_id__in=list(factory_ids))
    factories: dict[int, _Factory] = {}
    for row in rows.order_by("factory_id", "cycle").values(
        "id",
        "cycle",
        "final_at",
        "visit_started_on",
        "factory_id",
        "factory__public_id",
        "factory__name",
        "factory__region",
    ):
        factory = factories.get(row["factory_id"])
        if factory is None:
            factory = factories[row["factory_id"]] = _Factory(
                id=row["factory_id"],
                public_id=row["factory__public_id"],
                name=row["factory__name"],
                region=row["factory__region"],
            )
        factory.finals.append(
            _Final(
                id=row["id"],
                cycle=row["cycle"],
                final_at=row["final_at"],
                visited_on=row["visit_started_on"],
                listed_from=rules.listed_from(row["final_at"]),
            )
        )
    return list(factories.values())


def _plan(factory: _Factory, rules: Rules, today: dt.date) -> _Planned | None:
    """Which assessment the factory's entry shows today, if the factory is listed at all."""
    finals = factory.finals
    passed = [n for n, final in enumerate(finals) if final.listed_from <= today]
    if not passed:
        return None
    position = passed[-1]
    if position + 1 < rules.min_cycles:
        return None
    return _Planned(
        factory=factory,
        shown=finals[position],
        earlier=list(reversed(finals[:position])),
        newer=finals[position + 1 :],
    )


def _entries(
    *, factories: list[_Factory], rules: Rules, today: dt.date, published_responses: bool = True
) -> list[Entry]:
    """The entries of these factories as they stand on ``today``: three more queries at most,
    however many factories."""
    plans = [plan for factory in factories if (plan := _plan(factory, rules, today)) is not None]
    if not plans:
        return []
    shown_ids = [plan.shown.id for plan in plans]
    named = (
        Answer.objects.filter(
            assessment_id__in=shown_ids,
            value=AnswerValue.NON_COMPLIANT,
            question__publicly_reported=True,
        )
        .order_by(
            "assessment_id", "question__point__cluster__order", "question__point__order", "question__order"
        )
        .values(
            "assessment_id",
            "question__key",
            "question__text",
            "question__point__code",
            "question__point__name",
        )
    )
    issues_of: dict[int, list[dict[str, object]]] = {}
    for row in named:
        issues_of.setdefault(row["assessment_id"], []).append(row)

    # The same questions (by key) in the factory's other final assessments: non-compliant in the
    # earlier ones (how long an issue persists), compliant in the newer ones (remediated since).
    earlier_ids = [final.id for plan in plans for final in plan.earlier]
    newer_ids = [final.id for plan in plans for final in plan.newer]
    seen: dict[int, dict[str, str]] = {}
    named_keys = sorted({str(row["question__key"]) for rows in issues_of.values() for row in rows})
    if named_keys and (earlier_ids or newer_ids):
        # Filtered by the few keys named anywhere (a country names some twenty-five questions),
        # not per factory: a plain index scan, where a correlated subquery took seconds.
        history = Answer.objects.filter(
            Q(assessment_id__in=earlier_ids, value=AnswerValue.NON_COMPLIANT)
            | Q(assessment_id__in=newer_ids, value=AnswerValue.COMPLIANT),
            question__key__in=named_keys,
        ).values_list("assessment_id", "question__key", "value")
        for assessment_id, key, value in history:
            seen.setdefault(assessment_id, {})[key] = value

    responses: dict[int, Response] = {}
    if published_responses:
        for response in TransparencyResponse.objects.filter(
            assessment_id__in=shown_ids, published=True
        ).values("assessment_id", "text", "updated_at"):
            responses[response["assessment_id"]] = Response(
                text=response["text"],
                updated_on=response["updated_at"].astimezone(ZoneInfo(rules.time_zone)).date(),
            )

    entries = []
    for plan in plans:
        latest_newer = seen.get(plan.newer[-1].id, {}) if plan.newer else {}
        issues = []
        for row in issues_of.get(plan.shown.id, []):
            key = str(row["question__key"])
            cycles = 1
            for earlier in plan.earlier:
                if seen.get(earlier.id, {}).get(key) != AnswerValue.NON_COMPLIANT:
                    break
                cycles += 1
            if rules.persisting_cycles > 1 and cycles < rules.persisting_cycles:
                continue
            issues.append(
                Issue(
                    key=key,
                    question=in_language(row["question__text"]),  # type: ignore[arg-type]
                    point_code=str(row["question__point__code"]),
                    point=in_language(row["question__point__name"]),  # type: ignore[arg-type]
                    cycles=cycles,
                    remediated=latest_newer.get(key) == AnswerValue.COMPLIANT,
                )
            )
        factory, shown = plan.factory, plan.shown
        entries.append(
            Entry(
                assessment_id=shown.id,
                factory_id=factory.id,
                public_id=factory.public_id,
                name=factory.name,
                region=factory.region,
                cycle=shown.cycle,
                visited_on=shown.visited_on,
                reported_on=shown.final_at.astimezone(ZoneInfo(rules.time_zone)).date(),
                listed_from=shown.listed_from,
                issues=tuple(issues),
                replaced_on=min(final.listed_from for final in plan.newer) if plan.newer else None,
                response=responses.get(shown.id),
            )
        )
    return entries


def transparency_list(
    *, programme: Programme, today: dt.date | None = None, search: str = "", status: str = ""
) -> list[Entry]:
    """The programme's transparency list as it stands today, by factory name. ``search`` matches
    the factory's name or public id; ``status`` keeps only compliant or non-compliant entries.
    The whole list comes from the cache when nothing it is computed from has changed (one
    statement), else it is computed (four statements whatever the number of factories) and kept."""
    rules = Rules.of(programme)
    entries = _whole_list(programme=programme, rules=rules, today=today or programme.today())
    needle = search.strip().casefold()
    if needle:
        entries = [e for e in entries if needle in e.name.casefold() or needle in e.public_id.casefold()]
    if status in STATUSES:
        entries = [entry for entry in entries if entry.status == status]
    return entries


# The whole list takes seconds at a few thousand factories (it reads the publicly reported answers
# of every factory's latest final reports) and is the same for every visitor in a language on a
# day. So it is kept in the cache under a fingerprint of what it is computed from: the programme's
# final assessments (each transition bumps ``lock_version``), its factories' names and regions and
# the factories' responses. Answers are not in it: a report's answers never change once it is
# final. A change of any of these, by whatever path, changes the fingerprint: nothing needs to
# remember to clear the cache. The database's oid keeps apart databases that share one cache.
LIST_CACHE_SECONDS = 6 * 60 * 60
_FINGERPRINT_SQL = """
SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),
       (SELECT md5(coalesce(string_agg(concat_ws(':', id, factory_id, cycle, status, lock_version,
                                                 final_at, visit_started_on), ',' ORDER BY id), ''))
          FROM {assessments} WHERE programme_id = %(programme)s AND final_at IS NOT NULL),
       (SELECT md5(coalesce(string_agg(concat_ws(':', id, public_id, name, region), ',' ORDER BY id), ''))
          FROM {factories} WHERE programme_id = %(programme)s),
       (SELECT md5(coalesce(string_agg(concat_ws(':', id, assessment_id, version, published, updated_at),
                                       ',' ORDER BY id), ''))
          FROM {responses} WHERE programme_id = %(programme)s)
"""


def _fingerprint(programme: Programme) -> str:
    sql = _FINGERPRINT_SQL.format(
        assessments=Assessment._meta.db_table,
        factories=Factory._meta.db_table,
        responses=TransparencyResponse._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"programme": programme.pk})
        row = cursor.fetchone()
    return ":".join(str(value) for value in row)


def _whole_list(*, programme: Programme, rules: Rules, today: dt.date) -> list[Entry]:
    parts = (programme.pk, today.isoformat(), translation.get_language(), rules, _fingerprint(programme))
    key = "transparency-list:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    entries: list[Entry] | None = cache.get(key)
    if entries is None:
        entries = _entries(
            factories=_final_assessments(programme=programme, rules=rules), rules=rules, today=today
        )
        entries.sort(key=lambda entry: (entry.name.casefold(), entry.public_id))
        cache.set(key, entries, LIST_CACHE_SECONDS)
    return entries


def keep_list(programme: Programme) -> None:
    """Compute the programme's list as it stands today in English and each of the programme's
    languages, unless kept already, so that no visitor waits for it: one statement a language when
    nothing changed."""
    for language in dict.fromkeys([settings.LANGUAGE_CODE, *programme.languages]):
        with translation.override(language), public_reading(programme):
            transparency_list(programme=programme)


# --- One factory's view of its entry --------------------------------------------------------


def access_factory(*, principal: Principal, programme: Programme, factory_id: int) -> Factory:
    """A factory of the programme whose entry this principal may look at; else 404 (absent and
    forbidden look alike)."""
    factory = Factory.objects.filter(programme=programme, pk=factory_id).select_related("programme").first()
    if factory is None or not permissions.can_view_transparency_entry(principal, factory):
        raise Http404
    return factory


@dataclass(frozen=True)
class FactoryTransparency:
    rules: Rules
    entry: Entry | None  # what the public sees today
    upcoming: Entry | None  # how the newest final report's entry will look once its notice passed
    finals: int  # the factory's final assessments so far
    responses: dict[int, TransparencyResponse]  # by assessment: the factory's own, published or not

    @property
    def respondable(self) -> list[Entry]:
        """The entries the factory may respond to: today's, and the one coming next."""
        return [entry for entry in (self.entry, self.upcoming) if entry is not None]


def factory_transparency(
    *, programme: Programme, factory_id: int, today: dt.date | None = None
) -> FactoryTransparency:
    """The factory's entry today and, while its newest final report is in its notice period, the
    entry it will have once that period is over (``upcoming.listed_from`` says when)."""
    rules = Rules.of(programme)
    today = today or programme.today()
    factories = _final_assessments(programme=programme, rules=rules, factory_ids=[factory_id])
    current = _entries(factories=factories, rules=rules, today=today)
    entry = current[0] if current else None
    upcoming = None
    finals = factories[0].finals if factories else []
    if finals and finals[-1].listed_from > today:
        later = _entries(factories=factories, rules=rules, today=finals[-1].listed_from)
        upcoming = later[0] if later else None
    ids = [e.assessment_id for e in (entry, upcoming) if e is not None]
    responses = (
        {r.assessment_id: r for r in TransparencyResponse.objects.filter(assessment_id__in=ids)}
        if ids
        else {}
    )
    return FactoryTransparency(
        rules=rules, entry=entry, upcoming=upcoming, finals=len(finals), responses=responses
    )


# --- Public reading -------------------------------------------------------------------------


def public_programme(code: str) -> Programme:
    """An active programme by its code, for the public pages; else 404."""
    programme = programme_selectors.programme_by_code(code)
    if programme is None or not programme.is_active:
        raise Http404
    return programme


def public_programmes() -> list[Programme]:
    return list(Programme.objects.filter(is_active=True).order_by("name"))


@contextmanager
def public_reading(programme: Programme) -> Iterator[None]:
    """Read as the public: a visitor has no grants and so no scope; the public pages read inside
    an explicit scope of this one programme, in a transaction of their own, so row-level security
    holds them to it as well."""
    with transaction.atomic(), tenancy.scope({programme.pk}):
        yield
