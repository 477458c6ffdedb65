"""Faults, against the real PostgreSQL and Redis: a Redis restarted while reports wait or render
loses their messages and the sweeper sends them again, each report then made exactly once; a
database connection dropped in the middle of a save answers "try again" and leaves nothing
half-written; two advisors saving one answer a thousand times never overwrite each other
unseen; and uploads of the wrong type, of a huge size or with malicious names are refused or
stored under a safe name, never outside the media folder and never shown unescaped."""

from __future__ import annotations

import io
import re
import socket
import struct
import subprocess
import threading
import time
import zlib
from pathlib import Path

import kombu.pools
import psycopg2
import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from advisory import services as advisory_services
from advisory.models import PlanItemEvidence
from assessments.attachments import MAX_BYTES as evidence_limit
from assessments.forms import TOOL_FILE_MAX_BYTES
from assessments.imports import MAX_BYTES as history_limit
from assessments.models import Answer, Attachment, ToolVersion
from betterwork import spreadsheets, tenancy
from betterwork.celery import app as celery_app
from betterwork.models import AuditEvent, Role
from reporting.models import JobStatus
from reporting.tasks import sweep_stuck_reports
from tests.assessments.test_lifecycle import move
from tests.model_factories import user_with_role
from tests.reporting.test_workers import STUCK_AFTER, job_rows, kill, one_file_per_job, start_worker, wait_for
from tests.training.conftest import run

TRY_AGAIN = "The database could not be reached; nothing was saved. Please try again."


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def questions_of(kh, assessment) -> dict[str, int]:
    with tenancy.scope({kh.pk}), transaction.atomic():
        return dict(assessment.tool_version.questions.values_list("key", "pk"))


def answers_of(kh, assessment) -> dict[int, tuple[str, str, int]]:
    with tenancy.scope({kh.pk}), transaction.atomic():
        return {
            a.question_id: (a.value, a.finding, a.version)
            for a in Answer.objects.filter(assessment=assessment)
        }


def saves_audited(kh, assessment) -> list[AuditEvent]:
    with tenancy.scope({kh.pk}), transaction.atomic():
        return list(
            AuditEvent.objects.filter(action="answers.save", object_id=str(assessment.pk)).order_by("id")
        )


# --- Redis restarted while reports wait and render ----------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BROKER_DB = 15  # tests/settings.py puts Celery messages in this database of REDIS_URL's server


class PrivateRedis:
    """A Redis server of the test's own, without persistence like a broker that lost its disk:
    the test restarts it at will, never the Redis others use."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603 - the Debian package's server
            [
                "/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(self._answers, timeout=10)
        except AssertionError:
            process.kill()
            process.wait(timeout=10)
            raise
        return process

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=BROKER_DB, socket_connect_timeout=0.5)

    def waiting(self, queue: str) -> int:
        return int(self.client().llen(queue))

    def restart(self) -> None:
        """Killed, then a new and empty server on the same port."""
        self.stop()
        self.process = self._start()
        _forget_broker_connections()  # the test's own, to the old server

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def _forget_broker_connections() -> None:
    """The test's next message opens a new connection, to the broker now configured."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_redis(settings, tmp_path):
    """Celery messages of the test, of its worker and of the sweeper go to a Redis of its own.
    Asked for before any fixture that enqueues, so that nothing reaches the shared one."""
    server = PrivateRedis(tmp_path)
    settings.REDIS_URL = f"redis://127.0.0.1:{server.port}/0"  # what the worker is started with
    broker_url = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{server.port}/{BROKER_DB}"
    _forget_broker_connections()
    try:
        yield server
    finally:
        server.stop()
        celery_app.conf.broker_url = broker_url
        _forget_broker_connections()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_reports_lost_in_a_redis_restart_are_sent_again_by_the_sweeper_and_made_once(
    private_redis, kh, final, media, settings
):
    settings.REPORT_STUCK_AFTER_SECONDS = STUCK_AFTER
    # Finalising sent the English and Khmer reports; no worker has taken them yet.
    assert private_redis.waiting("pdf") == 2
    worker = start_worker(media)
    try:
        first = wait_for(
            lambda: next((j for j in job_rows(kh) if j.status == JobStatus.RENDERING), None), timeout=60
        )
        # While the worker renders one report, the other one's message waits in Redis; then Redis
        # restarts without persistence: the waiting message is gone, and so is the unacknowledged one.
        assert private_redis.waiting("pdf") == 1
        private_redis.restart()
        assert next(j for j in job_rows(kh) if j.pk == first.pk).status == JobStatus.RENDERING
        assert private_redis.waiting("pdf") == 0
        # The worker reconnects; the report it was rendering still ends ready (its work needs no
        # Redis), the other one waits for a message that no longer exists.
        wait_for(lambda: celery_app.control.ping(timeout=0.5), timeout=60)
        wait_for(
            lambda: next(j for j in job_rows(kh) if j.pk == first.pk).status == JobStatus.READY, timeout=60
        )
        time.sleep(STUCK_AFTER + 1)
        [lost] = [j for j in job_rows(kh) if j.pk != first.pk]
        assert lost.status == JobStatus.QUEUED and lost.attempts == 0
        # What beat does every minute.
        with transaction.atomic():
            resent = sweep_stuck_reports.apply().get()
        assert resent == [lost.pk]
        wait_for(lambda: all(j.status == JobStatus.READY for j in job_rows(kh)), timeout=90, every=0.2)
    finally:
        kill(worker)
    rows = one_file_per_job(kh, media, 2)  # English and Khmer
    assert [job.attempts for job in rows] == [1, 1]  # each rendered once: nothing ran twice
    with transaction.atomic():
        assert sweep_stuck_reports.apply().get() == []  # and nothing is left to send


