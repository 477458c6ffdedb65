"""The isolation matrix: every address of the platform, page or API operation, asked for by
people who must not see what it shows.

The data set is the query-count tests' (``tests.query_counts``): a Cambodian programme holding a
few rows of every kind of record, readable by the people of that data set. Every address is
taken with Cambodia's objects in it and requested by each outsider:

- the manager, team leader, advisor and a factory's user of the Vietnamese programme, with the
  address moved into their own programme (``/p/KH/`` becomes ``/p/VN/``, the ids stay
  Cambodia's): the object must not be found there, as if the id did not exist;
- the user of another factory of the same programme, a buyer of another brand, and someone not
  signed in, at the address as it is.

An address about one object answers an outsider exactly as it answers an id no row has, and
that answer is "not found" (a sign-in page for someone not signed in). An address about no one
object (a list, a form, a home page) may answer, but shows nothing of what the outsider may not
see. Creating or changing one's own records with a foreign key to another programme's row is
refused with 400, naming the field.

``test_every_route_and_operation_is_in_the_matrix`` fails when an address or an API operation
exists that the matrix does not try (every page of ``tests.test_query_counts.PAGES`` is tried;
writes, files and redirects are listed here). The Vietnamese part runs once more with the
application's programme filter switched off, so that row-level security alone is seen to hold
between programmes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.test import Client, override_settings
from django.urls import resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from advisory import committees
from advisory.models import PlanItemEvidence
from assessments.models import Attachment
from betterwork import tenancy
from betterwork.models import Programme, Role
from buyers.models import Buyer
from reporting import services as report_services
from reporting.models import ArchiveStatus, ProgrammeArchive, ReportJob
from tests import query_counts as qc
from tests.model_factories import FactoryFactory, user_with_role
from tests.test_query_counts import PAGES, add_interview_note, synthesis_reports
from training import services as training_services
from training.models import SessionMode

P = "/p/KH"
API = "/api/v1/p/KH"
NO_SUCH_ID = 987654321
INTERVIEWED = "Sreymom and Dara of line 4"  # confidential: assessors and their managers only
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


# --- The data set and its outsiders ------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """The query-count tests' data set with every page's extra records, stored files behind every
    download, and the outsiders with a few records of their own; rolled back after the module."""
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "iso"}}
    with override_settings(CACHES=locmem), django_db_blocker.unblock(), transaction.atomic():
        w = qc.build_world()
        synthesis_reports(w, Client())
        stored_files(w)
        add_interview_note(w, INTERVIEWED)
        import_runs(w)
        outsiders(w)
        yield w
        transaction.set_rollback(True)


def stored(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


def stored_files(w: Any) -> None:
    """A file behind each download address, so that the people allowed get it."""
    pdf = b"%PDF-1.4\n% isolation matrix\n"
    kh = w.kh

    def make() -> None:
        ReportJob.objects.filter(pk=w.jobs[0].pk).update(file=stored("reports/isolation.pdf", pdf))
        w.attachment = Attachment.objects.create(
            programme=kh,
            assessment=w.in_progress,
            question=w.questions["CL-01"],
            file=stored("evidence/isolation.pdf", pdf),
            original_name="exit.pdf",
            content_type="application/pdf",
            size=len(pdf),
            uploaded_by=w.lead,
        )
        w.evidence = PlanItemEvidence.objects.create(
            programme=kh,
            item=w.item,
            file=stored("plan-evidence/isolation.pdf", pdf),
            original_name="repair.pdf",
            content_type="application/pdf",
            size=len(pdf),
            uploaded_by=w.lead,
        )
        w.archive = ProgrammeArchive.objects.create(
            programme=kh,
            status=ArchiveStatus.READY,
            file=stored("archives/isolation.json.gz", b"{}"),
            requested_by=w.manager,
        )
        w.comment = w.final.finding_comments.order_by("pk").first()
        w.grant_b = w.hr_b.grants.get()
        w.staff_grant = w.hr.grants.get()
        w.lead_grant = w.lead.grants.get()
        w.subscription = w.brand.subscriptions.order_by("pk").first()
        w.candidate = w.election.candidates.order_by("pk").first()

    qc.in_scope(kh, make)
    # The brand's statement of this year as a ready PDF.
    buyer = Client()
    buyer.force_login(w.buyer)
    buyer.post(f"/buyer/statements/{w.today.year}/pdf/KH/en/")
    w.statement_job = qc.in_scope(kh, lambda: ReportJob.objects.get(kind="buyer_statement"))
    qc.in_scope(
        kh,
        lambda: report_services.job_finish(
            job_id=w.statement_job.pk, name=stored("reports/statement.pdf", pdf), sha256="0" * 64, pages=1
        ),
    )
    # The published synthesis report as a PDF in English.
    w.synthesis_job, _sent = qc.run(
        w.manager,
        kh,
        report_services.report_request,
        kind_name="synthesis_report",
        target_id=w.synthesis_published.pk,
        language="en",
    )
    qc.in_scope(
        kh,
        lambda: report_services.job_finish(
            job_id=w.synthesis_job.pk, name=stored("reports/synthesis.pdf", pdf), sha256="0" * 64, pages=1
        ),
    )


def import_runs(w: Any) -> None:
    """A factory import and a history import of the manager's, checked and waiting."""
    # The data set's factories (and Chenla Weaving, the other factory's) took the programme's
    # first three numbers without its counter.
    Programme.objects.filter(pk=w.kh.pk).update(last_factory_number=3)
    manager = Client()
    manager.force_login(w.manager)
    for attribute, address, example in (
        ("factory_run", f"{API}/factories/imports/", "factories.csv"),
        ("history_run", f"{API}/assessments/imports/", "historical-assessments.csv"),
    ):
        with open(EXAMPLES / example, "rb") as upload:
            response = manager.post(address, {"file": upload})
        assert response.status_code == 201, response.content
        setattr(w, attribute, response.json()["id"])


