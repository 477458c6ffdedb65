"""A real Celery worker, on the real Redis and the test database, runs tasks in their sender's scope."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.db import connection, transaction

from betterwork import health, tenancy
from betterwork.celery import app as celery_app
from betterwork.models import AuditEvent
from betterwork.tasks import enqueue_on_commit, scope_probe

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    # One worker for the module: starting one costs a few seconds.
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    celery_app.control.purge()
    process = subprocess.Popen(  # noqa: S603 - our own worker command
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "betterwork",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=warning",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not celery_app.control.ping(timeout=0.5):
        assert process.poll() is None, process.stdout.read().decode()
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_worker_runs_a_task_in_the_scope_it_was_sent_with(kh, vn, kh_factory, vn_factory, worker):
    for programme in (kh, vn):
        with tenancy.scope({programme.pk}), transaction.atomic():
            AuditEvent(programme=programme, action="seen", object_type="x", object_id="1").save()
    with tenancy.scope({kh.pk}), transaction.atomic():
        task_id = enqueue_on_commit(scope_probe)
        assert scope_probe.AsyncResult(task_id).state == "PENDING", "nothing is sent before the commit"
    result = scope_probe.AsyncResult(task_id).get(timeout=30)
    assert result == {"scope": [kh.pk], "visible_audit_programmes": [kh.pk]}


def test_worker_refuses_a_task_without_a_scope(worker):
    async_result = scope_probe.apply_async()
    with pytest.raises(tenancy.ScopeMissing):
        async_result.get(timeout=30)


def test_healthz_reports_the_running_worker(client, worker):
    health._worker_cache.update(at=0.0, value=None)
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["worker"]["count"] >= 1


def test_delivery_settings():
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.worker_prefetch_multiplier == 1
    with pytest.raises(CeleryTimeout):
        scope_probe.AsyncResult("never-sent").get(timeout=0.1)
