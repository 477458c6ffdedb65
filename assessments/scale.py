"""The scale data set's assessments (``manage.py seed_scale``): a published tool per programme,
one assessment per factory and cycle, cycles a year apart, and their answers.

Non-compliance follows the demo's patterns (overtime, exits, chemicals and pay are common; child
and forced labour rare): the chance that a question is found non-compliant is its base rate ×
the programme's leaning on its cluster × the factory's propensity × an improvement per cycle,
and an issue found in the previous cycle is likelier to be found again than a new one. Past cycles are published (a
few only final); the latest cycle is a mix of every state, its dates agreeing with the state.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import yaml
from django.utils import timezone
from psycopg2 import sql

from assessments import services
from assessments.demo import BASE_RATE, COMMON_ISSUES, FINDINGS, RARE, STATES_OF_LATEST
from assessments.models import (
    Answer,
    Assessment,
    AssessmentAssessor,
    AssessmentStatus,
    Case,
    CaseStatus,
    EvidenceSource,
    Question,
    Round,
    ToolVersion,
)
from betterwork.scale import Loader, ScaleContext, ScaleProgramme
from factories.demo import weighted
from factories.scale import ScaleFactory, loaded_factories

S = AssessmentStatus
MODELS = [Round, Assessment, AssessmentAssessor, Answer, Case]
TOOL_DIR = Path(__file__).resolve().parent / "tool"
TOOL_VERSION = "scale"

IMPROVEMENT = 0.92  # each cycle finds a little less than the one before
# From the second cycle on, an issue found in the previous cycle persists with at least this
# chance (more for the common ones), and a new issue appears less often than in a first visit.
PERSISTING = 0.40
PERSISTING_ABOVE = 0.20
NEW_ISSUE = 0.60
NOT_APPLICABLE = 0.04
NATIONAL_FACTOR = 0.5  # national-law questions beyond the global template are found less often
PAST_STATES = ((S.PUBLISHED, 92), (S.FINAL, 8))
IN_PROGRESS_ANSWERED = 0.55  # share of questions an assessment in progress has answered

# The order of the states, and the days after the visit at which each step happened.
ORDER = (S.PLANNED, S.IN_PROGRESS, S.SUBMITTED, S.IN_REVIEW, S.FACTORY_REVIEW, S.FINAL, S.PUBLISHED)
SUBMITTED_AFTER, IN_REVIEW_AFTER, FACTORY_REVIEW_AFTER, FINAL_AFTER, PUBLISHED_AFTER = 10, 20, 30, 50, 60
REPORT_DUE_AFTER = 56


def latest_age(status: str, review_days: int) -> tuple[int, int]:
    """How many days ago the latest cycle's visit was, by its state (negative: still to come)."""
    ages: dict[str, tuple[int, int]] = {
        S.PLANNED: (-90, -7),
        S.IN_PROGRESS: (0, SUBMITTED_AFTER - 1),
        S.SUBMITTED: (SUBMITTED_AFTER, IN_REVIEW_AFTER - 1),
        S.IN_REVIEW: (IN_REVIEW_AFTER, FACTORY_REVIEW_AFTER - 1),
        # The factory's window is still open.
        S.FACTORY_REVIEW: (FACTORY_REVIEW_AFTER, FACTORY_REVIEW_AFTER + review_days - 1),
        S.FINAL: (FINAL_AFTER, 120),
        S.PUBLISHED: (PUBLISHED_AFTER, 330),
    }
    return ages[status]


def reached(status: str, step: str) -> bool:
    return ORDER.index(status) >= ORDER.index(step)


@dataclass(frozen=True)
class ScaleQuestion:
    id: int
    zero_tolerance: bool
    rate: float  # before the programme's, factory's and cycle's factors
    cluster: str
    second_assessor: bool  # the pair splits the clusters between them


@dataclass(frozen=True)
class ScaleTool:
    version_id: int
    questions: list[ScaleQuestion]


@dataclass(slots=True)
class Visit:
    id: int
    factory: ScaleFactory
    cycle: int
    status: str
    on: dt.date
    lead_id: int
    second_id: int
    reviewer_id: int | None
    propensity: float


# --- The tool, written through the application before the load -----------------------------------


def _read(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load((TOOL_DIR / name).read_text(encoding="utf-8")))