def outsiders(w: Any) -> None:
    """The Vietnamese programme's people with records of their own, another brand's buyer."""
    vn = w.vn
    w.vn_manager = user_with_role(Role.PROGRAMME_MANAGER, vn)
    w.vn_leader = user_with_role(Role.TEAM_LEADER, vn)
    w.vn_advisor = user_with_role(Role.ADVISOR, vn, manages_training=True)
    w.vn_second = user_with_role(Role.ADVISOR, vn)
    w.vn_factory = FactoryFactory(
        programme=vn, name="Saigon Stitchworks", public_id="VN000017", designated_advisor=w.vn_advisor
    )
    w.vn_hr = user_with_role(Role.FACTORY, vn, factory=w.vn_factory, is_admin=True)
    w.vn_course = qc.run(
        w.vn_advisor,
        vn,
        training_services.course_save,
        programme=vn,
        course=None,
        data={"title": "Saigon induction", "days": 1, "audience": "mixed"},
    )
    w.vn_session = qc.run(
        w.vn_advisor,
        vn,
        training_services.session_create,
        programme=vn,
        data={"course": w.vn_course, "mode": SessionMode.OPEN, "capacity": 20},
        dates=[vn.today() + dt.timedelta(days=20)],
        trainers=[w.vn_advisor],
    )
    picc = qc.in_scope(vn, lambda: committees.committee_kinds_ensure(vn)[0])
    w.vn_committee = qc.run(
        w.vn_hr, vn, committees.committee_create, factory=w.vn_factory, kind=picc, established_on=None
    )
    w.c = FactoryFactory(programme=w.kh, name="Chenla Weaving", public_id="KH000034")
    w.hr_c = user_with_role(Role.FACTORY, w.kh, factory=w.c, is_admin=True)
    w.rival_brand = Buyer.objects.create(name="Southwind Outfitters", headquarters_country="Spain")
    w.rival = user_with_role(Role.BUYER, None, buyer=w.rival_brand, is_admin=True)


@dataclass(frozen=True)
class Outsider:
    user: str  # an attribute of the data set; "" for someone not signed in
    moves: bool  # asks at the address moved into the Vietnamese programme
    # What this outsider must never see: texts of the data set only insiders may read.
    secrets: Callable[[Any], list[str]]


def cambodia_secrets(w: Any) -> list[str]:
    """Texts of Cambodia's records that no one of another programme may read."""
    people = [w.manager, w.leader, w.lead, w.second, w.officer, w.hr, w.hr_b]
    return [
        *factory_secrets(w),
        "Visit topics",
        "Person 0",
        "Course 0",
        "First round",
        "Draft figures",
        *[p.email for p in people],
        *[p.full_name for p in people],
    ]