# --- The database connection dropped during a request ----------------------------------------


def drop_connection_after_first(statement: str):
    """An execute wrapper: once the first statement starting with ``statement`` has run, the
    database ends this connection (as a restart or a failover would), so the next one fails."""
    done = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not done and sql.startswith(statement):
            done.append(sql)
            pid = context["connection"].connection.get_backend_pid()
            db = connection.settings_dict
            admin = psycopg2.connect(
                host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user="postgres", dbname="postgres"
            )
            try:
                admin.autocommit = True
                with admin.cursor() as cursor:
                    # Waits until that backend has gone: the request's next statement surely fails.
                    cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
            finally:
                admin.close()
        return result

    wrapper.done = done  # type: ignore[attr-defined]
    return wrapper


@pytest.fixture
def answering(kh, team, planned):
    """The assessment in progress, one of its answers saved already."""
    move(team["lead"], kh, planned, "in_progress")
    keys = questions_of(kh, planned)
    saved = api(team["lead"]).post(
        f"/api/v1/p/KH/assessments/{planned.pk}/answers/",
        {"answers": [{"question": keys["WT-01"], "value": "C", "version": 0}]},
        format="json",
    )
    assert saved.status_code == 200
    return keys


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_save_through_the_api_answers_503_and_saves_nothing(
    kh, team, planned, answering
):
    before = answers_of(kh, planned)
    assert list(before.values()) == [("C", "", 1)] and len(saves_audited(kh, planned)) == 1
    drop = drop_connection_after_first('INSERT INTO "assessments_answer"')
    with connection.execute_wrapper(drop):
        response = api(team["lead"]).post(
            f"/api/v1/p/KH/assessments/{planned.pk}/answers/",
            {
                "answers": [
                    {"question": answering["CL-01"], "value": "C", "version": 0},
                    {"question": answering["OSH-01"], "value": "NC", "finding": "Exit locked.", "version": 0},
                    {"question": answering["WT-01"], "value": "NA", "version": 1},
                ]
            },
            format="json",
        )
    assert drop.done, "the new answers were written before the connection dropped"
    assert response.status_code == 503
    assert response.json() == {"detail": TRY_AGAIN}
    assert response["Retry-After"]
    # The new answers inserted before the drop are gone, the changed one is as it was, no audit row.
    assert answers_of(kh, planned) == before
    assert len(saves_audited(kh, planned)) == 1
    # The next try, on a new connection, saves everything.
    again = api(team["lead"]).post(
        f"/api/v1/p/KH/assessments/{planned.pk}/answers/",
        {"answers": [{"question": answering["CL-01"], "value": "C", "version": 0}]},
        format="json",
    )
    assert again.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_save_on_the_page_shows_try_again_not_an_error_page(
    client, kh, team, planned, answering
):
    client.force_login(team["lead"])
    question = answering["OSH-01"]
    payload = {
        f"q{question}-question": question,
        f"q{question}-version": 0,
        f"q{question}-value": "NC",
        f"q{question}-finding": "Exit <b>locked</b>.",
    }
    drop = drop_connection_after_first('INSERT INTO "assessments_answer"')
    with connection.execute_wrapper(drop):
        response = client.post(
            f"/p/KH/assessments/{planned.pk}/answers/{question}/", payload, HTTP_HX_REQUEST="true"
        )
    assert drop.done
    assert response.status_code == 503
    page = response.content.decode()
    assert TRY_AGAIN in page and "Traceback" not in page
    assert question not in answers_of(kh, planned)
    assert len(saves_audited(kh, planned)) == 1  # the fixture's save only


