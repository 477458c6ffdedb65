"""Historical assessments from a spreadsheet: rows grouped into final assessments, every problem
reported by row, nothing of a bad file saved, the same file twice changing nothing, a later file
revising answers on record, and the figures counting them at once."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from assessments.imports import HistoryImporter
from assessments.models import Answer, Assessment
from betterwork import tenancy
from betterwork.imports import CachedProgress, Progress, import_apply, import_preview, progress_key
from betterwork.models import AuditEvent, ImportRun, Role
from betterwork.permissions import Principal
from reporting.models import CountedAssessment, QuestionTotal
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db

HEADER = ["Programme", "Factory id", "Cycle", "Visit date", "Question key", "Answer", "Finding"]
URL = "/p/KH/assessments/import/"


def sheet(rows, header=HEADER, name="history.csv"):
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    data = io.BytesIO(out.getvalue().encode())
    data.name = name
    return data


def upload(client, rows, **kwargs):
    return client.post(URL, {"spreadsheet": sheet(rows, **kwargs)})


def confirm(client, run):
    return client.post(URL, {"run": run.pk})


def latest_run(kh):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return ImportRun.objects.filter(kind="assessments.history").latest("pk")


def finals(kh):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return {
            (a.factory.public_id, a.cycle): {ans.question.key: ans.value for ans in a.answers.all()}
            for a in Assessment.objects.filter(programme=kh, status="final")
            .prefetch_related("answers__question")
            .select_related("factory")
        }


@pytest.fixture
def manager(client, kh):
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    return client


@pytest.fixture
def mills(kh):
    return [
        FactoryFactory(programme=kh, name="Angkor Garment", public_id="KH000018", legacy_id="BFC-18"),
        FactoryFactory(programme=kh, name="Mekong Apparel", public_id="KH000026"),
    ]


def two_cycles():
    return [
        ["KH", "KH000018", "1", "2023-03-02", "CL-01", "compliant", ""],
        ["KH", "KH000018", "1", "2023-03-02", "OSH-01", "non_compliant", "Exit 3 locked."],
        ["KH", "KH000018", "1", "2023-03-02", "WT-01", "NC", "Overtime of 4 hours a day."],
        ["KH", "BFC-18", "2", "2024-03-05", "OSH-01", "C", ""],
        ["KH", "BFC-18", "2", "2024-03-05", "WT-01", "NC", "Overtime still forced."],
        ["KH", "KH000026", "1", "02/04/2023", "OSH-01", "Not applicable", ""],
    ]


def test_rows_become_final_assessments_that_count_at_once(manager, kh, mills, tool):
    page = upload(manager, two_cycles()).content.decode()
    assert "No problems found: 6 rows are ready to import." in page
    run = latest_run(kh)
    assert [item["action"] for item in run.plan] == ["create", "create", "create"]
    assert "Angkor Garment (KH000018), cycle 1, visit 2023-03-02: 3 answers" in page
    assert finals(kh) == {}
    assert confirm(manager, run).status_code == 302
    assert latest_run(kh).summary == {"created": 3, "updated": 0, "unchanged": 0, "answers": 6}
    assert finals(kh) == {
        ("KH000018", 1): {"CL-01": "C", "OSH-01": "NC", "WT-01": "NC"},
        ("KH000018", 2): {"OSH-01": "C", "WT-01": "NC"},
        ("KH000026", 1): {"OSH-01": "NA"},
    }
    with tenancy.scope({kh.pk}), transaction.atomic():
        first = Assessment.objects.get(factory=mills[0], cycle=1)
        assert (first.visit_started_on, first.tool_version_id) == (dt.date(2023, 3, 2), tool.pk)
        assert first.final_at.date() == dt.date(2023, 3, 2)
        # The figures count them: three factory-cycles, and WT-01 non-compliant in both cycles.
        assert CountedAssessment.objects.filter(programme=kh).count() == 3
        wt = {
            t.cycle: (t.assessed, t.non_compliant)
            for t in QuestionTotal.objects.filter(question__key="WT-01")
        }
        assert wt == {1: (1, 1), 2: (1, 1)}
        assert AuditEvent.objects.filter(action="assessment.import").count() == 3
    page = manager.get(f"/p/KH/assessments/{first.pk}/")
    assert page.status_code == 200 and "Exit 3 locked." in page.content.decode()
    assert manager.get("/p/KH/dashboard/").status_code == 200


def test_the_same_file_twice_changes_nothing(manager, kh, mills, tool):
    upload(manager, two_cycles())
    confirm(manager, latest_run(kh))
    before = finals(kh)
    page = upload(manager, two_cycles()).content.decode()
    run = latest_run(kh)
    assert [item["action"] for item in run.plan] == ["unchanged"] * 3
    confirm(manager, run)
    assert latest_run(kh).summary == {"created": 0, "updated": 0, "unchanged": 3, "answers": 0}
    assert finals(kh) == before and "Unchanged" in page
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert not AuditEvent.objects.filter(action="assessment.revise").exists()


def test_a_later_file_revises_answers_on_record(manager, kh, mills, tool):
    upload(manager, two_cycles())
    confirm(manager, latest_run(kh))
    with tenancy.scope({kh.pk}), transaction.atomic():
        lock = Assessment.objects.get(factory=mills[0], cycle=2).lock_version
    correction = [
        ["KH", "KH000018", "2", "2024-03-05", "OSH-01", "NC", "Exit 3 locked again."],
        ["KH", "KH000018", "2", "2024-03-05", "CL-01", "C", ""],
    ]
    page = upload(manager, correction, name="corrections-2024.csv").content.decode()
    run = latest_run(kh)
    assert run.plan[0]["action"] == "update"
    assert run.plan[0]["changes"] == ["CL-01: not answered → Compliant", "OSH-01: Compliant → Non-compliant"]
    assert "OSH-01: Compliant → Non-compliant" in page
    confirm(manager, run)
    assert finals(kh)[("KH000018", 2)] == {"CL-01": "C", "OSH-01": "NC", "WT-01": "NC"}
    with tenancy.scope({kh.pk}), transaction.atomic():
        revised = Assessment.objects.get(factory=mills[0], cycle=2)
        assert revised.lock_version == lock + 1
        event = AuditEvent.objects.get(action="assessment.revise")
        assert event.before == {"OSH-01": "C", "CL-01": ""} and event.after == {"OSH-01": "NC", "CL-01": "C"}
        assert "historical assessments" in event.reason
        osh = QuestionTotal.objects.get(question__key="OSH-01", cycle=2)
        assert (osh.assessed, osh.non_compliant) == (1, 1)  # the rollups follow the revision
        assert Answer.objects.get(assessment=revised, question__key="OSH-01").version == 2


def test_every_problem_is_reported_by_row_and_nothing_is_saved(manager, kh, mills, tool):
    rows = [
        ["VN", "KH000018", "1", "2023-03-02", "OSH-01", "C", ""],
        ["KH", "KH999999", "1", "2023-03-02", "OSH-01", "C", ""],
        ["KH", "KH000018", "1", "2023-03-02", "NOPE-01", "C", ""],
        ["KH", "KH000018", "1", "2023-03-02", "OSH-01", "NC", ""],
        ["KH", "KH000018", "1", "2023-03-02", "WT-01", "C", ""],
        ["KH", "KH000018", "1", "2023-03-02", "WT-01", "NC", "Twice."],
        ["KH", "KH000018", "1", "2023-03-09", "CL-01", "C", ""],
        ["KH", "KH000018", "1", "2019-01-01", "CL-01", "C", ""],
        ["KH", "KH000026", "x", "2023-03-02", "CL-01", "maybe", ""],
        ["KH", "KH000026", "1", "2023-13-02", "CL-01", "C", ""],
    ]
    page = upload(manager, rows).content.decode()
    for message in (
        "This row is for programme VN; this import is for KH.",
        "No factory of the programme has the id or legacy id “KH999999”.",
        "has no question “NOPE-01”",
        "A non-compliant answer needs its finding.",
        "Question WT-01 of this factory&#x27;s cycle 1 is answered on row 6 too.",
        "Row 6 gives this factory&#x27;s cycle 1 the visit date 2023-03-02.",
        "No published compliance tool is in force on 2019-01-01.",
        "“x” is not a whole number.",
        "“maybe” is not an answer",
        "“2023-13-02” is not a date",
    ):
        assert message in page, message
    assert latest_run(kh).status == ImportRun.Status.REJECTED and finals(kh) == {}


def test_a_cycle_under_way_in_the_platform_is_an_error(manager, kh, planned, tool):
    rows = [["KH", planned.factory.public_id, str(planned.cycle), "2026-03-02", "OSH-01", "C", ""]]
    page = upload(manager, rows).content.decode()
    assert f"Cycle {planned.cycle} of {planned.factory.public_id} is an assessment under way" in page


def test_only_the_programmes_manager_imports(client, kh, vn, mills, tool):
    client.force_login(user_with_role(Role.ADVISOR, kh))
    assert client.get(URL).status_code == 404
    assert client.get(URL + "template/").status_code == 404
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))
    assert client.get(URL).status_code == 404
    assert client.get("/p/KH/assessments/export/").status_code == 404
    # VN's manager importing into VN cannot reach KH's factories.
    data = sheet([["VN", "KH000018", "1", "2023-03-02", "OSH-01", "C", ""]])
    page = client.post("/p/VN/assessments/import/", {"spreadsheet": data}).content.decode()
    assert "This row is for programme VN" not in page and "“KH000018”" in page


def test_the_template_and_the_documented_example(manager, kh, mills, tool):
    template = manager.get(URL + "template/?format=csv").content.decode("utf-8-sig")
    assert template.strip().split(",") == [
        "Programme", "Factory id", "Cycle", "Visit date", "Question key", "Answer", "Finding", "Report final on",
    ]  # fmt: skip
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "historical-assessments.csv"
    data = io.BytesIO(example.read_bytes())
    data.name = example.name
    page = manager.post(URL, {"spreadsheet": data}).content.decode()
    assert "No problems found" in page
    assert confirm(manager, latest_run(kh)).status_code == 302
    assert ("KH000018", 1) in finals(kh)


def test_statements_do_not_grow_with_the_file(manager, kh, tool):
    factories = [FactoryFactory(programme=kh, public_id=f"KH1{n:04d}0") for n in range(30)]

    def run_with(chosen):
        rows = [  # a visit date of its own for each factory: the tool in force is found once for all
            ["KH", f.public_id, "1", f"2023-05-{1 + n:02d}", key, "C", ""]
            for n, f in enumerate(chosen)
            for key in ("CL-01", "OSH-01")
        ]
        connection.queries_log.clear()  # a full log (it keeps the last 9,000) would count nothing
        with CaptureQueriesContext(connection) as preview:
            upload(manager, rows)
        counted = len(preview)  # now: the next request empties the log
        run = latest_run(kh)
        with CaptureQueriesContext(connection) as applying:
            assert confirm(manager, run).status_code == 302
        counted_too = len(applying)
        manager.get("/p/KH/assessments/")  # shows the import's message
        return counted, counted_too

    manager.get(URL)
    few, many = run_with(factories[:2]), run_with(factories[2:30])
    # Counting each assessment in the rollups takes a few statements per assessment (as when
    # final by hand); everything else is flat.
    assert few[0] == many[0], (few, many)
    per_assessment = (many[1] - few[1]) / 26
    assert few[1] > 0 and per_assessment <= 10, (few, many)


def test_the_command_checks_then_imports(kh, mills, tool, tmp_path):
    from django.core.management import CommandError, call_command

    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    path = tmp_path / "history.csv"
    path.write_bytes(sheet(two_cycles()).getvalue())
    out = io.StringIO()
    call_command("import_history", "kh", str(path), user=manager.email, stdout=out)
    assert "Checked 6 rows" in out.getvalue() and "New: 3" in out.getvalue() and finals(kh) == {}
    call_command("import_history", "KH", str(path), user=manager.email, apply=True, stdout=out)
    assert "created 3" in out.getvalue() and len(finals(kh)) == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(sheet([["KH", "KH000018", "1", "2023-03-02", "NOPE", "C", ""]]).getvalue())
    with pytest.raises(CommandError, match="1 problems: nothing was imported"):
        call_command("import_history", "KH", str(bad), user=manager.email, apply=True, stdout=io.StringIO())
    advisor = user_with_role(Role.ADVISOR, kh)
    with pytest.raises(CommandError, match="may not import"):
        call_command("import_history", "KH", str(path), user=advisor.email, stdout=io.StringIO())


def test_an_export_imports_back_unchanged_and_streams_in_flat_statements(manager, kh, mills, tool):
    upload(manager, two_cycles())
    confirm(manager, latest_run(kh))
    manager.get(URL + "../export/")  # the user and programme are cached from here on
    with CaptureQueriesContext(connection) as few:
        exported = b"".join(manager.get("/p/KH/assessments/export/").streaming_content)
    text = exported.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Programme,Factory id,Cycle,Visit date,Question key,Answer,Finding,Report final on"
    assert "KH,KH000018,1,2023-03-02,OSH-01,non_compliant,Exit 3 locked.,2023-03-02" in lines
    assert len(lines) == 7
    data = io.BytesIO(exported)
    data.name = "export.csv"
    manager.post(URL, {"spreadsheet": data})
    assert [item["action"] for item in latest_run(kh).plan] == ["unchanged"] * 3
    # Twenty more assessments to export: the same statements.
    more = [FactoryFactory(programme=kh, public_id=f"KH2{n:04d}0") for n in range(20)]
    rows = [["KH", f.public_id, "1", "2023-05-01", key, "C", ""] for f in more for key in ("CL-01", "OSH-01")]
    upload(manager, rows)
    confirm(manager, latest_run(kh))
    manager.get("/p/KH/assessments/")
    with CaptureQueriesContext(connection) as many:
        exported = b"".join(manager.get("/p/KH/assessments/export/").streaming_content)
    assert len(exported.decode("utf-8-sig").splitlines()) == 47
    assert len(few) == len(many) and len(few) > 0, (len(few), len(many))
    client = manager.__class__()
    client.force_login(user_with_role(Role.ADVISOR, kh))
    assert client.get("/p/KH/assessments/export/").status_code == 404


class Told(Progress):
    """What applying a run tells, in order."""

    def __init__(self):
        self.heard = []

    def stage(self, name, total):
        self.heard.append([name, total, 0])

    def advance(self, rows):
        self.heard[-1][2] += rows


def test_applying_tells_each_stage_and_every_row_written(kh, mills, tool, monkeypatch):
    monkeypatch.setattr("assessments.imports.WRITE_BATCH", 2)  # answers written two at a time
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    actor = Principal.for_user(manager)
    importer_told = Told()
    with tenancy.scope({kh.pk}), transaction.atomic():
        importer = HistoryImporter(kh)
        run = import_preview(
            actor=actor,
            programme=kh,
            importer=importer,
            target=kh,
            content=sheet(two_cycles()).getvalue(),
            filename="history.csv",
        )
        importer.progress = importer_told
        assert import_apply(actor=actor, run=run, importer=importer, target=kh).status == "applied"
    assert importer_told.heard == [["checking", 6, 6], ["writing", 6, 6], ["counting", 3, 3]]


def test_the_page_shows_how_far_a_worker_has_come(manager, kh, mills, tool, settings):
    upload(manager, two_cycles())
    run = latest_run(kh)
    with tenancy.scope({kh.pk}), transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.APPLYING)
    # Before the worker begins: no bar, only the notice.
    page = manager.get(f"{URL}?run={run.pk}").content.decode()
    assert "A worker is importing 6 rows" in page and "<progress" not in page
    told = CachedProgress(run.pk)
    told.stage("writing", 30_000)
    told.advance(12_000)
    told._write()
    page = manager.get(f"{URL}?run={run.pk}").content.decode()
    assert "Writing the rows: 12,000 of 30,000" in page
    assert f'<progress id="import-run-{run.pk}-progress" max="30000" value="12000">40 %</progress>' in page
    # Once the run is done, the bar is gone.
    with tenancy.scope({kh.pk}), transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.APPLIED)
    assert "<progress" not in manager.get(f"{URL}?run={run.pk}").content.decode()
    cache.delete(progress_key(run.pk))


def test_a_file_found_too_long_halfway_is_refused_whole(manager, kh, mills, tool, monkeypatch):
    # The rows are copied in a few at a time: the problem shows after some were already copied.
    monkeypatch.setattr("assessments.imports.LOAD_BATCH", 2)
    monkeypatch.setattr(HistoryImporter, "max_rows", 4)
    page = upload(manager, two_cycles()).content.decode()
    assert "This file has more than 4 rows" in page
    run = latest_run(kh)
    assert run.status == ImportRun.Status.REJECTED and finals(kh) == {}
    # The same page, a file in bounds: the rows copied before are gone.
    upload(manager, two_cycles()[:4])
    assert [item["action"] for item in latest_run(kh).plan] == ["create", "create"]


def test_a_cycle_has_one_final_date_and_a_file_of_many_problems_tells_the_first(
    manager, kh, mills, tool, monkeypatch
):
    rows = [
        [*two_cycles()[0], "2023-04-01"],
        [*two_cycles()[1], ""],
        [*two_cycles()[2], "2023-04-02"],
    ]
    page = upload(manager, rows, header=[*HEADER, "Report final on"]).content.decode()
    assert "Row 2 says this factory&#x27;s cycle 1 became final on 2023-04-01." in page
    assert latest_run(kh).errors == [
        {
            "row": 4,
            "column": "Report final on",
            "message": "Row 2 says this factory's cycle 1 became final on 2023-04-01.",
        }
    ]
    monkeypatch.setattr("assessments.imports.MAX_ERRORS", 3)
    monkeypatch.setattr("betterwork.spreadsheets.MAX_ERRORS", 3)
    unknown = [["KH", f"KH99{n:04d}", "1", "2023-03-02", "CL-01", "C", ""] for n in range(7)]
    upload(manager, unknown)
    errors = latest_run(kh).errors
    assert [error["row"] for error in errors] == [2, 3, 4, 0]
    assert errors[-1]["message"] == "… and 4 more errors"


def test_tools_in_force_on_many_visit_dates_take_one_query(kh, tool):
    from assessments import services
    from assessments.lifecycle import tool_for, tools_in_force

    own, _ = services.tool_load(
        data={
            "tool": "KH",
            "version": "2023.6",
            "effective_from": dt.date(2023, 6, 1),
            "questions": [
                {
                    "key": "KH-01",
                    "point": "WT.OVERTIME",
                    "noncompliant_answer": "no",
                    "flags": [],
                    "text": {"en": "Is overtime paid?"},
                }
            ],
        },
        publish=True,
    )
    days = [dt.date(2023, 1, 1) + dt.timedelta(days=n) for n in range(0, 400, 7)] + [dt.date(2019, 1, 1)]
    with tenancy.scope({kh.pk}), transaction.atomic(), CaptureQueriesContext(connection) as queries:
        found = tools_in_force(programme_code="KH", days=days)
    assert len(queries) == 1
    assert found[dt.date(2019, 1, 1)] is None
    # The country's own tool once in force, the global one before.
    assert found[dt.date(2023, 5, 28)] == tool and found[dt.date(2023, 6, 4)] == own
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert all(found[day] == tool_for(programme_code="KH", on=day) for day in days[:-1])