def factory_secrets(w: Any) -> list[str]:
    """Texts of Angkor Garments' and Bayon Knitwear's records that another factory's user may not read."""
    return [
        w.a.name,
        w.a.public_id,
        w.b.name,
        w.b.public_id,
        "Our comment on",
        "Seen on the floor",
        "Minutes 0",
        "Agenda 0",
        "Decision 0",
        "Note on CL-01",
        w.hr.email,
        w.hr_b.email,
        INTERVIEWED,
    ]


def brand_secrets(w: Any) -> list[str]:
    """What only Northwind Apparel's people read: its name, invoices, its factories."""
    return [w.brand.name, "INV-1", w.buyer.email, w.a.name, w.b.name, w.a.public_id, INTERVIEWED]


OUTSIDERS = {
    "vn_manager": Outsider("vn_manager", True, cambodia_secrets),
    "vn_leader": Outsider("vn_leader", True, cambodia_secrets),
    "vn_advisor": Outsider("vn_advisor", True, cambodia_secrets),
    "vn_hr": Outsider("vn_hr", True, cambodia_secrets),
    "other_factory": Outsider("hr_c", False, factory_secrets),
    "other_brand": Outsider("rival", False, brand_secrets),
    "anonymous": Outsider("", False, cambodia_secrets),
}
VIETNAM = [name for name, o in OUTSIDERS.items() if o.moves]


def client_for(w: Any, user: str) -> Client:
    client = Client()
    if user:
        client.force_login(getattr(w, user))
    return client


# --- The addresses -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One address, as its insider uses it, to be tried by every outsider."""

    route: str
    method: str
    path: Callable[[Any], str]
    insider: str  # who may use it (an attribute of the data set; "" for anyone)
    body: Callable[[Any], dict[str, Any]] | None = None
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}" + (f" [{self.label}]" if self.label else "")


def page_probes() -> list[Probe]:
    """Every page and API read of the query-count tests, once per address."""
    probes: dict[str, Probe] = {}
    for page in PAGES:
        if page.name in ("password_reset_confirm",):
            continue  # the reset link's page: a token in the session, nothing of a programme
        probes.setdefault(
            page.name + page.label, Probe(page.name, "GET", page.path, page.user, label=page.label)
        )
    return list(probes.values())


def post(route: str, insider: str, path: Callable[[Any], str], **extra: Any) -> Probe:
    return Probe(route, "POST", path, insider, **extra)


def get(route: str, insider: str, path: Callable[[Any], str]) -> Probe:
    return Probe(route, "GET", path, insider)


