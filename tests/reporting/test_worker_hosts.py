"""Report workers on two hosts of their own (network namespaces, tests/hosts.py), both taking
from the `pdf` queue and reaching PostgreSQL and Redis only through their hosts' addresses: one
host dies in the middle of a render, and every report still completes, exactly once, on the other.

Two hosts on a machine of two cores show failover, not speed: they share the same processors."""

from __future__ import annotations

import subprocess
import time

import pytest
from django.db import transaction

from betterwork.tasks import SCOPE_KWARG
from reporting.models import JobStatus
from reporting.tasks import render_report, sweep_stuck_reports
from tests.hosts import worker_hosts
from tests.reporting.test_workers import (
    STUCK_AFTER,
    job_rows,
    kill,
    one_file_per_job,
    purge,
    start_worker,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def hosts():
    with worker_hosts(2) as made:
        yield made
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout  # noqa: S607
    assert not any(host.namespace in namespaces for host in made), "every namespace is gone"


def test_a_worker_host_dying_mid_render_leaves_every_report_done_once(kh, final, media, settings, hosts):
    settings.REPORT_STUCK_AFTER_SECONDS = STUCK_AFTER
    purge()
    for job in job_rows(kh):
        render_report.apply_async(args=[job.pk], kwargs={SCOPE_KWARG: [kh.pk]})
    doomed_host, other_host = hosts
    doomed = start_worker(media, doomed_host)
    survivor = None
    try:
        first = wait_for(
            lambda: next((j for j in job_rows(kh) if j.status == JobStatus.RENDERING), None), timeout=90
        )
        survivor = start_worker(media, other_host)
        kill(doomed)  # the host dies while rendering: no ack, no file, the row says "rendering"
        time.sleep(STUCK_AFTER + 0.5)
        with transaction.atomic():
            resent = sweep_stuck_reports.apply().get()  # what beat does every minute
        assert first.pk in resent
        wait_for(lambda: all(j.status == JobStatus.READY for j in job_rows(kh)), timeout=120, every=0.2)
    finally:
        if doomed.poll() is None:
            kill(doomed)
        if survivor is not None:
            kill(survivor)
    rows = one_file_per_job(kh, media, 2)  # English and Khmer
    assert next(j for j in rows if j.pk == first.pk).attempts == 2  # the host that died, then the other
