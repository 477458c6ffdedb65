"""Benchmark: reports per hour with report workers on one host, then on two (network namespaces,
tests/hosts.py), each host running the compose file's worker (2 processes), in the same run.

Run (as root, for the namespaces):
  .venv/bin/python -m benchmarks.worker_hosts [--reports 24] [--findings 20] [--concurrency 2]
It builds a throwaway test database with a final assessment (benchmarks.report_render), queues
that many report jobs on the `pdf` queue, starts the workers on the hosts (they reach PostgreSQL
and Redis only through their hosts' addresses) and times until every job is ready. On a machine
of two cores, two hosts share the same two cores: the figure shows the hosts work together and
that a second host costs nothing, not a speed-up; on real hosts, each brings its own processors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.report_render import on_throwaway_database, report_jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=24)
    parser.add_argument("--findings", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes on each host")
    args = parser.parse_args(argv)

    on_throwaway_database(lambda media: run(args.reports, args.findings, args.concurrency, media))
    return 0


def queue_jobs(programme: Any, assessment: Any, count: int, label: str) -> list[int]:
    from betterwork.tasks import SCOPE_KWARG
    from reporting.tasks import render_report

    jobs = report_jobs(programme, assessment, count, label)
    for job in jobs:
        render_report.apply_async(args=[job], kwargs={SCOPE_KWARG: [programme.pk]})
    return jobs


def ready_count(programme: Any, jobs: list[int]) -> int:
    from django.db import transaction

    from betterwork import tenancy
    from reporting.models import ReportJob

    with tenancy.scope({programme.pk}), transaction.atomic():
        return ReportJob.objects.filter(pk__in=jobs, status="ready").count()


def run(reports: int, findings: int, concurrency: int, media: Path) -> None:
    from benchmarks.report_render import build, render_once
    from tests.hosts import worker_hosts
    from tests.reporting.test_workers import kill, purge, start_worker

    programme, assessment = build(findings)["en"]
    pages = render_once(programme, assessment.pk, "en")
    print(f"Assessment report, {findings} findings, {pages} pages; {reports} reports a run, ")
    print(f"each host running a worker of {concurrency} processes (os.cpu_count() = {os.cpu_count()})")
    purge()
    rates = {}
    with worker_hosts(2) as hosts:
        for count in (1, 2):
            workers = [start_worker(media, host, concurrency) for host in hosts[:count]]
            try:
                time.sleep(3)  # the workers connect and wait on the queue before the clock starts
                start = time.perf_counter()
                jobs = queue_jobs(programme, assessment, reports, f"{count}h")
                while ready_count(programme, jobs) < reports:
                    if time.perf_counter() - start > 600:
                        raise RuntimeError("the reports did not finish within 10 minutes")
                    time.sleep(0.2)
                elapsed = time.perf_counter() - start
            finally:
                for worker in workers:
                    kill(worker)
            rates[count] = reports / elapsed * 3600
            print(f"{count} worker host{'s' if count > 1 else ' '}: {reports} reports in {elapsed:6.1f} s, "
                  f"{rates[count]:6.0f} reports/h")  # fmt: skip
    print(f"2 hosts against 1: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