# --- Two advisors saving the same answer a thousand times at once -----------------------------

SAVES = 1_000


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_thousand_saves_of_one_answer_by_two_advisors_at_once_never_overwrite_unseen(kh, team, planned):
    move(team["lead"], kh, planned, "in_progress")
    question = questions_of(kh, planned)["OSH-01"]
    path = f"/api/v1/p/KH/assessments/{planned.pk}/answers/"
    barrier = threading.Barrier(2)
    # (finding written, version it was made on, version it became); refusals as (None, sent, seen).
    outcomes: dict[str, list[tuple[str | None, int, int]]] = {"lead": [], "second": []}
    errors: list[BaseException] = []

    def advisor(who: str) -> None:
        client, seen = api(team[who]), 0
        try:
            barrier.wait()
            for n in range(SAVES // 2):
                finding = f"{who} {n}"
                body = {
                    "answers": [{"question": question, "value": "NC", "finding": finding, "version": seen}]
                }
                response = client.post(path, body, format="json")
                if response.status_code == 200:
                    [saved] = response.json()
                    outcomes[who].append((finding, seen, saved["version"]))
                    seen = saved["version"]
                else:
                    # Refused as stale: like the page, the advisor now sees the colleague's answer.
                    assert response.status_code == 409, (response.status_code, response.content)
                    [theirs] = response.json()["conflicts"]
                    outcomes[who].append((None, seen, theirs["version"]))
                    seen = theirs["version"]
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=advisor, args=(who,)) for who in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    every = outcomes["lead"] + outcomes["second"]
    assert len(every) == SAVES
    saved = sorted((o for o in every if o[0] is not None), key=lambda o: o[2])
    refused = [o for o in every if o[0] is None]
    assert refused, "the two advisors never raced: nothing was tested"
    [(value, finding, version)] = answers_of(kh, planned).values()
    assert len(saved) == version
    assert (value, finding) == ("NC", saved[-1][0])
    # Each save was made on the version the previous one left: none replaced an answer unseen.
    assert [(sent, became) for _, sent, became in saved] == [(v, v + 1) for v in range(version)]
    # Each refused save was made on a version someone had already moved on from.
    assert all(seen_then < now for _, seen_then, now in refused)
    # The trail has every save, in order, each one's "before" the previous one's "after".
    trail = [event.after["OSH-01"] for event in saves_audited(kh, planned)]
    assert trail == [{"value": "NC", "finding": f, "version": became} for f, _, became in saved]
    befores = [event.before for event in saves_audited(kh, planned)]
    assert befores[0] is None
    assert [b["OSH-01"]["finding"] for b in befores[1:]] == [f for f, _, _ in saved[:-1]]


# --- Uploads of the wrong type, of a huge size, with malicious names ---------------------------

BOUNDARY = "BetterworkFaultTestBoundary7MA4YWxk"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
SAFE_NAME = re.compile(r"^[-\w.]{1,200}$")


