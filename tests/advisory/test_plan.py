"""The improvement plan and progress reports: from findings to items, following and verifying
them, carrying persisting findings over, who may do what, and the pages' query counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from advisory import selectors, services
from advisory.models import ImprovementPlan, ItemStatus, PlanItem, ProgressReport
from assessments import lifecycle
from assessments.models import Answer
from betterwork import tenancy
from betterwork.models import Role
from reporting.models import ReportJob
from tests.model_factories import FactoryFactory, user_with_role
from tests.training.conftest import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(kh, team, final):
    return run(team["lead"], kh, services.plan_start, factory=final.factory, assessment=final)


@pytest.fixture
def hr(kh, kh_factory):
    return user_with_role(Role.FACTORY, kh, factory=kh_factory)


def items_of(kh, plan):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return {item.question_key: item for item in PlanItem.objects.filter(plan=plan)}


def nc_keys(kh, assessment):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return set(
            Answer.objects.filter(assessment=assessment, value="NC").values_list("question__key", flat=True)
        )


def test_findings_become_items_once_and_progress_reports_fall_due(kh, team, final, plan):
    first = run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=None)
    assert {item.question_key for item in first} == nc_keys(kh, final)
    assert run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=None) == []
    items = items_of(kh, plan)
    assert items["OSH-01"].publicly_reported and not items["WT-01"].publicly_reported
    with tenancy.scope({kh.pk}), transaction.atomic():
        reports = {r.number: r.due_on for r in ProgressReport.objects.filter(plan=plan)}
        final_on = final.final_at.date()
    assert reports == {1: final_on + dt.timedelta(days=30), 2: final_on + dt.timedelta(days=180)}
    # Starting again opens the same plan.
    assert run(team["lead"], kh, services.plan_start, factory=final.factory, assessment=final).pk == plan.pk


def test_one_finding_at_a_time(kh, team, final, plan):
    with tenancy.scope({kh.pk}), transaction.atomic():
        osh = Answer.objects.get(assessment=final, question__key="OSH-01").question_id
    (item,) = run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=[osh])
    assert item.question_key == "OSH-01"
    with tenancy.scope({kh.pk}), transaction.atomic():
        left = {a.question.key for a in selectors.findings_not_in_plan(plan=plan)}
    assert "OSH-01" not in left and left == nc_keys(kh, final) - {"OSH-01"}


def test_a_plan_waits_for_the_final_report(kh, team, planned, kh_factory):
    with pytest.raises(ValidationError, match="once its report is final"):
        run(team["lead"], kh, services.plan_start, factory=kh_factory, assessment=planned)


def test_the_factory_follows_its_items_and_the_advisor_verifies_public_ones(
    kh, team, final, plan, hr, django_capture_on_commit_callbacks
):
    run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=None)
    with tenancy.scope({kh.pk}), transaction.atomic():
        final.factory.designated_advisor = team["lead"]
        final.factory.save()
    item = items_of(kh, plan)["OSH-01"]
    change = {
        "root_cause": "Keys kept by one guard",
        "action": "Exit doors fitted with push bars",
        "due_on": dt.date(2026, 12, 1),
    }
    item = run(
        hr,
        kh,
        services.item_update,
        item=item,
        data={**change, "status": "in_progress"},
        version=item.version,
    )
    assert item.version == 2
    with pytest.raises(services.ItemChanged):  # a colleague's stale page
        run(hr, kh, services.item_update, item=item, data={"status": "done"}, version=1)
    with pytest.raises(ValidationError, match="Only the programme verifies"):
        run(hr, kh, services.item_update, item=item, data={"status": "verified"}, version=2)
    with django_capture_on_commit_callbacks(execute=True):
        item = run(hr, kh, services.item_update, item=item, data={"status": "done"}, version=2)
    assert item.done_on == kh.today()
    assert [m.to for m in mail.outbox] == [[team["lead"].email]] and "OSH-01" in mail.outbox[0].body
    with pytest.raises(PermissionDenied):
        run(hr, kh, services.item_verify, item=item)
    item = run(team["lead"], kh, services.item_verify, item=item, note="Saw the new push bars")
    assert item.status == ItemStatus.VERIFIED and item.verified_by == team["lead"]
    with pytest.raises(ValidationError, match="reopen it"):
        run(hr, kh, services.item_update, item=item, data={"action": "changed"}, version=item.version)
    with pytest.raises(ValidationError, match="Say why"):
        run(team["lead"], kh, services.item_reopen, item=item, reason=" ")
    item = run(
        team["lead"], kh, services.item_reopen, item=item, reason="Exit 3 locked again on a second visit"
    )
    assert item.status == ItemStatus.IN_PROGRESS and item.verified_at is None


def test_persisting_findings_carry_their_items_over(kh, team, final, plan, tool):
    from tests.assessments.test_lifecycle import answer_all, move

    run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=None)
    old = items_of(kh, plan)["WT-01"]
    run(
        team["lead"],
        kh,
        services.item_update,
        item=old,
        data={"action": "Voluntary overtime forms", "responsible": "HR manager"},
        version=1,
    )
    second = run(
        team["leader"],
        kh,
        lifecycle.assessment_plan,
        factory=final.factory,
        planned_date=dt.date(2027, 3, 1),
        assessors=[team["lead"], team["second"]],
    )
    move(team["lead"], kh, second, "in_progress")
    answer_all(team["lead"], kh, second, value="NC")
    move(team["lead"], kh, second, "submitted")
    move(team["leader"], kh, second, "in_review")
    move(team["leader"], kh, second, "factory_review")
    with tenancy.scope({kh.pk}), transaction.atomic():
        type(second).objects.filter(pk=second.pk).update(factory_review_until=dt.date(2026, 1, 1))
    second = move(team["leader"], kh, second, "final")
    next_plan = run(team["lead"], kh, services.plan_start, factory=final.factory, assessment=second)
    assert next_plan.cycle == 2
    run(team["lead"], kh, services.items_from_findings, plan=next_plan, question_ids=None)
    carried = items_of(kh, next_plan)["WT-01"]
    assert carried.carried_from_id == old.pk
    assert (carried.action, carried.responsible, carried.status) == (
        "Voluntary overtime forms",
        "HR manager",
        "not_started",
    )


def test_the_factory_adds_its_own_items_and_evidence(kh, plan, hr, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = run(
        hr,
        kh,
        services.item_add,
        plan=plan,
        data={"finding": "No drinking water on floor 3", "priority": "high"},
    )
    assert item.source == "factory" and item.question_key == ""
    with pytest.raises(ValidationError, match="needs improving"):
        run(hr, kh, services.item_add, plan=plan, data={"finding": " "})
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(photo, format="PNG")
    upload = SimpleUploadedFile("fountain.png", photo.getvalue(), content_type="image/png")
    evidence = run(hr, kh, services.evidence_add, item=item, upload=upload)
    assert evidence.content_type == "image/png"
    client = Client()
    client.force_login(hr)
    url = f"/p/KH/advisory/items/{item.pk}/evidence/{evidence.pk}/"
    assert client.get(url).status_code == 200
    evidence.file.storage.delete(evidence.file.name)
    assert client.get(url).status_code == 404  # gone from storage: not found, not an error
    with pytest.raises(ValidationError, match="Only photos"):
        run(
            hr,
            kh,
            services.evidence_add,
            item=item,
            upload=SimpleUploadedFile("x.png", b"<script>", content_type="image/png"),
        )


def test_who_may_touch_the_plan(client, kh, vn, team, final, plan, hr):
    run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=None)
    item = items_of(kh, plan)["WT-01"]
    other_factory_user = user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh, name="Other"))
    committee_member = user_with_role(Role.COMMITTEE_MEMBER, kh, factory=final.factory)
    vn_advisor = user_with_role(Role.ADVISOR, vn)
    plan_url, item_url = f"/p/KH/advisory/plans/{plan.pk}/", f"/p/KH/advisory/items/{item.pk}/"
    post = {
        f"item{item.pk}-priority": "high",
        f"item{item.pk}-status": "in_progress",
        f"item{item.pk}-version": 1,
    }

    for outsider in (other_factory_user, vn_advisor):
        client.force_login(outsider)
        assert client.get(plan_url).status_code == 404
        assert client.get(item_url).status_code == 404
        assert client.post(item_url, post).status_code == 404
    client.force_login(committee_member)  # reads, never writes
    assert client.get(f"/p/KH/advisory/factories/{final.factory_id}/plan/").url == plan_url
    assert client.get(plan_url).status_code == 200
    assert client.post(item_url, post).status_code == 404
    assert client.post(item_url + "comments/", {"text": "hello"}).status_code == 404
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert not item.comments.exists()
    client.force_login(hr)  # the factory: edits, may not start plans or verify
    assert client.post(item_url, post).status_code == 302
    assert client.post(f"/p/KH/advisory/factories/{final.factory_id}/plan/start/").status_code == 404
    assert client.post(item_url + "verify/", {}).status_code == 404
    with pytest.raises(PermissionDenied):
        run(hr, kh, services.items_from_findings, plan=plan, question_ids=None)


def test_the_plan_page_keeps_its_query_count_with_200_items(client, kh, team, plan):
    def grow(n):
        with tenancy.scope({kh.pk}), transaction.atomic():
            PlanItem.objects.bulk_create(
                PlanItem(
                    programme=kh, plan=plan, source="factory", finding=f"Item {i}", due_on=dt.date(2026, 1, 1)
                )
                for i in range(n)
            )

    client.force_login(team["lead"])
    client.get(f"/p/KH/advisory/plans/{plan.pk}/")
    counts = []
    for n in (3, 197):
        grow(n)
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(f"/p/KH/advisory/plans/{plan.pk}/")
        assert page.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    assert page.content.decode().count('class="row--overdue"') == 200


def test_items_update_in_place(client, kh, team, plan, hr):
    run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=None)
    item = items_of(kh, plan)["WT-01"]
    row = f"/p/KH/advisory/items/{item.pk}/row/"
    client.force_login(hr)
    htmx = {"HTTP_HX_REQUEST": "true"}
    assert "hx-post" in client.get(row + "?edit=1", **htmx).content.decode()
    data = {
        f"item{item.pk}-{k}": v
        for k, v in {
            "priority": "high",
            "status": "in_progress",
            "action": "Voluntary overtime forms",
            "version": 1,
        }.items()
    }
    saved = client.post(row, data, **htmx)
    assert saved.status_code == 200 and "Voluntary overtime forms" in saved.content.decode()
    stale = client.post(row, {**data, f"item{item.pk}-action": "Another idea"}, **htmx)
    assert stale.status_code == 409 and "Someone saved this item meanwhile" in stale.content.decode()
    again = client.post(
        row, {**data, f"item{item.pk}-action": "Another idea", f"item{item.pk}-version": 2}, **htmx
    )
    assert again.status_code == 200 and "Another idea" in again.content.decode()


def test_progress_reports_are_submitted_once_in_order_and_become_pdfs(
    client, kh, team, final, plan, hr, django_capture_on_commit_callbacks
):
    run(team["lead"], kh, services.items_from_findings, plan=plan, question_ids=None)
    with tenancy.scope({kh.pk}), transaction.atomic():
        first, second = ProgressReport.objects.filter(plan=plan).order_by("number")
    client.force_login(hr)
    page = client.get(f"/p/KH/advisory/progress/{second.pk}/")
    assert page.status_code == 200
    refused = client.post(f"/p/KH/advisory/progress/{second.pk}/", {"statement": ""})
    assert "Submit Progress Report 1 first" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        done = client.post(
            f"/p/KH/advisory/progress/{first.pk}/",
            {"statement": "Exits unlocked; committee met twice."},
            follow=True,
        )
    assert "Progress Report 1 submitted" in done.content.decode()
    with tenancy.scope({kh.pk}), transaction.atomic():
        first.refresh_from_db()
        jobs = set(
            ReportJob.objects.filter(kind="progress_report", target_id=first.pk).values_list(
                "language", flat=True
            )
        )
    assert first.status == "submitted" and first.snapshot["items"]["total"] == len(nc_keys(kh, final))
    assert jobs == {"en", "km"}
    assert client.post(f"/p/KH/advisory/progress/{first.pk}/", {"statement": "again"}).status_code == 404
    other = user_with_role(Role.FACTORY, kh, factory=FactoryFactory(programme=kh, name="Other"))
    client.force_login(other)
    assert client.get(f"/p/KH/advisory/progress/{first.pk}/").status_code == 404


def test_overdue_items_and_reports_due_for_the_programme(client, kh, team, plan, hr, kh_manager):
    item = run(
        hr, kh, services.item_add, plan=plan, data={"finding": "Fire drill", "due_on": dt.date(2020, 1, 1)}
    )
    client.force_login(kh_manager)
    page = client.get("/p/KH/advisory/")
    assert page.status_code == 200 and plan.factory.name in page.content.decode()
    with tenancy.scope({kh.pk}), transaction.atomic():
        rows = list(selectors.overdue_by_factory(programme=kh, today=kh.today()))
        assert [(f.pk, f.overdue) for f in rows] == [(plan.factory_id, 1)]
        assert ImprovementPlan.objects.filter(pk=item.plan_id).exists()
    client.force_login(hr)
    assert client.get("/p/KH/advisory/").status_code == 404


def test_the_self_diagnosis_feeds_the_plan(kh, team, final, plan, hr):
    from advisory.models import DiagnosisAnswer, SelfDiagnosis

    with tenancy.scope({kh.pk}), transaction.atomic():
        diagnosis = SelfDiagnosis.objects.create(
            programme=kh, factory=final.factory, tool_version=final.tool_version, status="submitted"
        )
        for key, value, note in (("WT-01", "NC", ""), ("OSH-01", "NC", "Exit 2 chained"), ("CL-01", "C", "")):
            question = final.tool_version.questions.get(key=key)
            DiagnosisAnswer.objects.create(
                programme=kh, diagnosis=diagnosis, question=question, value=value, note=note
            )
    created = run(hr, kh, services.items_from_self_diagnosis, plan=plan, diagnosis=diagnosis)
    assert {item.question_key: item.finding for item in created} == {
        "WT-01": "Is overtime voluntary?",  # no note: the question says what was found
        "OSH-01": "Exit 2 chained",
    }
    assert all(item.source == "self_diagnosis" for item in created)
    assert run(hr, kh, services.items_from_self_diagnosis, plan=plan, diagnosis=diagnosis) == []