# The addresses the query-count tests leave out (writes, files, redirects), with who may use them.
OTHER_ADDRESSES: list[Probe] = [
    get("healthz", "", lambda w: "/healthz"),
    post("inbox_read", "manager", lambda w: "/inbox/read/"),
    post("logout", "manager", lambda w: "/accounts/logout/"),
    post("set_language", "", lambda w: "/i18n/setlang/", body=lambda w: {"language": "km"}),
    post("public:language", "", lambda w: "/public/language/", body=lambda w: {"language": "km"}),
    get("api-schema", "lead", lambda w: "/api/schema/"),
    post("programme_archive_request", "manager", lambda w: f"{P}/archive/"),
    get("programme_archive_download", "manager", lambda w: f"{P}/archive/{w.archive.pk}/download/"),
    post(
        "factories:staff_revoke", "hr", lambda w: f"{P}/factories/{w.a.pk}/staff/{w.staff_grant.pk}/revoke/"
    ),
    post(
        "factory_buyers:activate",
        "manager",
        lambda w: f"{P}/factories/{w.a.pk}/buyers/subscriptions/{w.subscription.pk}/activate/",
    ),
    post(
        "factory_buyers:cancel",
        "manager",
        lambda w: f"{P}/factories/{w.a.pk}/buyers/subscriptions/{w.subscription.pk}/cancel/",
    ),
    get("assessments:export", "manager", lambda w: f"{P}/assessments/export/?format=csv"),
    post("assessments:transition", "lead", lambda w: f"{P}/assessments/{w.in_progress.pk}/transition/"),
    post("assessments:visit", "lead", lambda w: f"{P}/assessments/{w.in_progress.pk}/visit/"),
    post(
        "assessments:comment_respond",
        "leader",
        lambda w: f"{P}/assessments/{w.final.pk}/comments/{w.comment.pk}/respond/",
    ),
    post(
        "assessments:answer",
        "lead",
        lambda w: f"{P}/assessments/{w.in_progress.pk}/answers/{w.questions['CL-01'].pk}/",
    ),
    post(
        "assessments:interview_delete",
        "lead",
        lambda w: f"{P}/assessments/{w.in_progress.pk}/interviews/{add_interview_note(w).pk}/delete/",
    ),
    post(
        "assessments:attachment_upload", "lead", lambda w: f"{P}/assessments/{w.in_progress.pk}/attachments/"
    ),
    get(
        "assessments:attachment",
        "lead",
        lambda w: f"{P}/assessments/{w.in_progress.pk}/attachments/{w.attachment.pk}/",
    ),
    get("reports:download", "manager", lambda w: f"{P}/reports/jobs/{w.jobs[0].pk}/download/"),
    post("reports:request", "manager", lambda w: f"{P}/reports/assessment/{w.final.pk}/km/"),
    post("synthesis:publish", "manager", lambda w: f"{P}/synthesis/{w.synthesis_draft.pk}/publish/"),
    post("synthesis:withdraw", "manager", lambda w: f"{P}/synthesis/{w.synthesis_published.pk}/withdraw/"),
    post(
        "synthesis:new_version", "manager", lambda w: f"{P}/synthesis/{w.synthesis_published.pk}/new-version/"
    ),
    post("synthesis:delete", "manager", lambda w: f"{P}/synthesis/{w.synthesis_draft.pk}/delete/"),
    post(
        "training:participant_add", "officer", lambda w: f"{P}/training/sessions/{w.session.pk}/participants/"
    ),
    post(
        "training:participant_remove",
        "officer",
        lambda w: f"{P}/training/sessions/{w.session.pk}/participants/{w.participant.pk}/remove/",
    ),
    post("training:attendance", "officer", lambda w: f"{P}/training/sessions/{w.session.pk}/attendance/"),
    post(
        "training:course_copy",
        "officer",
        lambda w: f"{P}/training/courses/copy/",
        body=lambda w: {"template": w.templates[0].pk},
    ),
    post("advisory:plan_start", "lead", lambda w: f"{P}/advisory/factories/{w.a.pk}/plan/start/"),
    post("advisory:plan_findings", "lead", lambda w: f"{P}/advisory/plans/{w.plan.pk}/findings/"),
    post("advisory:plan_diagnosis", "lead", lambda w: f"{P}/advisory/plans/{w.plan.pk}/self-diagnosis/"),
    post("advisory:plan_add_item", "lead", lambda w: f"{P}/advisory/plans/{w.plan.pk}/items/"),
    post("advisory:item_comment", "lead", lambda w: f"{P}/advisory/items/{w.item.pk}/comments/"),
    post("advisory:item_evidence", "lead", lambda w: f"{P}/advisory/items/{w.item.pk}/evidence/"),
    get("advisory:evidence", "lead", lambda w: f"{P}/advisory/items/{w.item.pk}/evidence/{w.evidence.pk}/"),
    post("advisory:item_verify", "lead", lambda w: f"{P}/advisory/items/{w.item.pk}/verify/"),
    post("advisory:item_reopen", "lead", lambda w: f"{P}/advisory/items/{w.item.pk}/reopen/"),
    post("committees:kind_suggested", "manager", lambda w: f"{P}/advisory/committee-kinds/suggested/"),
    post("committees:create", "hr", lambda w: f"{P}/advisory/factories/{w.a.pk}/committees/new/"),
    post(
        "committees:member_sign_in_remove",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/members/{w.member.pk}/sign-in/remove/",
    ),
    post(
        "committees:candidate_add",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/candidates/",
    ),
    post(
        "committees:candidate_remove",
        "hr",
        lambda w: (
            f"{P}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/candidates/"
            f"{w.candidate.pk}/remove/"
        ),
    ),
    post(
        "committees:election_votes",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/votes/",
    ),
    post(
        "committees:election_results",
        "hr",
        lambda w: f"{P}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/results/",
    ),
    post("visits:diagnosis_start", "hr", lambda w: f"{P}/advisory/factories/{w.a.pk}/self-diagnosis/start/"),
    post(
        "visits:diagnosis_submit",
        "hr",
        lambda w: f"{P}/advisory/factories/{w.a.pk}/self-diagnosis/{w.draft_diagnosis.pk}/submit/",
    ),
    post("tool:copy", "global_", lambda w: f"/tool/{w.tool.pk}/copy/"),
    post("tool:action", "global_", lambda w: f"/tool/{w.tool.pk}/submit/"),
    post("buyer_orgs:invite", "global_", lambda w: f"/buyers/{w.brand.pk}/invite/"),
    get("buyer_statements:latest", "buyer", lambda w: "/buyer/statements/"),
    get(
        "buyer_statements:pdf_download",
        "buyer",
        lambda w: f"/buyer/statements/{w.today.year}/pdf/jobs/{w.statement_job.pk}/download/",
    ),
    post("buyer_statements:pdf_request", "buyer", lambda w: f"/buyer/statements/{w.today.year}/pdf/KH/km/"),
    get(
        "public:synthesis_pdf",
        "",
        lambda w: f"/public/KH/synthesis/{w.synthesis_published.pk}/pdf/en/",
    ),
    post("people:revoke", "manager", lambda w: f"{P}/users/{w.hr_b.pk}/revoke/{w.grant_b.pk}/"),
    post("people:training", "manager", lambda w: f"{P}/users/{w.lead.pk}/training/{w.lead_grant.pk}/"),
    post("api-factory-import", "manager", lambda w: f"{API}/factories/imports/"),
    post("api-history-import", "manager", lambda w: f"{API}/assessments/imports/"),
    post(
        "api-assessment-transition",
        "lead",
        lambda w: f"{API}/assessments/{w.in_progress.pk}/transition/",
        body=lambda w: {"to": "submitted", "expected_version": 1},
    ),
    post(
        "api-report-request",
        "manager",
        lambda w: f"{API}/reports/",
        body=lambda w: {"kind": "assessment", "target": w.final.pk, "language": "km"},
    ),
    get("api-report-download", "manager", lambda w: f"{API}/reports/{w.jobs[0].pk}/download/"),
    post(
        "api-training-session-cancel", "officer", lambda w: f"{API}/training/sessions/{w.session.pk}/cancel/"
    ),
    Probe(
        "api-training-participant",
        "DELETE",
        lambda w: f"{API}/training/sessions/{w.session.pk}/participants/{w.participant.pk}/",
        "officer",
    ),
    Probe(
        "api-training-entitlement",
        "PUT",
        lambda w: f"{API}/training/entitlements/{w.a.pk}/1/",
        "officer",
        body=lambda w: {"days": 3, "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    ),
    post("api-plan-findings", "lead", lambda w: f"{API}/advisory/plans/{w.plan.pk}/findings/"),
    post("api-plan-item-verify", "lead", lambda w: f"{API}/advisory/items/{w.item.pk}/verify/"),
    post("api-plan-item-reopen", "lead", lambda w: f"{API}/advisory/items/{w.item.pk}/reopen/"),
    post(
        "api-progress-report-submit",
        "hr",
        lambda w: f"{API}/advisory/progress-reports/{w.progress.pk}/submit/",
    ),
    post(
        "api-committee-members-change",
        "hr",
        lambda w: f"{API}/advisory/committees/{w.committee.pk}/members/change/",
    ),
    post(
        "api-committee-member-end",
        "hr",
        lambda w: f"{API}/advisory/committees/{w.committee.pk}/members/{w.member.pk}/end/",
        body=lambda w: {"term_ends_on": w.today.isoformat()},
    ),
    post(
        "api-committee-candidates",
        "hr",
        lambda w: f"{API}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/candidates/",
        body=lambda w: {"name": "Gia", "sex": "female"},
    ),
    Probe(
        "api-committee-votes",
        "PUT",
        lambda w: f"{API}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/votes/",
        "hr",
        body=lambda w: {"votes": []},
    ),
    post(
        "api-committee-results",
        "hr",
        lambda w: f"{API}/advisory/committees/{w.committee.pk}/elections/{w.election.pk}/results/",
    ),
    Probe(
        "api-self-diagnosis-answers",
        "PUT",
        lambda w: f"{API}/advisory/self-diagnoses/{w.draft_diagnosis.pk}/answers/",
        "hr",
        body=lambda w: {"answers": []},
    ),
    post(
        "api-self-diagnosis-submit",
        "hr",
        lambda w: f"{API}/advisory/self-diagnoses/{w.draft_diagnosis.pk}/submit/",
    ),
]


def import_run_probes() -> list[Probe]:
    """An import run of the manager's, read and applied by its id."""
    return [
        get("api-factory-import-detail", "manager", lambda w: f"{API}/factories/imports/{w.factory_run}/"),
        post(
            "api-factory-import-apply", "manager", lambda w: f"{API}/factories/imports/{w.factory_run}/apply/"
        ),
        get("api-history-import-detail", "manager", lambda w: f"{API}/assessments/imports/{w.history_run}/"),
        post(
            "api-history-import-apply",
            "manager",
            lambda w: f"{API}/assessments/imports/{w.history_run}/apply/",
        ),
    ]


# The API's writes at addresses the pages above already read (the same object, another method).
def derived_api_writes(operations: list[tuple[str, str]], known: list[Probe]) -> list[Probe]:
    probes = []
    for method, template in operations:
        if method == "GET" or any(p.method == method and matches(template, p) for p in known):
            continue
        page = next((p for p in known if p.method == "GET" and matches(template, p)), None)
        if page is not None:
            probes.append(Probe(page.route, method, page.path, page.insider, label="derived"))
    return probes


# The forms behind the pages about one object: an outsider's POST must not find it either.
def page_form_posts(pages: list[Probe]) -> list[Probe]:
    return [
        Probe(p.route, "POST", p.path, p.insider, label=p.label)
        for p in pages
        if not p.route.startswith("api-") and "<int:" in route_pattern(p.route)
    ]


# --- The rules -----------------------------------------------------------------------------------

# Addresses about records of no programme, shared by all (the compliance tool, the training
# templates of the global team, brands and programmes themselves): an outsider of a programme is
# not an outsider there. They are still tried: no server error, nothing secret shown.
SHARED = {
    "tool:detail": "the compliance tool is the same for every programme",
    "tool:export": "the compliance tool is the same for every programme",
    "tool:question": "the compliance tool is the same for every programme",
    "tool:copy": "the compliance tool is the same for every programme",
    "tool:action": "the compliance tool is the same for every programme",
    "api-tool-version": "the compliance tool is the same for every programme",
    "training_templates:edit": "training templates are the global team's, for every programme",
    "buyer_orgs:detail": "a brand's page: for the global team and the brand's own people",
    "buyer_orgs:invite": "a brand's page: for the global team and the brand's own people",
    "people:programme_edit": "a programme's settings: for the global team",
}

# Addresses a reviewed reason keeps out of the matrix.
NOT_TRIED = {
    "password_reset_confirm": "a reset link: its uid and token are the secret; nothing of a programme",
}


def route_pattern(name: str) -> str:
    return next(r.pattern for r in qc.routes() if r.name == name)


def split(path: str) -> tuple[str, str]:
    base, _, query = path.partition("?")
    return base, query


def object_ids(path: str) -> dict[str, int]:
    """The kwargs of the address that name a record (not a year or a cycle)."""
    kwargs = resolve(split(path)[0]).kwargs
    return {k: v for k, v in kwargs.items() if isinstance(v, int) and k not in ("year", "cycle")}


def with_no_such_ids(path: str) -> str:
    base, query = split(path)
    match = resolve(base)
    kwargs = {**match.kwargs, **dict.fromkeys(object_ids(path), NO_SUCH_ID)}
    return reverse(match.view_name, kwargs=kwargs) + (f"?{query}" if query else "")


def moved(path: str) -> str:
    """The address in the Vietnamese programme, with Cambodia's ids left in it."""
    return path.replace("/p/KH/", "/p/VN/").replace("/public/KH/", "/public/VN/")


def template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(template)) + "$")


