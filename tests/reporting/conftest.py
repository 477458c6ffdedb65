from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from assessments.models import Assessment
from betterwork import tenancy
from tests.assessments.test_lifecycle import answer_all, move


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test stores its report files in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def final(kh, team, planned):
    """A final assessment with findings (the window closed, then the team leader finalised it)."""
    move(team["lead"], kh, planned, "in_progress")
    answer_all(team["lead"], kh, planned, value="NC")
    move(team["lead"], kh, planned, "submitted")
    move(team["leader"], kh, planned, "in_review")
    move(team["leader"], kh, planned, "factory_review")
    with tenancy.scope({kh.pk}), transaction.atomic():
        Assessment.objects.filter(pk=planned.pk).update(factory_review_until=dt.date(2026, 1, 1))
    return move(team["leader"], kh, planned, "final")


def report_files(root):
    return sorted(p for p in root.rglob("*.pdf"))
