"""Worker personal data never leaves the programme: the names of committee members, election
candidates, training participants and interviewees, and what interviewees said, appear in no PDF
a buyer reads, no buyer page or API answer, and no public page, PDF, CSV or API answer — while
the same factory's findings and figures do."""

# The buyers' fixtures are imported from test_access and then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import transaction
from django.test import Client
from pypdf import PdfReader

from advisory import committees
from advisory import selectors as advisory_selectors
from advisory import services as advisory_services
from advisory.models import ProgressReport
from assessments import interviews
from assessments.models import Assessment
from betterwork import tenancy
from betterwork.models import Role
from betterwork.tasks import SCOPE_KWARG
from reporting import synthesis_services
from reporting.models import ReportJob, SynthesisReport
from reporting.synthesis_services import SynthesisInput
from reporting.tasks import render_report
from tests.assessments.test_lifecycle import answer_all, move
from tests.buyers.test_access import brand, buyer_user, consent, subscribe  # noqa: F401
from tests.conftest import signs_in
from tests.model_factories import user_with_role
from tests.training.conftest import run
from training import services as training_services
from training.models import SessionMode

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
MEMBERS = {"worker": "Chanthou Vireakbot", "management": "Bopharith Lumsden"}
CANDIDATE = "Sreyneang Phanarith"
PARTICIPANT = "Kosalrith Samnangvo"
INTERVIEWEES = "Mealea Sothearith and two packers, line 7"
SAID = "Mealea says the night supervisor Pichsamnang locks the canteen door."
# What must never leave the programme: each name, and distinctive pieces of what was said.
SECRETS = [*MEMBERS.values(), CANDIDATE, PARTICIPANT, "Mealea", "Sothearith", "Pichsamnang", "canteen door"]


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def body(response) -> str:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if content.startswith(b"%PDF"):
        return text_of(content)
    return content.decode("utf-8-sig")


def render(kh, job):
    assert render_report.apply(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]}).get() == "ready"


def job_of(kh, kind, target_id):
    with tenancy.scope({kh.pk}):
        # The newest: an assessment's report is made when final and again when published.
        return ReportJob.objects.filter(kind=kind, target_id=target_id, language="en").latest("pk")


@pytest.fixture
def shared(kh, kh_factory, tool, team, planned, brand, buyer_user):
    """A published assessment with findings and interview notes; a committee with named members
    and an election with a named candidate; a training session with a named participant; the
    factory's submitted progress report; a buyer subscribed with the factory's consent; a
    published synthesis report; and the factory on the public transparency list."""
    kh.transparency_notice_days = 0
    kh.save()
    hr = user_with_role(Role.FACTORY, kh, factory=kh_factory, is_admin=True)
    officer = user_with_role(Role.ADVISOR, kh, manages_training=True)
    today = kh.today()

    assessment = move(team["lead"], kh, planned, "in_progress")
    for kind, who in (("worker_interview", INTERVIEWEES), ("management_interview", "HR manager")):
        run(
            team["lead"],
            kh,
            interviews.interview_note_add,
            assessment=assessment,
            data={"kind": kind, "held_on": today, "interviewees": who, "notes": SAID},
        )
    answer_all(team["lead"], kh, assessment, value="NC")
    move(team["lead"], kh, assessment, "submitted")
    move(team["leader"], kh, assessment, "in_review")
    move(team["leader"], kh, assessment, "factory_review")
    with tenancy.scope({kh.pk}), transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).update(factory_review_until=dt.date(2026, 1, 1))
    move(team["leader"], kh, assessment, "final")
    published = move(team["manager"], kh, assessment, "published")

    with tenancy.scope({kh.pk}), transaction.atomic():
        picc = committees.committee_kinds_ensure(kh)[0]
    committee = run(hr, kh, committees.committee_create, factory=kh_factory, kind=picc, established_on=None)
    run(
        hr,
        kh,
        committees.members_change,
        committee=committee,
        add=[
            {"name": name, "side": side, "sex": "female", "role": "member", "term_starts_on": today}
            for side, name in MEMBERS.items()
        ],
    )
    election = run(
        hr,
        kh,
        committees.election_create,
        committee=committee,
        data={"held_on": today, "seats": 1, "voters": None, "ballots_cast": None, "notes": ""},
    )
    run(hr, kh, committees.candidate_add, election=election, data={"name": CANDIDATE, "sex": "female"})

    course = run(
        officer,
        kh,
        training_services.course_save,
        programme=kh,
        course=None,
        data={"title": "Workers' rights", "days": 1, "audience": "mixed"},
    )
    session = run(
        officer,
        kh,
        training_services.session_create,
        programme=kh,
        data={"course": course, "mode": SessionMode.OPEN, "capacity": 20},
        dates=[today - dt.timedelta(days=3)],
        trainers=[officer],
    )
    run(
        officer,
        kh,
        training_services.participant_enrol,
        session=session,
        data={"name": PARTICIPANT, "sex": "female", "role": "worker", "factory": kh_factory},
    )

    plan = run(team["lead"], kh, advisory_services.plan_start, factory=kh_factory, assessment=published)
    with tenancy.scope({kh.pk}), transaction.atomic():
        first = ProgressReport.objects.filter(plan=plan).order_by("number").first()
        snapshot = advisory_selectors.progress_snapshot(report=first, today=today)
    run(
        hr,
        kh,
        advisory_services.progress_report_submit,
        report=first,
        statement="On track.",
        snapshot=snapshot,
    )

    subscribe(kh, team, buyer_user, brand, kh_factory)
    consent(kh, hr, brand, kh_factory)

    synthesis = run(
        team["manager"],
        kh,
        synthesis_services.synthesis_create,
        programme=kh,
        data=SynthesisInput(title="Cambodia in review", scope="cycles", cycles=[1]),
    )
    with tenancy.scope({kh.pk}):
        version = SynthesisReport.objects.get(pk=synthesis.pk).version
    run(
        team["manager"],
        kh,
        synthesis_services.synthesis_publish,
        report=synthesis,
        expected_version=version,
    )
    for kind, target in (
        ("assessment", published.pk),
        ("progress_report", first.pk),
        ("synthesis_report", synthesis.pk),
    ):
        render(kh, job_of(kh, kind, target))
    return {
        "assessment": published,
        "progress": first,
        "synthesis": synthesis,
        "factory": kh_factory,
        "team": team,
    }


