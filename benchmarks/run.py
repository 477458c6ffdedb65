"""Runs every benchmark in turn and prints each one's figures.

    .venv/bin/python -m benchmarks.run [--database betterwork_scale] [--quick]

With ``--database`` the benchmarks that can read an existing database (the dashboard, the public
pages, the list APIs, the load test) measure it; the others build their own throwaway data, as
they always do.
``--quick`` runs each at the tiny size CI uses (a proof that they work, not a measurement). Each
benchmark runs in a process of its own; throwaway databases are named ``betterwork_benchmark_run``
(``TEST_DATABASE_NAME``), so a test run's database is never touched.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (arguments at a measuring size, arguments at CI's tiny size, whether it reads --database)
BENCHMARKS: dict[str, tuple[str, str, bool]] = {
    "assessment_form": ("--questions 250 --repeat 100", "--questions 12 --repeat 2", False),
    "report_render": (
        "--findings 70 --repeat 10 --reports 40",
        "--findings 4 --repeat 1 --reports 2",
        False,
    ),
    "training_figures": (
        "--sessions 400 --factories 300 --repeat 30",
        "--sessions 12 --factories 10 --repeat 2",
        False,
    ),
    "xlsx_export": ("--rows 100000 --repeat 3", "--rows 300 --repeat 1", False),
    "history_import": ("--factories 400 --questions 250", "--factories 8 --questions 12 --naive 20", False),
    "dashboard": (
        "--factories 200 --cycles 3 --questions 100 --repeat 30",
        "--factories 8 --cycles 2 --questions 12 --repeat 2",
        True,
    ),
    "public_synthesis": (
        "--factories 200 --cycles 3 --questions 100 --repeat 30",
        "--factories 8 --cycles 2 --questions 12 --repeat 2",
        True,
    ),
    "transparency_list": (
        "--factories 200 --cycles 3 --questions 100 --repeat 30",
        "--factories 8 --cycles 2 --questions 12 --repeat 2",
        True,
    ),
    "list_api": (
        "--factories 1000 --cycles 2 --questions 30 --depth 20 --buyer-factories 300 --repeat 30",
        "--factories 12 --cycles 2 --questions 12 --page-size 3 --depth 3 --buyer-factories 4 --repeat 2",
        True,
    ),
    "api_fuzz": ("--examples 200", "--examples 1 --roles manager --no-coverage", False),
    "worker_hosts": ("--reports 40 --findings 70", "--reports 2 --findings 4 --concurrency 1", False),
    "load": (
        "--throwaway --factories 300 --users 10 --seconds 60",
        "--throwaway --factories 12 --users 2 --spawn-rate 2 --seconds 5 --think 0.2",
        True,
    ),
}
# On an existing database the sizes are the data's own: only these arguments remain.
ON_DATABASE = {
    "dashboard": ("--repeat 30", "--repeat 2"),
    "public_synthesis": ("--repeat 30", "--repeat 2"),
    "transparency_list": ("--repeat 30", "--repeat 2"),
    "list_api": ("--buyer-factories 300 --repeat 30", "--buyer-factories 4 --repeat 2"),
    "load": ("--users 10 --seconds 60", "--users 2 --spawn-rate 2 --seconds 5 --think 0.2"),
}


def command(name: str, database: str | None, quick: bool) -> list[str]:
    full, tiny, reads_database = BENCHMARKS[name]
    arguments = (tiny if quick else full).split()
    if database and reads_database:
        on_full, on_tiny = ON_DATABASE[name]
        arguments = ["--database", database, *(on_tiny if quick else on_full).split()]
    return [sys.executable, "-m", f"benchmarks.{name}", *arguments]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="an existing database to measure where a benchmark can")
    parser.add_argument("--quick", action="store_true", help="the tiny sizes CI uses")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    args = parser.parse_args(argv)

    # Production settings with DEBUG off, less what a test client cannot do (HTTPS redirects).
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.setdefault("TEST_DATABASE_NAME", "betterwork_benchmark_run")
    failed = []
    for name in args.only or BENCHMARKS:
        cmd = command(name, args.database, args.quick)
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.monotonic()
        result = subprocess.run(cmd, cwd=ROOT, env=env, check=False)  # noqa: S603 - our own benchmarks
        print(
            f"--- {name}: {'done' if result.returncode == 0 else 'FAILED'} in {time.monotonic() - start:.0f} s"
        )
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