def multipart(fields: dict[str, object], filename: str, content: bytes, content_type: str, file_field="file"):
    """A form post as anyone may send it, with the file name exactly as given (the test client
    would take the folders off the name itself)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="'.encode()
        + filename.encode()
        + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="JPEG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="GIF")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header says it unpacks to width × height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


NOT_EVIDENCE = {
    "a web page named as a photo": ("exit.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg", "Only photos"),
    "a program named as a PDF": ("payroll.pdf", b"MZ\x90\x00\x03\x00\x00\x00PE\x00\x00", "application/pdf", "Only photos"),
    "a drawing with a script named as a photo": (
        "exit.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image/png",
        "Only photos",
    ),
    "a photo of a type not taken": ("exit.gif", gif(), "image/gif", "Only photos"),
    "a few bytes that unpack to gigabytes": ("exit.png", png_claiming(30_000, 30_000), "image/png", "too many pixels"),
}  # fmt: skip

MALICIOUS_NAMES = [
    "../../etc/passwd.jpg",
    "..\\..\\windows\\system.ini.jpg",
    "exit\x00.php.jpg",
    "<img src=x onerror=alert(1)>.jpg",
    "CON.jpg",
    "aux",
    "a" * 300 + ".jpg",
    "***",
]


def stored_files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def assert_safe(name: str, given: str) -> None:
    assert SAFE_NAME.match(name), name  # no folders, markup, control characters; at most 200
    if given.endswith(".jpg"):
        assert name.endswith(".jpg"), name  # a long name keeps its extension


@pytest.fixture
def in_progress(kh, team, planned, media):
    move(team["lead"], kh, planned, "in_progress")
    return planned


@pytest.fixture
def plan_item(kh, kh_factory, team, final, media):
    """An item of the factory's improvement plan, and the factory's HR manager who adds evidence."""
    hr = user_with_role(Role.FACTORY, kh, factory=kh_factory)
    plan = run(team["lead"], kh, advisory_services.plan_start, factory=final.factory, assessment=final)
    item = run(hr, kh, advisory_services.item_add, plan=plan, data={"finding": "No drinking water"})
    return item, hr


def evidence_of(kh, item) -> list[PlanItemEvidence]:
    with tenancy.scope({kh.pk}), transaction.atomic():
        return list(PlanItemEvidence.objects.filter(item=item).order_by("pk"))


def attachments_of(kh, assessment) -> list[Attachment]:
    with tenancy.scope({kh.pk}), transaction.atomic():
        return list(Attachment.objects.filter(assessment=assessment).order_by("pk"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"), NOT_EVIDENCE.values(), ids=NOT_EVIDENCE
)
def test_evidence_that_is_not_a_photo_or_a_pdf_is_refused_whatever_its_name_says(
    client, kh, team, in_progress, media, name, content, content_type, message
):
    client.force_login(team["lead"])
    page = client.post(
        f"/p/KH/assessments/{in_progress.pk}/attachments/",
        multipart({"cluster": "OSH"}, name, content, content_type),
        content_type=MULTIPART,
        follow=True,
    )
    assert page.status_code == 200 and message in page.content.decode()
    through_api = api(team["lead"]).post(
        f"/api/v1/p/KH/assessments/{in_progress.pk}/attachments/",
        multipart({}, name, content, content_type),
        content_type=MULTIPART,
    )
    assert through_api.status_code == 400 and message in str(through_api.json())
    assert attachments_of(kh, in_progress) == [] and stored_files(media) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"), NOT_EVIDENCE.values(), ids=NOT_EVIDENCE
)
def test_plan_evidence_that_is_not_a_photo_or_a_pdf_is_refused(
    client, kh, plan_item, media, name, content, content_type, message
):
    item, hr = plan_item
    client.force_login(hr)
    page = client.post(
        f"/p/KH/advisory/items/{item.pk}/evidence/",
        multipart({}, name, content, content_type),
        content_type=MULTIPART,
        follow=True,
    )
    assert page.status_code == 200 and message in page.content.decode()
    assert evidence_of(kh, item) == [] and stored_files(media) == []


@pytest.mark.django_db
def test_malicious_file_names_of_evidence_are_made_safe_and_the_files_stored_under_new_names(
    client, kh, team, in_progress, media
):
    client.force_login(team["lead"])
    for name in MALICIOUS_NAMES:
        response = client.post(
            f"/p/KH/assessments/{in_progress.pk}/attachments/",
            multipart({"cluster": "OSH"}, name, jpeg(), "image/jpeg"),
            content_type=MULTIPART,
        )
        assert response.status_code == 302, (name, response.status_code)
    through_api = api(team["lead"]).post(
        f"/api/v1/p/KH/assessments/{in_progress.pk}/attachments/",
        multipart({}, "../../<b>evidence.jpg", jpeg(), "image/jpeg"),
        content_type=MULTIPART,
    )
    assert through_api.status_code == 201 and through_api.json()["original_name"] == "bevidence.jpg"
    stored = attachments_of(kh, in_progress)
    names = [a.original_name for a in stored]
    assert len(names) == len(MALICIOUS_NAMES) + 1
    for name, given in zip(names[:-1], MALICIOUS_NAMES, strict=True):
        assert_safe(name, given)
    assert names[0] == "passwd.jpg" and names[-2] == "evidence"  # nothing of "***" could stay
    # Whatever the name, the file lies under the media folder with a new name of the platform's.
    pattern = re.compile(rf"^assessments/{kh.pk}/{in_progress.pk}/[0-9a-f]{{32}}\.jpg$")
    assert all(pattern.match(path) for path in stored_files(media)), stored_files(media)
    assert len(stored_files(media)) == len(stored)
    assert all(Path(a.file.path).resolve().is_relative_to(media.resolve()) for a in stored)
    page = client.get(f"/p/KH/assessments/{in_progress.pk}/clusters/OSH/").content.decode()
    assert "<img src=x" not in page and "<b>evidence" not in page


@pytest.mark.django_db
def test_malicious_file_names_of_plan_evidence_are_made_safe_and_the_files_stored_under_new_names(
    client, kh, plan_item, media
):
    item, hr = plan_item
    client.force_login(hr)
    for name in MALICIOUS_NAMES:
        response = client.post(
            f"/p/KH/advisory/items/{item.pk}/evidence/",
            multipart({}, name, jpeg(), "image/jpeg"),
            content_type=MULTIPART,
        )
        assert response.status_code == 302, (name, response.status_code)
    stored = evidence_of(kh, item)
    assert len(stored) == len(MALICIOUS_NAMES)
    for evidence, given in zip(stored, MALICIOUS_NAMES, strict=True):
        assert_safe(evidence.original_name, given)
    pattern = re.compile(rf"^advisory/{kh.pk}/{item.plan_id}/[0-9a-f]{{32}}\.jpg$")
    assert all(pattern.match(path) for path in stored_files(media)), stored_files(media)
    page = client.get(f"/p/KH/advisory/items/{item.pk}/").content.decode()
    assert "<img src=x" not in page


DISGUISED = b"%PDF-1.7\n<html><script>alert(1)</script></html>\n%%EOF\n"


def assert_served_as_a_pdf_download(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"  # the browser may not guess another type
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.django_db
def test_plan_evidence_gets_the_extension_of_what_it_is_and_is_never_served_as_a_page(
    client, kh, plan_item, media
):
    """A file that starts like a PDF but holds a web page, named .html: stored as a .pdf, and
    downloaded as a PDF: no script of it ever runs in the browser."""
    item, hr = plan_item
    client.force_login(hr)
    client.post(
        f"/p/KH/advisory/items/{item.pk}/evidence/",
        multipart({}, "report.html", DISGUISED, "text/html"),
        content_type=MULTIPART,
    )
    [evidence] = evidence_of(kh, item)
    assert evidence.content_type == "application/pdf" and evidence.file.name.endswith(".pdf")
    assert_served_as_a_pdf_download(client.get(f"/p/KH/advisory/items/{item.pk}/evidence/{evidence.pk}/"))


@pytest.mark.django_db
def test_assessment_evidence_gets_the_extension_of_what_it_is_and_is_never_served_as_a_page(
    client, kh, team, in_progress, media
):
    client.force_login(team["lead"])
    client.post(
        f"/p/KH/assessments/{in_progress.pk}/attachments/",
        multipart({"cluster": "OSH"}, "payroll.html", DISGUISED, "text/html"),
        content_type=MULTIPART,
    )
    [attachment] = attachments_of(kh, in_progress)
    assert attachment.content_type == "application/pdf" and attachment.file.name.endswith(".pdf")
    assert_served_as_a_pdf_download(
        client.get(f"/p/KH/assessments/{in_progress.pk}/attachments/{attachment.pk}/")
    )


@pytest.mark.django_db
def test_a_spreadsheet_with_a_malicious_name_is_shown_escaped_and_stored_under_a_new_name(client, kh, media):
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    rows = "Name,Address,Female workers,Male workers\nAngkor Garments,12 Street 5,800,200\n"
    response = client.post(
        "/p/KH/factories/import/",
        multipart({}, "..\\..\\<img src=x onerror=alert(1)>.csv", rows.encode(), "text/csv", "spreadsheet"),
        content_type=MULTIPART,
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page
    assert re.match(rf"^imports/{kh.pk}/[0-9a-f]{{32}}\.csv$", stored_files(media)[0]), stored_files(media)


@pytest.mark.django_db
def test_a_tool_file_of_aliases_that_unpack_to_billions_of_values_is_refused(client, tool, media):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 12)]
    bomb = "\n".join([*lines, "tool: *a11", "version: *a11", "title: *a11", "questions: *a11"]).encode()
    assert len(bomb) < 2_000  # 9¹² values in two kilobytes
    client.force_login(user_with_role(Role.GLOBAL))
    response = client.post("/tool/", {"file": SimpleUploadedFile("tool.yaml", bomb)})
    assert response.status_code == 422 and "aliases (*name) are not allowed" in response.content.decode()
    assert list(ToolVersion.objects.values_list("version", flat=True)) == ["2026.1"]


class EndlessBody:
    """A request body of whatever size it claims, made only as it is read; counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        size = 1024 * 1024 if size is None or size < 0 else size
        self.read_bytes += size
        return b"0" * size

    def readline(self, size: int = -1) -> bytes:
        return self.read(1024 if size is None or size < 0 else min(size, 1024))