def assert_no_personal_data(texts: dict[str, str]) -> None:
    leaks = [(where, secret) for where, text in texts.items() for secret in SECRETS if secret in text]
    assert not leaks, leaks


def test_the_programmes_team_holds_the_names_the_other_tests_look_for(kh, shared):
    """The data is really there: the assessors' notes page shows it (so its absence elsewhere
    means something)."""
    client = Client()
    assert signs_in(client, shared["team"]["lead"].email, PASSWORD)
    page = body(client.get(f"/p/KH/assessments/{shared['assessment'].pk}/interviews/"))
    assert "Mealea Sothearith" in page and "Pichsamnang" in page


def test_no_name_or_interview_note_in_the_pdfs_buyers_read(kh, shared, buyer_user):
    client = Client()
    assert signs_in(client, buyer_user.email, PASSWORD)
    texts = {}
    for kind, target in (("assessment", shared["assessment"].pk), ("progress_report", shared["progress"].pk)):
        job = job_of(kh, kind, target)
        texts[kind] = body(client.get(f"/p/KH/reports/jobs/{job.pk}/download/"))
    assert "Angkor Garments" in texts["assessment"] and "Seen on the floor." in texts["assessment"]
    assert "management and" in texts["progress_report"]  # the committee is there, by its figures
    assert_no_personal_data(texts)


def test_no_name_or_interview_note_on_the_buyer_pages_and_api(kh, shared, buyer_user):
    client = Client()
    assert signs_in(client, buyer_user.email, PASSWORD)
    factory, assessment, progress = shared["factory"], shared["assessment"], shared["progress"]
    addresses = [
        "/buyer/",
        f"/buyer/factories/{factory.pk}/",
        "/buyer/supply-base/",
        "/buyer/people/",
        f"/buyer/statements/{kh.today().year}/",
        f"/p/KH/reports/assessment/{assessment.pk}/",
        f"/p/KH/reports/progress_report/{progress.pk}/",
        "/api/v1/buyer/factories/",
        f"/api/v1/buyer/factories/{factory.pk}/reports/",
    ]
    texts = {address: body(client.get(address)) for address in addresses}
    assert "Angkor Garments" in texts[f"/buyer/factories/{factory.pk}/"]
    assert "Angkor Garments" in texts["/api/v1/buyer/factories/"]
    assert_no_personal_data(texts)


def test_no_name_or_interview_note_on_the_public_pages_pdfs_csvs_and_api(kh, shared):
    client = Client()
    pk = shared["synthesis"].pk
    addresses = [
        "/public/",
        "/public/KH/",
        "/public/KH/transparency/",
        "/public/KH/transparency.csv",
        f"/public/KH/synthesis/{pk}/",
        f"/public/KH/synthesis/{pk}.csv",
        f"/public/KH/synthesis/{pk}/pdf/en/",
        "/api/v1/public/KH/transparency/",
        "/api/v1/public/KH/synthesis/",
        f"/api/v1/public/KH/synthesis/{pk}/",
    ]
    texts = {address: body(client.get(address)) for address in addresses}
    assert "Cambodia in review" in texts[f"/public/KH/synthesis/{pk}/pdf/en/"]
    assert "Angkor Garments" in texts["/public/KH/transparency/"]
    assert_no_personal_data(texts)