def tool_data(*, code: str, country: str, questions: int, effective_from: dt.date) -> dict[str, Any]:
    """A country version with this many questions: spread over the global template's clusters
    when fewer, else all of it and national-law questions under the same compliance points."""
    base = _read("global.yaml")["questions"]
    if questions <= len(base):
        chosen = [{**base[n * len(base) // questions]} for n in range(questions)]
    else:
        chosen = [{**q} for q in base]
        for n in range(questions - len(base)):
            q = base[n % len(base)]
            chosen.append(
                {
                    **q,
                    "key": f"{q['key']}-N{n // len(base) + 2}",
                    "flags": [],
                    "legal_reference": f"Labour law of {country}",
                    "text": {"en": f"Under national law: {q['text']['en']}"},
                }
            )
    for q in chosen:
        if "-N" not in q["key"]:
            q["global_key"] = q["key"]
    return {
        "tool": code,
        "version": TOOL_VERSION,
        "effective_from": effective_from,
        "title": {"en": f"Compliance tool for {country} (scale data set)"},
        "questions": chosen,
    }


def _base_rate(key: str, cluster: str, national: bool) -> float:
    if cluster in RARE:
        return 0.01
    rate = COMMON_ISSUES.get(key.split("-N")[0], BASE_RATE)
    return rate * NATIONAL_FACTOR if national else rate


def prepare(ctx: ScaleContext) -> Iterator[str]:
    services.points_load(data=_read("points.yaml"))
    services.tool_load(data=_read("global.yaml"), publish=True)  # country versions refer to it
    effective_from = dt.date(ctx.history_start.year - 1, 1, 1)
    tools: dict[int, ScaleTool] = {}
    for scale in ctx.programmes:
        data = tool_data(
            code=scale.code,
            country=scale.facts.country,
            questions=ctx.size.questions,
            effective_from=effective_from,
        )
        version, _outcome = services.tool_load(data=data, publish=True)
        questions = (
            Question.objects.filter(version=version).select_related("point__cluster").order_by("order")
        )
        tools[scale.programme.pk] = ScaleTool(
            version.pk,
            [
                ScaleQuestion(
                    id=q.pk,
                    zero_tolerance=q.zero_tolerance,
                    rate=_base_rate(q.key, q.point.cluster.code, national=not q.global_key),
                    cluster=q.point.cluster.code,
                    second_assessor=q.point.cluster.order % 2 == 0,
                )
                for q in questions
            ],
        )
    ctx.shared["tools"] = tools
    yield f"{len(tools)} published tools of {ctx.size.questions} questions"


def remove(loader: Loader, programmes: list[tuple[int, str]]) -> None:
    """The scale programmes' tools go too: the next load may ask for another number of questions."""
    codes = [code for _, code in programmes]
    versions = sql.Identifier(ToolVersion._meta.db_table)
    loader.execute(
        sql.SQL("DELETE FROM {} WHERE version_id IN (SELECT id FROM {} WHERE tool = ANY(%s))").format(
            sql.Identifier(Question._meta.db_table), versions
        ),
        [codes],
    )
    loader.execute(sql.SQL("DELETE FROM {} WHERE tool = ANY(%s)").format(versions), [codes])


# --- The load ------------------------------------------------------------------------------------


def load(ctx: ScaleContext) -> Iterator[str]:
    loader = ctx.loader
    tools: dict[int, ScaleTool] = ctx.shared["tools"]
    by_programme: dict[int, list[ScaleFactory]] = {}
    for factory in loaded_factories(ctx):
        by_programme.setdefault(factory.programme_id, []).append(factory)

    next_id = loader.first_id(Assessment)
    visits: list[Visit] = []
    for scale in ctx.programmes:
        made = _visits(ctx, scale, by_programme[scale.programme.pk], next_id)
        visits.extend(made)
        next_id += len(made)

    rounds = _rounds(ctx, visits, loader.first_id(Round))
    count = loader.copy_rows(Round, rounds.values())
    yield f"{count:,} rounds"
    round_ids = {key: row["id"] for key, row in rounds.items()}
    review_days = {s.programme.pk: s.programme.factory_review_days for s in ctx.programmes}
    count = loader.copy_rows(
        Assessment,
        (
            _assessment_row(
                v,
                tools[v.factory.programme_id].version_id,
                round_ids[(v.factory.programme_id, v.on.year, _half(v.on))],
                review_days[v.factory.programme_id],
            )
            for v in visits
        ),
    )
    yield f"{count:,} assessments"
    count = loader.copy_rows(AssessmentAssessor, _assessors(visits, loader.first_id(AssessmentAssessor)))
    yield f"{count:,} assessors"
    cases: list[tuple[Visit, int, str]] = []
    count = loader.copy(
        Answer,
        [
            "id",
            "programme_id",
            "assessment_id",
            "question_id",
            "value",
            "finding",
            "evidence",
            "version",
            "updated_by_id",
            "updated_at",
        ],
        _answers(ctx, visits, tools, loader.first_id(Answer), cases),
    )
    yield f"{count:,} answers"
    count = loader.copy_rows(Case, _cases(ctx, cases, loader.first_id(Case)))
    yield f"{count:,} zero-tolerance cases"


def _visits(
    ctx: ScaleContext, scale: ScaleProgramme, factories: list[ScaleFactory], first_id: int
) -> list[Visit]:
    rng = ctx.rng("visits", scale.code)
    cycles = ctx.size.cycles
    review_days = scale.programme.factory_review_days
    visits = []
    pk = first_id
    for factory in factories:
        propensity = rng.lognormvariate(0, 0.5)
        latest_status = weighted(rng, STATES_OF_LATEST)
        low, high = latest_age(latest_status, review_days)
        latest = ctx.today - dt.timedelta(days=rng.randint(low, high))
        others = [a for a in scale.advisor_ids if a != factory.designated_advisor_id]
        for cycle in range(1, cycles + 1):
            if cycle == cycles:
                status, on = latest_status, latest
            else:
                status = weighted(rng, PAST_STATES)
                on = latest - dt.timedelta(days=365 * (cycles - cycle) + rng.randint(-15, 15))
            visits.append(
                Visit(
                    id=pk,
                    factory=factory,
                    cycle=cycle,
                    status=status,
                    on=on,
                    lead_id=factory.designated_advisor_id,
                    second_id=rng.choice(others),
                    # Team leaders review; they are never one of the assessors.
                    reviewer_id=rng.choice(scale.team_leader_ids) if reached(status, S.IN_REVIEW) else None,
                    propensity=propensity,
                )
            )
            pk += 1
    return visits


def _half(day: dt.date) -> int:
    return 1 if day.month <= 6 else 2


def _rounds(
    ctx: ScaleContext, visits: list[Visit], first_id: int
) -> dict[tuple[int, int, int], dict[str, Any]]:
    """Half-year rounds over every programme's visits, as many programmes plan them."""
    years = range(min(v.on for v in visits).year, max(v.on for v in visits).year + 1)
    rounds: dict[tuple[int, int, int], dict[str, Any]] = {}
    pk = first_id
    for scale in ctx.programmes:
        for year in years:
            for half, (starts, ends) in enumerate(
                ((dt.date(year, 1, 1), dt.date(year, 6, 30)), (dt.date(year, 7, 1), dt.date(year, 12, 31))),
                start=1,
            ):
                rounds[(scale.programme.pk, year, half)] = {
                    "id": pk,
                    "programme_id": scale.programme.pk,
                    "name": f"{year} round {half}",
                    "starts_on": starts,
                    "ends_on": ends,
                }
                pk += 1
    return rounds


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _assessment_row(v: Visit, tool_version_id: int, round_id: int, review_days: int) -> dict[str, Any]:
    status, on = v.status, v.on
    visited = status != S.PLANNED
    return {
        "id": v.id,
        "programme_id": v.factory.programme_id,
        "factory_id": v.factory.id,
        "tool_version_id": tool_version_id,
        "cycle": v.cycle,
        "round_id": round_id,
        "status": status,
        "planned_date": on,
        "due_date": on + dt.timedelta(days=REPORT_DUE_AFTER),
        "visit_started_on": on if visited else None,
        "visit_ended_on": on + dt.timedelta(days=1) if visited else None,
        "person_days": Decimal("4.0") if visited else None,
        "access_restricted": visited and v.id % 41 == 0,
        "documents_on_time": v.id % 9 != 0,
        "interviews": {
            "management": 3,
            "workers": 12 + v.id % 25,
            "union": 2 if v.factory.union_present else 0,
        }
        if visited
        else {},
        "reviewer_id": v.reviewer_id,
        "submitted_at": _at(on + dt.timedelta(days=SUBMITTED_AFTER))
        if reached(status, S.SUBMITTED)
        else None,
        "factory_review_until": on + dt.timedelta(days=FACTORY_REVIEW_AFTER + review_days)
        if reached(status, S.FACTORY_REVIEW)
        else None,
        "final_at": _at(on + dt.timedelta(days=FINAL_AFTER)) if reached(status, S.FINAL) else None,
        "published_at": _at(on + dt.timedelta(days=PUBLISHED_AFTER)) if status == S.PUBLISHED else None,
        # One more for each transition taken, as the lifecycle counts them.
        "lock_version": ORDER.index(status) + 1,
        "created_at": min(_at(on - dt.timedelta(days=30)), timezone.now()),
    }


def _assessors(visits: list[Visit], first_id: int) -> Iterator[dict[str, Any]]:
    pk = first_id
    for v in visits:
        for user_id, lead in ((v.lead_id, True), (v.second_id, False)):
            yield {
                "id": pk,
                "programme_id": v.factory.programme_id,
                "assessment_id": v.id,
                "user_id": user_id,
                "lead": lead,
            }
            pk += 1


def _answers(
    ctx: ScaleContext,
    visits: list[Visit],
    tools: dict[int, ScaleTool],
    first_id: int,
    cases: list[tuple[Visit, int, str]],
) -> Iterator[str]:
    """COPY text of every answer, one chunk per assessment. This loop makes 25 million rows, so
    everything that does not change per answer is made once: per programme or per assessment."""
    findings = [t.format(n=n, k=k) for t in FINDINGS for n in range(1, 5) for k in range(2, 10)]
    evidence = [json.dumps(list(pair)) for pair in itertools.combinations(EvidenceSource.values, 2)]
    assert not any(
        ch in text for text in findings + evidence for ch in "\t\n\\"
    )  # written into COPY text as they are
    compliant = [f"\tC\t\t{e}" for e in evidence]
    not_applicable = [f"\tNA\t\t{e}" for e in evidence]
    non_compliant = [f"\tNC\t{f}\t{evidence[n % len(evidence)]}" for n, f in enumerate(findings)]
    n_findings, n_evidence = len(findings), len(evidence)
    na_above = 1 - NOT_APPLICABLE
    now = timezone.now()

    leaning: dict[int, dict[str, float]] = {}  # programme -> cluster -> factor
    rngs = {}
    for scale in ctx.programmes:
        rng = ctx.rng("answers", scale.code)
        rngs[scale.programme.pk] = rng
        clusters = sorted({q.cluster for q in tools[scale.programme.pk].questions})
        leaning[scale.programme.pk] = {c: rng.lognormvariate(0, 0.35) for c in clusters}
    per_programme = {
        pk: (
            [min(0.9, q.rate * leaning[pk][q.cluster]) for q in tool.questions],
            [str(q.id) for q in tool.questions],
            [q.zero_tolerance for q in tool.questions],
            [int(q.second_assessor) for q in tool.questions],
        )
        for pk, tool in tools.items()
    }

    pk = first_id
    factory_id = -1
    previous: set[int] = set()
    for v in visits:
        if v.factory.id != factory_id:
            factory_id, previous = v.factory.id, set()
        if v.status == S.PLANNED:
            continue
        programme_id = v.factory.programme_id
        rates, question_ids, zero_tolerance, by_second = per_programme[programme_id]
        rnd = rngs[programme_id].random
        factor = v.propensity * IMPROVEMENT ** (v.cycle - 1)
        if v.cycle == 1:
            limits = [rate * factor for rate in rates]
        else:
            limits = [rate * factor * NEW_ISSUE for rate in rates]
            for i in previous:
                limits[i] = min(0.9, max(PERSISTING, rates[i] * factor + PERSISTING_ABOVE))
        partial = v.status == S.IN_PROGRESS
        saved = min(
            _at(v.on if partial else v.on + dt.timedelta(days=SUBMITTED_AFTER - 1), 15), now
        ).isoformat()
        head = f"\t{programme_id}\t{v.id}\t"
        tails = (f"\t1\t{v.lead_id}\t{saved}\n", f"\t1\t{v.second_id}\t{saved}\n")
        parts = []
        found = set()
        for i, limit in enumerate(limits):
            r = rnd()
            if partial and rnd() > IN_PROGRESS_ANSWERED:
                continue
            pick = int(r * 1_000_003)
            if r < limit:
                value = non_compliant[pick % n_findings]
                found.add(i)
                if zero_tolerance[i]:
                    cases.append((v, int(question_ids[i]), findings[pick % n_findings]))
            elif r > na_above:
                value = not_applicable[pick % n_evidence]
            else:
                value = compliant[pick % n_evidence]
            parts.append(f"{pk}{head}{question_ids[i]}{value}{tails[by_second[i]]}")
            pk += 1
        previous = found
        yield "".join(parts)


REMEDIATION = (
    "The workers concerned were removed from the situation, paid what they were owed and "
    "given the support the law requires; the factory changed its procedure, and the follow-up "
    "visit confirmed it."
)


def _cases(ctx: ScaleContext, found: list[tuple[Visit, int, str]], first_id: int) -> Iterator[dict[str, Any]]:
    """A case for each zero-tolerance finding, as saving one opens: closed for past cycles,
    confirmed once the report is final, open while the assessment goes on."""
    for n, (v, question_id, finding) in enumerate(found):
        opened = _at(v.on, 16)
        if reached(v.status, S.FINAL) and v.cycle < ctx.size.cycles:
            status, closed = CaseStatus.CLOSED, opened + dt.timedelta(days=45)
        else:
            status, closed = (CaseStatus.CONFIRMED if reached(v.status, S.FINAL) else CaseStatus.OPEN), None
        yield {
            "id": first_id + n,
            "programme_id": v.factory.programme_id,
            "assessment_id": v.id,
            "factory_id": v.factory.id,
            "question_id": question_id,
            "status": status,
            "finding": finding,
            "remediation": REMEDIATION if status == CaseStatus.CLOSED else "",
            "opened_at": min(opened, timezone.now()),
            "closed_at": closed,
        }
