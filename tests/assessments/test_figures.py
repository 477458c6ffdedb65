"""Non-compliance by question, point and cluster, and the comparison with the previous cycle."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from assessments import figures, lifecycle
from assessments.models import Answer, AssessmentStatus
from betterwork import tenancy
from tests.conftest import act

pytestmark = pytest.mark.django_db


def answered(kh, team, factory, cycle_date, values, status=AssessmentStatus.FINAL):
    assessment = act(
        team["leader"],
        kh,
        lifecycle.assessment_plan,
        factory=factory,
        planned_date=cycle_date,
        assessors=[team["lead"], team["second"]],
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        for question in assessment.tool_version.questions.all():
            value = values.get(question.key, "C")
            Answer(
                programme=kh,
                assessment=assessment,
                question=question,
                value=value,
                finding=f"{question.key} seen" if value == "NC" else "",
            ).save()
        assessment.status = status
        assessment.save()
    return assessment


def test_points_clusters_and_changes_since_the_previous_cycle(kh, kh_factory, tool, team):
    answered(kh, team, kh_factory, dt.date(2025, 1, 10), {"OSH-01": "NC", "WT-01": "NC"})
    current = answered(
        kh,
        team,
        kh_factory,
        dt.date(2026, 1, 10),
        {"OSH-01": "NC", "CL-01": "NC"},
        status=AssessmentStatus.IN_PROGRESS,
    )
    with tenancy.scope({kh.pk}):
        result = figures.assessment_figures(assessment=current)
    assert result.previous is not None and result.previous.cycle == 1
    changes = {f.key: f.change for f in result.non_compliant}
    assert changes == {"OSH-01": "persisting", "CL-01": "new"}
    assert [f.key for f in result.remediated] == ["WT-01"] and result.remediated[0].finding == "WT-01 seen"
    by_cluster = {c.cluster.code: (c.points_non_compliant, c.points_assessed) for c in result.clusters}
    assert by_cluster == {"CL": (1, 1), "OSH": (1, 1), "WT": (0, 1)}
    assert result.points_non_compliant == 2 and result.points_assessed == 3


def test_not_applicable_leaves_the_point_unassessed_and_drafts_are_not_compared(kh, kh_factory, tool, team):
    answered(kh, team, kh_factory, dt.date(2025, 1, 10), {"WT-01": "NC"}, status=AssessmentStatus.SUBMITTED)
    current = answered(kh, team, kh_factory, dt.date(2026, 1, 10), {"WT-01": "NA"})
    with tenancy.scope({kh.pk}):
        result = figures.assessment_figures(assessment=current)
    assert result.previous is None, "an assessment that never became final is no baseline"
    wt = next(c for c in result.clusters if c.cluster.code == "WT")
    assert wt.points_assessed == 0 and wt.share is None


def test_figures_cost_three_queries(kh, kh_factory, tool, team, django_assert_num_queries):
    answered(kh, team, kh_factory, dt.date(2025, 1, 10), {"OSH-01": "NC"})
    current = answered(kh, team, kh_factory, dt.date(2026, 1, 10), {"OSH-01": "NC"})
    with tenancy.scope({kh.pk}), django_assert_num_queries(3):
        figures.assessment_figures(assessment=current)