def matches(template: str, probe: Probe, w: Any = None) -> bool:
    """Whether the probe's address is an instance of the schema's path template."""
    pattern = route_pattern(probe.route)
    schema_like = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)
    return template_regex(template).match(schema_like) is not None


def ask(client: Client, method: str, path: str, body: dict[str, Any] | None) -> Any:
    if method == "GET":
        return client.get(path)
    if path.startswith("/api/"):
        return client.generic(method, path, json.dumps(body or {}), content_type="application/json")
    return client.post(path, body or {})


def text_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


SIGN_IN_REFUSALS = {302, 401, 403, 404}


def refusal_problem(w: Any, outsider: Outsider, probe: Probe, path: str, client: Client) -> str | None:
    """What is wrong with the outsider's answer at this address, or None."""
    response = ask(client, probe.method, path, probe.body(w) if probe.body else None)
    status = response.status_code
    body = text_of(response)
    if status >= 500:
        return f"{path}: a server error ({status})"
    if status == 302 and not outsider.user and not response["Location"].startswith("/accounts/login/"):
        return f"{path}: someone not signed in is sent to {response['Location']}, not to sign in"
    strict = bool(object_ids(path)) and probe.route not in SHARED
    if strict:
        missing = ask(client, probe.method, with_no_such_ids(path), probe.body(w) if probe.body else None)
        text_of(missing)
        if status != missing.status_code:
            return f"{path}: answered {status}, but {missing.status_code} for an id no row has"
        refused = (
            SIGN_IN_REFUSALS if not outsider.user else {404} | ({405} if probe.method != "GET" else set())
        )
        if status not in refused:
            return f"{path}: answered {status}, not a refusal ({sorted(refused)})"
        return None
    if status == 200:
        seen = [s for s in outsider.secrets(w) if s and s in body]
        if seen:
            return f"{path}: shows {seen}"
    return None


