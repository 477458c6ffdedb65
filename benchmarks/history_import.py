"""Benchmark: importing a file of historical assessments (one row per answer) through the import
(check, plan, write in bulk, count in the figures), against the naive way (each answer saved on
its own, as a form would), in one run.

    .venv/bin/python -m benchmarks.history_import --factories 400 --questions 250   (100,000 answers)
    .venv/bin/python -m benchmarks.history_import --factories 8 --questions 12      (CI's size)

On a throwaway database: a programme of ``--factories`` factories and a tool of ``--questions``
questions; the file answers every question for every factory's first cycle (15% non-compliant,
with a finding). Prints the time of each step, the answers per second, the growth of the resident
memory at its peak (sampled while the import runs), then, untimed, the peak of the memory Python
objects took for a file of a quarter of the factories and for the full file again (cycles 2 and
3): flat memory is the same peak for four times the rows. Last, the ratio against saving
``--naive`` answers one by one.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import sys
import threading
import time
import tracemalloc

from benchmarks import dashboard
from benchmarks.dashboard import setup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factories", type=int, default=400)
    parser.add_argument("--questions", type=int, default=250)
    parser.add_argument("--naive", type=int, default=2000, help="answers saved one by one for the ratio")
    parser.add_argument("--cycles", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--programme", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.database = None  # always a throwaway database: the import writes
    naive = args.naive
    return setup(args, dashboard.build, lambda code, _repeat: run(code, naive))


def history_file(programme_code: str, factories: list[str], keys: list[str], cycle: int) -> bytes:
    rng = random.Random(2026)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Programme", "Factory id", "Cycle", "Visit date", "Question key", "Answer", "Finding"])
    for n, public_id in enumerate(factories):
        visit = f"{2022 + cycle}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        for key in keys:
            if rng.random() < 0.15:
                writer.writerow(
                    [programme_code, public_id, cycle, visit, key, "non_compliant", f"Finding on {key}."]
                )
            else:
                writer.writerow([programme_code, public_id, cycle, visit, key, "compliant", ""])
    return out.getvalue().encode()


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class PeakMemory:
    """The most resident memory the process held above what it held on entering, sampled every
    10 ms by a thread (the process's lifetime peak would hide an import behind the set-up's)."""

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = resident_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            self.peak = max(self.peak, resident_bytes())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, resident_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def run(code: str, naive_answers: int) -> None:
    from django.db import transaction

    from assessments.imports import HistoryImporter
    from assessments.models import Answer, Assessment, Question
    from betterwork import tenancy
    from betterwork.import_command import LARGER
    from betterwork.imports import import_apply, import_preview
    from betterwork.models import Programme, Role, RoleGrant, User
    from betterwork.permissions import Principal
    from factories.models import Factory

    programme = Programme.objects.get(code=code)
    manager = User.objects.create_user(f"bench-import-{code.lower()}@bench.example", "pass")
    RoleGrant.objects.create(user=manager, role=Role.PROGRAMME_MANAGER, programme=programme)
    actor = Principal.for_user(manager)
    with tenancy.scope({programme.pk}), transaction.atomic():
        factories = list(Factory.objects.filter(programme=programme).order_by("pk"))
    questions = list(Question.objects.filter(version__version="bench").order_by("order", "pk"))
    keys = [q.key for q in questions]
    public_ids = [f.public_id for f in factories]
    quarter_ids = public_ids[: max(1, len(public_ids) // 4)]
    answers = len(factories) * len(questions)
    small = len(quarter_ids) * len(questions)

    def imported(content: bytes) -> tuple[float, float, int]:
        """Check and plan, then write: their times and the growth of the resident memory at its
        peak (bytes)."""
        importer = HistoryImporter(programme)
        importer.max_bytes *= LARGER  # as the command takes it
        importer.max_rows *= LARGER
        with tenancy.scope({programme.pk}), PeakMemory() as memory:
            started = time.perf_counter()
            run = import_preview(
                actor=actor,
                programme=programme,
                importer=importer,
                target=programme,
                content=io.BytesIO(content),
                filename="h.csv",
            )
            checked = time.perf_counter() - started
            assert not run.errors, run.errors[:3]
            started = time.perf_counter()
            run = import_apply(actor=actor, run=run, importer=importer, target=programme)
            written = time.perf_counter() - started
        assert run.status == "applied", run.errors[:3]
        return checked, written, memory.growth

    def traced(content: bytes) -> int:
        """The most memory Python objects took during an import (tracemalloc; slower, untimed)."""
        tracemalloc.start()
        try:
            imported(content)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    content = history_file(code, public_ids, keys, cycle=1)
    print(
        f"Programme {code}: a file of {answers:,} answers ({len(content) / 1e6:.1f} MB) for {len(factories)} factories"
    )
    checked, written, grown = imported(content)
    del content
    total = checked + written
    print(f"check and plan (preview)                    {checked:8.1f} s")
    print(f"check again, write, count in the figures    {written:8.1f} s")
    print(f"whole import                                {total:8.1f} s  {answers / total:,.0f} answers/s")
    print(f"growth of the resident memory at its peak   {grown / 1e6:8.1f} MB")
    # Flat memory: four times the rows, the same memory (cycles 2 and 3, not timed).
    small_peak = traced(history_file(code, quarter_ids, keys, cycle=2))
    full_peak = traced(history_file(code, public_ids, keys, cycle=3))
    print(
        f"Python objects at their peak: {small_peak / 1e6:.1f} MB for {small:,} answers, "
        f"{full_peak / 1e6:.1f} MB for {answers:,} ({full_peak / small_peak:.2f}x for {answers / small:.0f}x the rows)"
    )

    # The naive way: each answer saved on its own (one INSERT and a transaction each), into a
    # fourth cycle of the first factories, measured on --naive answers and rolled back.
    with tenancy.scope({programme.pk}), transaction.atomic():
        count = 0
        started = time.perf_counter()
        for factory in factories:
            assessment = Assessment.objects.create(
                programme=programme,
                factory=factory,
                tool_version=questions[0].version,
                cycle=4,
                status="final",
                planned_date="2025-01-01",
            )
            for question in questions:
                with transaction.atomic():
                    Answer.objects.create(
                        programme=programme, assessment=assessment, question=question, value="C", finding=""
                    )
                count += 1
                if count >= naive_answers:
                    break
            if count >= naive_answers:
                break
        naive_rate = count / (time.perf_counter() - started)
        transaction.set_rollback(True)
    print(f"naive: answers saved one by one             {naive_rate:8,.0f} answers/s ({count:,} answers)")
    print(f"ratio (answers per second): {answers / total / naive_rate:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