def huge_post(client, path: str, **extra):
    body = EndlessBody()
    response = client.generic(
        "POST",
        path,
        CONTENT_LENGTH=str(4 * 1024**3),
        CONTENT_TYPE=MULTIPART,
        **{"wsgi.input": body},
        **extra,
    )
    return response, body


@pytest.mark.django_db
def test_a_body_larger_than_any_upload_is_refused_before_anything_reads_it(
    client, settings, kh, team, in_progress, media
):
    # Above every form's own limit, so that those give their own message first.
    assert (
        max(evidence_limit, spreadsheets.MAX_BYTES, TOOL_FILE_MAX_BYTES, history_limit)
        < settings.UPLOAD_MAX_REQUEST_BYTES
    )
    response, body = huge_post(client, "/accounts/login/")  # nobody signed in yet
    assert response.status_code == 413 and body.read_bytes == 0
    assert "This upload is too large" in response.content.decode()
    client.force_login(team["lead"])
    for path in (f"/p/KH/assessments/{in_progress.pk}/attachments/", "/p/KH/factories/import/", "/tool/"):
        response, body = huge_post(client, path)
        assert response.status_code == 413 and body.read_bytes == 0, path
    response, body = huge_post(api(team["lead"]), f"/api/v1/p/KH/assessments/{in_progress.pk}/attachments/")
    assert response.status_code == 413 and body.read_bytes == 0
    assert response.json() == {"detail": "This upload is too large. Go back and choose a smaller file."}
    assert attachments_of(kh, in_progress) == [] and stored_files(media) == []
    # Text fields have their own bound (Django's DATA_UPLOAD_MAX_MEMORY_SIZE, left at its default).
    question = questions_of(kh, in_progress)["OSH-01"]
    long_finding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        f"/p/KH/assessments/{in_progress.pk}/answers/{question}/",
        {f"q{question}-question": question, f"q{question}-version": 0, f"q{question}-finding": long_finding},
    )
    assert response.status_code == 400 and answers_of(kh, in_progress) == {}


@pytest.mark.django_db
def test_a_file_just_over_each_limit_gets_that_forms_own_message(client, kh, plan_item, media):
    item, hr = plan_item
    client.force_login(hr)
    too_big = b"%PDF-" + b"0" * evidence_limit
    page = client.post(
        f"/p/KH/advisory/items/{item.pk}/evidence/",
        multipart({}, "scan.pdf", too_big, "application/pdf"),
        content_type=MULTIPART,
        follow=True,
    )
    assert "at most 10 MB" in page.content.decode() and evidence_of(kh, item) == []
    client.force_login(user_with_role(Role.GLOBAL))
    tool_file = b"tool: global\n" + b"#" * TOOL_FILE_MAX_BYTES
    response = client.post("/tool/", {"file": SimpleUploadedFile("tool.yaml", tool_file)})
    assert response.status_code == 422 and "larger than 2 MB" in response.content.decode()
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    sheet = b"Name\n" + b"A\n" * (spreadsheets.MAX_BYTES // 2)
    response = client.post("/p/KH/factories/import/", {"spreadsheet": SimpleUploadedFile("list.csv", sheet)})
    assert "larger than 5 MB" in response.content.decode()
    assert stored_files(media) == []