# --- The matrix ----------------------------------------------------------------------------------


def schema_operations() -> list[tuple[str, str]]:
    """Every operation of the OpenAPI schema, as (method, path template)."""
    with tenancy.scope([]):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    methods = {"get", "post", "put", "patch", "delete"}
    return [(m.upper(), path) for path, item in schema["paths"].items() for m in item if m in methods]


def all_probes() -> list[Probe]:
    pages = page_probes()
    others = [*OTHER_ADDRESSES, *import_run_probes()]
    known = pages + others
    return [*known, *derived_api_writes(schema_operations(), known), *page_form_posts(pages)]


PROBES = all_probes()


def outsiders_of(probe: Probe) -> list[str]:
    """Everyone not allowed; where anyone is (public pages, sign-in), only the other programme's
    people, whose moved address must not reach Cambodia's records either."""
    return [name for name, o in OUTSIDERS.items() if probe.insider or o.moves]


def problems_of(w: Any, probe: Probe, names: list[str]) -> list[str]:
    problems = []
    address = probe.path(w)  # once: some make the record they name
    for name in names:
        outsider = OUTSIDERS[name]
        path = moved(address) if outsider.moves else address
        problem = refusal_problem(w, outsider, probe, path, client_for(w, outsider.user))
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_outsiders_find_nothing_at_any_address(world: Any, db: Any, probe: Probe) -> None:
    problems = problems_of(world, probe, outsiders_of(probe))
    assert not problems, "\n".join(problems)


