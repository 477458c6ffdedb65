"""Benchmark: the public transparency list page with the programme's list kept in the cache,
against the same page computing the list on every request, in one run.

Run on the scale data set:
    .venv/bin/python -m benchmarks.transparency_list --database betterwork_scale [--repeat 30]
or on a throwaway database it builds (small; CI runs it so):
    .venv/bin/python -m benchmarks.transparency_list --factories 40 --cycles 3 --questions 30 --repeat 3

A visitor, not signed in, opens the list's first page, then a search. The list is kept as the
platform's workers keep it (``reporting.keep_transparency_lists``); the naive way computes it for
each request (a cache that keeps nothing). The throwaway database is the dashboard benchmark's,
with every tenth question publicly reported and no notice period. Prints p50 / p95 / p99 and the
ratio.
"""

from __future__ import annotations

import argparse
import sys
from unittest import mock

from benchmarks import dashboard
from benchmarks.dashboard import compare, setup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="An existing database (e.g. betterwork_scale).")
    parser.add_argument("--programme", help="Its programme code (default: the first).")
    parser.add_argument("--factories", type=int, default=40)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    return setup(args, build, run)


def build(factories: int, cycles: int, questions: int) -> str:
    from assessments.models import Question
    from betterwork.models import Programme

    code = dashboard.build(factories, cycles, questions)
    Question.objects.filter(key__endswith="0").update(publicly_reported=True)
    Programme.objects.filter(code=code).update(transparency_notice_days=0)
    return code


def run(code: str | None, repeat: int) -> None:
    from django.core.cache.backends.dummy import DummyCache
    from django.db import transaction
    from django.test import Client

    from betterwork.models import Programme
    from reporting import tasks, transparency

    programme = Programme.objects.get(code=code) if code else Programme.objects.order_by("id").first()
    assert programme is not None
    with transaction.atomic():  # rolled back at the end: the run leaves nothing behind
        tasks.keep_transparency_lists([programme.pk])
        with transparency.public_reading(programme):
            entries = transparency.transparency_list(programme=programme)
        named = sum(len(entry.named_issues) for entry in entries)
        print(f"Programme {programme.code}: {len(entries):,} factories listed, {named:,} issues named")
        visitor = Client()
        urls = [f"/public/{programme.code}/transparency/", f"/public/{programme.code}/transparency/?q=1"]

        def pages() -> None:
            for url in urls:
                response = visitor.get(url, secure=True)
                assert response.status_code == 200, response.status_code

        def computed() -> None:
            with mock.patch.object(transparency, "cache", DummyCache("none", {})):
                pages()

        compare(
            "list page and a search, the list kept",
            pages,
            "the same, the list computed each time",
            computed,
            repeat,
        )
        transaction.set_rollback(True)


if __name__ == "__main__":
    sys.exit(main())
