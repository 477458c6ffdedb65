"""Report jobs against real workers and the real Redis: a worker killed mid-render still leaves
exactly one ready job and one file, and twenty people asking at once make one job."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, transaction

from betterwork import tenancy
from betterwork.celery import app as celery_app
from betterwork.permissions import Principal
from betterwork.tasks import SCOPE_KWARG
from reporting import services
from reporting.models import JobStatus, ReportJob
from reporting.tasks import render_report, sweep_stuck_reports
from tests.hosts import Host
from tests.reporting.conftest import report_files

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)
STUCK_AFTER = 2  # seconds before the sweeper takes a job as stalled (120 in production)


def purge() -> None:
    with celery_app.connection_for_write() as conn:
        for queue in ("celery", "pdf"):
            conn.default_channel.queue_purge(queue)


def start_worker(media: Path, host: Host | None = None, concurrency: int = 1) -> subprocess.Popen[bytes]:
    """A report worker on this machine, or on a worker host (tests/hosts.py), where it finds
    PostgreSQL and Redis at the host's gateway address."""
    db = connection.settings_dict
    server = host.gateway if host else (db["HOST"] or "127.0.0.1")
    redis = urlsplit(settings.REDIS_URL)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{server}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis._replace(netloc=f"{server}:{redis.port or 6379}").geturl()
        if host
        else settings.REDIS_URL,
        "TEST_MEDIA_ROOT": str(media),
        "REPORT_STUCK_AFTER_SECONDS": str(STUCK_AFTER),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "betterwork", "worker", "-Q", "pdf,celery",
        "--pool=prefork", f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
        "--loglevel=warning", "-n", f"pdf-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - our own worker command
        host.command(*command) if host else command,
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool's child too
    )  # fmt: skip
    return process


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def job_rows(programme):
    with tenancy.scope({programme.pk}), transaction.atomic():
        return list(ReportJob.objects.order_by("language"))


def one_file_per_job(programme, media: Path, count: int) -> list[ReportJob]:
    """The jobs, after checking that each has exactly one stored file and that it matches its sha256."""
    rows = job_rows(programme)
    files = report_files(media)
    assert len(rows) == count and len(files) == count, files
    for job in rows:
        [stored] = [f for f in files if f.name == Path(job.file.name).name]
        assert job.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    return rows


def wait_for(condition, timeout: float, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def test_a_worker_killed_mid_render_still_gives_one_ready_job_and_one_file(kh, final, media, settings):
    settings.REPORT_STUCK_AFTER_SECONDS = STUCK_AFTER
    # Finalising queued the English and Khmer reports. Their messages are sent anew here, on a
    # queue cleared of anything earlier test runs left behind; a worker starts on the first.
    purge()
    for job in job_rows(kh):
        render_report.apply_async(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]})
    worker = start_worker(media)
    try:
        first = wait_for(
            lambda: next((j for j in job_rows(kh) if j.status == JobStatus.RENDERING), None), timeout=60
        )
        kill(worker)  # in the middle of rendering: no ack, no file, the row says "rendering"
        assert next(j for j in job_rows(kh) if j.pk == first.pk).status == JobStatus.RENDERING
        worker = start_worker(media)
        time.sleep(STUCK_AFTER + 0.5)
        # What beat does every minute: the stalled job is sent again (the broker alone would wait
        # for its visibility timeout, an hour).
        with transaction.atomic():
            resent = sweep_stuck_reports.apply().get()
        assert first.pk in resent
        wait_for(lambda: all(j.status == JobStatus.READY for j in job_rows(kh)), timeout=90, every=0.2)
    finally:
        kill(worker)
    rows = one_file_per_job(kh, media, 2)  # English and Khmer
    killed = next(j for j in rows if j.pk == first.pk)
    assert killed.attempts == 2  # the killed attempt, then the one that finished


def test_twenty_requests_at_once_make_one_job(kh, team, final):
    purge()
    with tenancy.scope({kh.pk}), transaction.atomic():
        ReportJob.objects.all().delete()  # forget the jobs made on finalisation
    actor = Principal.for_user(team["leader"])
    barrier = threading.Barrier(20)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            barrier.wait()
            with tenancy.scope({kh.pk}), transaction.atomic():
                job, sent = services.report_request(
                    actor=actor, kind_name="assessment", target_id=final.pk, language="en"
                )
            results.append((job.pk, sent))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    purge()
    assert not errors, errors
    assert len(results) == 20
    assert len({pk for pk, _ in results}) == 1
    assert sum(sent for _, sent in results) == 1  # enqueued once
    assert len(job_rows(kh)) == 1