@pytest.fixture
def app_filter_off(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tenant managers no longer filter by programme (they still need a scope): what keeps the
    programmes apart is the database's row-level security alone."""

    def rls_only(self: tenancy.TenantManager) -> models.QuerySet[Any]:
        tenancy.require_scope()
        return super(tenancy.TenantManager, self).get_queryset()

    monkeypatch.setattr(tenancy.TenantManager, "get_queryset", rls_only)
    with tenancy.scope({world.kh.pk}):
        sql = str(Attachment.objects.all().query)
    assert " WHERE " not in sql, "the programme filter is still on"


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_row_level_security_alone_keeps_programmes_apart(
    world: Any, db: Any, app_filter_off: None, probe: Probe
) -> None:
    problems = problems_of(world, probe, VIETNAM)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("probe", [*OTHER_ADDRESSES, *import_run_probes()], ids=lambda p: p.id)
def test_insiders_reach_the_addresses_outsiders_are_refused(world: Any, db: Any, probe: Probe) -> None:
    """The addresses above name real records: their insider is not told "not found"."""
    client = client_for(world, probe.insider)
    with transaction.atomic():
        response = ask(client, probe.method, probe.path(world), probe.body(world) if probe.body else None)
        transaction.set_rollback(True)
    text_of(response)  # read to its end, as a server would: its file is closed
    assert response.status_code != 404, f"{probe.id}: its insider {probe.insider!r} is told not found"
    assert response.status_code < 500, f"{probe.id}: a server error ({response.status_code})"


def test_every_route_and_operation_is_in_the_matrix() -> None:
    """A new address or API operation fails here until the matrix tries it (or a reason in
    NOT_TRIED says why not)."""
    names = {route.name for route in qc.routes()}
    tried = {probe.route for probe in PROBES}
    assert not tried & set(NOT_TRIED), f"both tried and not: {sorted(tried & set(NOT_TRIED))}"
    untried = names - tried - set(NOT_TRIED)
    assert not untried, f"addresses no outsider tries (add them to OTHER_ADDRESSES): {sorted(untried)}"
    assert not (set(SHARED) | set(NOT_TRIED)) - names, "SHARED or NOT_TRIED names no address"
    untried_operations = [
        f"{method} {template}"
        for method, template in schema_operations()
        if not any(p.method == method and matches(template, p) for p in PROBES)
    ]
    assert not untried_operations, f"API operations no outsider tries: {untried_operations}"


# --- Foreign keys ----------------------------------------------------------------------------------

VN_API = "/api/v1/p/VN"


@dataclass(frozen=True)
class ForeignKeyProbe:
    """A create or change of one's own records, first with one's own related records (it works),
    then with each foreign key pointing at Cambodia's (refused with 400, naming the field)."""

    label: str
    user: str
    method: str
    path: Callable[[Any], str]
    body: Callable[[Any], dict[str, Any]]
    foreign: Callable[[Any], dict[str, Any]]


def soon(w: Any, days: int) -> str:
    return (w.vn.today() + dt.timedelta(days=days)).isoformat()


FOREIGN_KEYS = [
    ForeignKeyProbe(
        "plan an assessment",
        "vn_leader",
        "POST",
        lambda w: f"{VN_API}/assessments/",
        lambda w: {
            "factory": w.vn_factory.pk,
            "planned_date": soon(w, 30),
            "assessors": [w.vn_advisor.pk, w.vn_second.pk],
        },
        lambda w: {"factory": w.a.pk, "assessors": [w.vn_advisor.pk, w.lead.pk], "round": w.round.pk},
    ),
    ForeignKeyProbe(
        "register a factory",
        "vn_manager",
        "POST",
        lambda w: f"{VN_API}/factories/",
        lambda w: {"name": "Hanoi Threads", "designated_advisor": w.vn_advisor.pk},
        lambda w: {"designated_advisor": w.lead.pk},
    ),
    ForeignKeyProbe(
        "log an advisory visit",
        "vn_advisor",
        "POST",
        lambda w: f"{VN_API}/advisory/visits/",
        lambda w: {
            "factory": w.vn_factory.pk,
            "visited_on": soon(w, -1),
            "topics": "Fire exits",
            "advisors": [w.vn_advisor.pk],
        },
        lambda w: {"factory": w.a.pk, "advisors": [w.lead.pk], "items": [w.item.pk]},
    ),
    ForeignKeyProbe(
        "schedule a training session",
        "vn_advisor",
        "POST",
        lambda w: f"{VN_API}/training/sessions/",
        lambda w: {
            "course": w.vn_course.pk,
            "mode": "open",
            "dates": [soon(w, 40)],
            "trainers": [w.vn_advisor.pk],
        },
        lambda w: {"course": w.course.pk, "trainers": [w.officer.pk]},
    ),
    ForeignKeyProbe(
        "change a training session",
        "vn_advisor",
        "PATCH",
        lambda w: f"{VN_API}/training/sessions/{w.vn_session.pk}/",
        lambda w: {"capacity": 25},
        lambda w: {"course": w.course.pk, "trainers": [w.officer.pk]},
    ),
    ForeignKeyProbe(
        "enrol a participant",
        "vn_advisor",
        "POST",
        lambda w: f"{VN_API}/training/sessions/{w.vn_session.pk}/participants/",
        lambda w: {"name": "Lan Pham", "sex": "female", "role": "worker", "factory": w.vn_factory.pk},
        lambda w: {"factory": w.a.pk},
    ),
    ForeignKeyProbe(
        "record a committee meeting",
        "vn_hr",
        "POST",
        lambda w: f"{VN_API}/advisory/committees/{w.vn_committee.pk}/meetings/",
        lambda w: {"held_on": soon(w, -2), "agenda": "Canteen prices"},
        lambda w: {"attendees": [w.member.pk], "decisions": [{"text": "Fix the fan", "item": w.item.pk}]},
    ),
]


@pytest.mark.parametrize("probe", FOREIGN_KEYS, ids=lambda p: p.label)
def test_foreign_keys_to_another_programme_are_refused(world: Any, db: Any, probe: ForeignKeyProbe) -> None:
    client = client_for(world, probe.user)
    with transaction.atomic():
        own = ask(client, probe.method, probe.path(world), probe.body(world))
        transaction.set_rollback(True)
    assert own.status_code in (200, 201), (
        f"{probe.label} with one's own records: {own.status_code} {own.content!r}"
    )
    for field, value in probe.foreign(world).items():
        with transaction.atomic():
            response = ask(client, probe.method, probe.path(world), {**probe.body(world), field: value})
            transaction.set_rollback(True)
        assert response.status_code == 400, (
            f"{probe.label}, {field}: {response.status_code} {response.content!r}"
        )
        assert field in response.json(), (
            f"{probe.label}: the refusal does not name {field}: {response.json()}"
        )
