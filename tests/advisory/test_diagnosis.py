"""The self-diagnosis: the questions it asks, filled by the factory's users and the programme's
staff, one draft at a time, submitted only when complete (what is missing is listed), read-only
afterwards; its results and the findings the improvement plan takes over; the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from advisory import diagnosis, diagnosis_selectors
from advisory.diagnosis import AnswerInput, DiagnosisIncomplete
from advisory.models import DiagnosisAnswer, SelfDiagnosis
from assessments.models import Question
from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from betterwork.permissions import Principal
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db

API = "/api/v1/p/KH/advisory/"


def run(user, where, fn, /, **kwargs):
    """A service called as this user inside the programme's scope and a transaction, like a request."""
    with tenancy.scope({where.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(user), **kwargs)


def in_scope(programme, fn):
    with tenancy.scope({programme.pk}), transaction.atomic():
        return fn()


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def page(factory, tail="") -> str:
    return f"/p/KH/advisory/factories/{factory.pk}/self-diagnosis/{tail}"


def question(tool, key):
    return Question.objects.get(version=tool, key=key)


def start(user, factory):
    return run(user, factory.programme, diagnosis.diagnosis_start, factory=factory)[0]


def answer(user, draft, **values):
    """answer(user, draft, CL_01=("NC", "note")) with keys as question keys (- written _)."""
    given = {
        question(draft.tool_version, key.replace("_", "-")).pk: AnswerInput(*value)
        for key, value in values.items()
    }
    return run(user, draft.factory.programme, diagnosis.diagnosis_answer, diagnosis=draft, answers=given)


@pytest.fixture
def factory_user(kh_factory):
    return user_with_role(Role.FACTORY, factory=kh_factory)


# --- What it asks ---------------------------------------------------------------------------


def test_it_asks_the_core_standards_and_safety_and_health_by_default(kh, tool, settings):
    asked = [q.key for q in diagnosis_selectors.diagnosis_questions(version=tool)]
    assert asked == ["CL-01", "OSH-01"]  # not WT-01: working time is not in the default subset
    settings.SELF_DIAGNOSIS_CLUSTERS = ["WT", "OSH"]
    assert [q.key for q in diagnosis_selectors.diagnosis_questions(version=tool)] == ["OSH-01", "WT-01"]


# --- Filling and submitting -----------------------------------------------------------------


def test_the_factory_fills_it_on_its_pages_and_submits_it_when_complete(
    client, kh, kh_factory, tool, factory_user
):
    client.force_login(factory_user)
    overview = client.get(page(kh_factory))
    assert overview.status_code == 200 and "Start the self-diagnosis" in overview.content.decode()
    started = client.post(page(kh_factory, "start/"))
    draft = in_scope(kh, lambda: SelfDiagnosis.objects.get(factory=kh_factory))
    assert started.status_code == 302 and started["Location"] == page(kh_factory, f"{draft.pk}/CL/")
    cl = client.get(started["Location"])
    assert cl.status_code == 200 and "Are any workers under age?" in cl.content.decode()
    assert "Is overtime voluntary?" not in cl.content.decode()
    q_cl, q_osh = question(tool, "CL-01"), question(tool, "OSH-01")
    saved = client.post(started["Location"], {f"q{q_cl.pk}-value": "C", "next": ""})
    assert saved.status_code == 302 and saved["Location"] == page(kh_factory, f"{draft.pk}/OSH/")

    refused = client.post(page(kh_factory, f"{draft.pk}/submit/"))
    text = refused.content.decode()
    assert refused.status_code == 200 and "1 question is not answered yet" in text
    assert "OSH-01" in text and "Are exits locked in working hours?" in text and "CL-01" not in text
    assert in_scope(kh, lambda: SelfDiagnosis.objects.get().status) == "draft"

    client.post(
        page(kh_factory, f"{draft.pk}/OSH/"),
        {f"q{q_osh.pk}-value": "NC", f"q{q_osh.pk}-note": "The back exit was padlocked", "save": ""},
    )
    submitted = client.post(page(kh_factory, f"{draft.pk}/submit/"))
    assert submitted.status_code == 302 and submitted["Location"] == page(kh_factory, f"{draft.pk}/")
    done = in_scope(kh, lambda: SelfDiagnosis.objects.get())
    assert done.status == "submitted" and done.submitted_by == factory_user and done.submitted_at
    results = client.get(submitted["Location"]).content.decode()
    assert "The back exit was padlocked" in results and "Occupational Safety and Health" in results
    assert in_scope(kh, lambda: AuditEvent.objects.filter(action="advisory.diagnosis.submit").count()) == 1


def test_it_is_read_only_once_submitted(client, kh, kh_factory, tool, factory_user):
    draft = start(factory_user, kh_factory)
    answer(factory_user, draft, CL_01=("C",), OSH_01=("NA",))
    run(factory_user, kh, diagnosis.diagnosis_submit, diagnosis=draft)
    with pytest.raises(ValidationError):
        answer(factory_user, draft, CL_01=("NC", "Changed my mind"))
    with pytest.raises(ValidationError):
        run(factory_user, kh, diagnosis.diagnosis_submit, diagnosis=draft)
    client.force_login(factory_user)
    q = question(tool, "CL-01")
    cluster_page = client.get(page(kh_factory, f"{draft.pk}/CL/")).content.decode()
    assert "can no longer be changed" in cluster_page and "disabled" in cluster_page
    posted = client.post(page(kh_factory, f"{draft.pk}/CL/"), {f"q{q.pk}-value": "NC"}, follow=True)
    assert "can no longer be changed" in posted.content.decode()
    assert in_scope(kh, lambda: DiagnosisAnswer.objects.get(question=q).value) == "C"
    # A later self-diagnosis starts afresh.
    later = start(factory_user, kh_factory)
    assert later.pk != draft.pk and later.status == "draft"


def test_one_draft_at_a_time(kh, kh_factory, kh_advisor, tool, factory_user):
    first, created = run(factory_user, kh, diagnosis.diagnosis_start, factory=kh_factory)
    again, created_again = run(kh_advisor, kh, diagnosis.diagnosis_start, factory=kh_factory)
    assert created and not created_again and again.pk == first.pk
    assert in_scope(kh, lambda: SelfDiagnosis.objects.count()) == 1


def test_answers_are_checked_and_audited_by_question(kh, kh_factory, tool, factory_user):
    draft = start(factory_user, kh_factory)
    wt = question(tool, "WT-01")
    with pytest.raises(ValidationError) as refused:
        run(factory_user, kh, diagnosis.diagnosis_answer, diagnosis=draft, answers={wt.pk: AnswerInput("C")})
    assert "not part of this self-diagnosis" in str(refused.value)
    with pytest.raises(ValidationError):
        answer(factory_user, draft, CL_01=("YES",))
    with pytest.raises(ValidationError):
        answer(factory_user, draft, CL_01=("", "A note without an answer"))
    assert answer(factory_user, draft, CL_01=("NC", "Two workers aged 15"), OSH_01=("C",)) == 2
    assert answer(factory_user, draft, CL_01=("NC", "Two workers aged 15"), OSH_01=("NA",)) == 1
    assert answer(factory_user, draft, OSH_01=("",)) == 1  # an empty answer clears it
    events = in_scope(
        kh, lambda: list(AuditEvent.objects.filter(action="advisory.diagnosis.answers").order_by("id"))
    )
    assert [sorted(e.after) for e in events] == [["CL-01", "OSH-01"], ["OSH-01"], ["OSH-01"]]
    assert events[1].before["OSH-01"] == {"value": "C", "note": ""} and events[2].after["OSH-01"] is None
    missing = in_scope(kh, lambda: diagnosis_selectors.missing_questions(diagnosis=draft))
    assert [q.key for q in missing] == ["OSH-01"]
    with pytest.raises(DiagnosisIncomplete) as incomplete:
        run(factory_user, kh, diagnosis.diagnosis_submit, diagnosis=draft)
    assert [q.key for q in incomplete.value.missing] == ["OSH-01"]


def test_findings_are_the_non_compliant_answers_with_their_notes(kh, kh_factory, tool, factory_user):
    draft = start(factory_user, kh_factory)
    answer(factory_user, draft, OSH_01=("NC", "Exit padlocked"), CL_01=("NC", ""))
    findings = in_scope(kh, lambda: diagnosis_selectors.diagnosis_findings(draft))
    assert [(q.key, note) for q, note in findings] == [("CL-01", ""), ("OSH-01", "Exit padlocked")]
    clusters = in_scope(kh, lambda: diagnosis_selectors.diagnosis_form(diagnosis=draft))
    assert [(c.cluster.code, c.points_noncompliant, c.points_assessed, c.rate) for c in clusters] == [
        ("CL", 1, 1, 1.0),
        ("OSH", 1, 1, 1.0),
    ]
    answer(factory_user, draft, CL_01=("NA",))
    clusters = in_scope(kh, lambda: diagnosis_selectors.diagnosis_form(diagnosis=draft))
    assert clusters[0].rate is None and clusters[0].answered == 1  # not applicable leaves it out


# --- Who --------------------------------------------------------------------------------------


def test_only_the_factorys_users_and_the_programmes_staff_reach_it(
    client, kh, vn, kh_factory, kh_advisor, tool, factory_user
):
    draft = start(factory_user, kh_factory)
    other = FactoryFactory(programme=kh, name="Other Garments")
    stranger = user_with_role(Role.FACTORY, factory=other)
    vn_advisor = user_with_role(Role.ADVISOR, vn)
    for user in (stranger, vn_advisor):
        client.force_login(user)
        for path in (page(kh_factory), page(kh_factory, f"{draft.pk}/"), page(kh_factory, f"{draft.pk}/CL/")):
            assert client.get(path).status_code == 404, (user, path)
        assert client.post(page(kh_factory, "start/")).status_code == 404
        assert client.post(page(kh_factory, f"{draft.pk}/submit/")).status_code == 404
    # The stranger's own factory does not open someone else's diagnosis either.
    client.force_login(stranger)
    assert client.get(f"/p/KH/advisory/factories/{other.pk}/self-diagnosis/{draft.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        answer(stranger, draft, CL_01=("C",))
    with pytest.raises(PermissionDenied):
        run(stranger, kh, diagnosis.diagnosis_start, factory=kh_factory)
    # The programme's staff help fill it; the global team reads it.
    client.force_login(kh_advisor)
    assert client.get(page(kh_factory, f"{draft.pk}/CL/")).status_code == 200
    assert answer(kh_advisor, draft, CL_01=("C",)) == 1
    analyst = user_with_role(Role.GLOBAL)
    client.force_login(analyst)
    assert client.get(page(kh_factory, f"{draft.pk}/")).status_code == 200
    q = question(tool, "CL-01")
    assert client.post(page(kh_factory, f"{draft.pk}/CL/"), {f"q{q.pk}-value": "NC"}).status_code == 404
    assert client.post(page(kh_factory, "start/")).status_code == 404


def test_the_cluster_page_keeps_its_query_count_flat(client, kh, kh_factory, tool, factory_user):
    draft = start(factory_user, kh_factory)
    client.force_login(factory_user)
    url = page(kh_factory, f"{draft.pk}/OSH/")
    client.get(url)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    answer(factory_user, draft, CL_01=("NC", "x"), OSH_01=("C", "y"))
    assert queries() == before


# --- The API --------------------------------------------------------------------------------


def test_api_starts_answers_and_submits(kh, kh_factory, tool, factory_user):
    client = api(factory_user)
    base = f"{API}factories/{kh_factory.pk}/self-diagnoses/"
    made = client.post(base)
    assert made.status_code == 201, made.json()
    draft = made.json()
    assert draft["status"] == "draft" and [q["key"] for q in draft["questions"]] == ["CL-01", "OSH-01"]
    assert client.post(base).status_code == 200  # the draft in progress
    q_cl, q_osh = (q["id"] for q in draft["questions"])
    url = f"{API}self-diagnoses/{draft['id']}/"

    saved = client.put(
        url + "answers/", {"answers": [{"question": q_cl, "value": "NC", "note": "Aged 15"}]}, format="json"
    )
    assert saved.status_code == 200 and saved.json()["changed"] == 1
    cl = saved.json()["diagnosis"]["clusters"][0]
    assert cl["code"] == "CL" and cl["noncompliant_questions"] == 1 and cl["rate"] == 1.0

    incomplete = client.post(url + "submit/")
    assert incomplete.status_code == 400 and any("OSH-01" in line for line in incomplete.json()["answers"])

    client.put(url + "answers/", {"answers": [{"question": q_osh, "value": "C"}]}, format="json")
    submitted = client.post(url + "submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    read = client.get(url).json()
    assert {q["key"]: q["value"] for q in read["questions"]} == {"CL-01": "NC", "OSH-01": "C"}
    listed = client.get(base).json()
    assert [(d["id"], d["answered"], d["noncompliant"]) for d in listed] == [(draft["id"], 2, 1)]

    late = client.put(url + "answers/", {"answers": [{"question": q_osh, "value": "NC"}]}, format="json")
    assert late.status_code == 400
    assert client.post(url + "submit/").status_code == 400


def test_api_refuses_bad_answers_and_strangers(kh, vn, kh_factory, kh_advisor, tool, factory_user):
    draft = start(factory_user, kh_factory)
    client = api(factory_user)
    url = f"{API}self-diagnoses/{draft.pk}/"
    wt = question(tool, "WT-01")
    cl = question(tool, "CL-01")
    for body in (
        {"answers": []},
        {"answers": [{"question": cl.pk, "value": "YES"}]},
        {"answers": [{"question": wt.pk, "value": "C"}]},
        {"answers": [{"question": cl.pk, "value": "C"}, {"question": cl.pk, "value": "NC"}]},
        {"answers": [{"question": 10**20, "value": "C"}]},
    ):
        assert client.put(url + "answers/", body, format="json").status_code == 400, body
    stranger = api(user_with_role(Role.FACTORY, factory=FactoryFactory(programme=kh)))
    assert stranger.get(url).status_code == 404
    assert (
        stranger.put(
            url + "answers/", {"answers": [{"question": cl.pk, "value": "C"}]}, format="json"
        ).status_code
        == 404
    )
    assert stranger.post(f"{API}factories/{kh_factory.pk}/self-diagnoses/").status_code == 404
    assert api(user_with_role(Role.ADVISOR, vn)).get(url).status_code == 404
    analyst = api(user_with_role(Role.GLOBAL))
    assert analyst.get(url).status_code == 200
    assert analyst.post(url + "submit/").status_code == 403
    assert (
        api(kh_advisor)
        .put(url + "answers/", {"answers": [{"question": cl.pk, "value": "C"}]}, format="json")
        .status_code
        == 200
    )
