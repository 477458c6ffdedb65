"""Demo synthesis reports for Cambodia, so that the public site has something to show: an annual
report of the last full year of visits, and a thematic fire-safety report (the emergency
preparedness questions) across every cycle, composed and published by the programme's manager
through the same services as the pages (their PDFs are queued for the worker). The rollups are
rebuilt first when the demo's assessments are not counted yet. Idempotent: a report whose title
exists is left as it is."""

from __future__ import annotations

from collections.abc import Iterator

from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import Programme, User
from betterwork.permissions import Principal
from reporting import rollups, synthesis, synthesis_services
from reporting.models import CountedAssessment, SynthesisKind, SynthesisReport, SynthesisScope
from reporting.synthesis_services import SynthesisInput

FIRE_SAFETY_POINT = "OSH.EMERGENCY"

ANNUAL_INTRODUCTION = (
    "Better Factories Cambodia assesses every exporting garment factory in the country, unannounced, "
    "against national labour law and the core labour standards. This report gives the share of factories "
    "found non-compliant on each compliance point and question among the assessments of the year, the most "
    "common issues, and how each cluster has moved from one assessment cycle to the next."
)
FIRE_INTRODUCTION = (
    "Locked or blocked exits, unmarked escape routes, missing alarms and poorly kept fire-fighting equipment "
    "put every worker on the floor at risk. This thematic report follows each emergency preparedness "
    "question of the compliance tool across the factories' successive assessments."
)


def seed(ctx: DemoContext) -> Iterator[str]:
    if "KH" not in ctx.programmes:
        return
    programme = ctx.programmes["KH"][1]
    if not CountedAssessment.objects.filter(programme=programme).exists():
        counted = rollups.rebuild(programme)
        yield f"reporting: rollups of {programme.code} rebuilt, {counted} assessments counted"
    manager = User.objects.filter(email=f"manager.kh@{DEMO_DOMAIN}").first()
    choices = synthesis.scope_choices(programme=programme)
    if manager is None or not choices["year"]:
        yield "reporting: no synthesis report (no manager or nothing counted)"
        return
    actor = Principal.for_user(manager)
    # The last full year of visits (the current one is still under way), else the only one there is.
    full_years = [y for y in choices["year"] if y < programme.today().year]
    year = (full_years or choices["year"])[-1]
    fire = [
        question.key
        for cluster in synthesis.theme_choices(programme=programme)
        for point in cluster.points
        if point.code == FIRE_SAFETY_POINT
        for question in point.questions
    ]
    reports = (
        SynthesisInput(
            title=f"Annual synthesis report {year}",
            kind=SynthesisKind.ANNUAL,
            introduction=ANNUAL_INTRODUCTION,
            scope=SynthesisScope.YEARS,
            year_from=year,
            year_to=year,
        ),
        SynthesisInput(
            title="Fire safety: emergency preparedness across assessment cycles",
            kind=SynthesisKind.THEMATIC,
            introduction=FIRE_INTRODUCTION,
            scope=SynthesisScope.CYCLES,
            cycles=choices["cycle"],
            theme_keys=fire,
        ),
    )
    for data in reports:
        yield _publish(actor, programme, data)


def _publish(actor: Principal, programme: Programme, data: SynthesisInput) -> str:
    if SynthesisReport.objects.filter(programme=programme, title=data.title).exists():
        return f"reporting: “{data.title}” exists"
    draft = synthesis_services.synthesis_create(actor=actor, programme=programme, data=data)
    report = synthesis_services.synthesis_publish(actor=actor, report=draft, expected_version=draft.version)
    counted = (report.snapshot or {}).get("counted", {})
    return f"reporting: published “{report.title}” ({counted.get('factories', 0)} factories)"
