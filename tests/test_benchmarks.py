"""The benchmarks still run (at a tiny size: CI checks that they work, not how fast)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_assessment_form_benchmark_runs_and_reports_ratios():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_NAME": "betterwork_benchmark",
    }
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [sys.executable, "-m", "benchmarks.assessment_form", "--questions", "12", "--repeat", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "GET a cluster page" in result.stdout and "SQL statements" in result.stdout
    statements = int(re.search(r"(\d+) SQL statements", result.stdout).group(1))
    assert statements <= 8, (
        f"opening the advisor's form took {statements} SQL statements, BEGIN and COMMIT included"
    )
    assert result.stdout.count("ratio") == 4


@pytest.mark.slow
def test_the_report_benchmark_runs_and_reports_its_figures():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_NAME": "betterwork_benchmark",
    }
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [
            sys.executable,
            "-m",
            "benchmarks.report_render",
            "--findings",
            "4",
            "--repeat",
            "1",
            "--reports",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "naive p50" in result.stdout and "the English one" in result.stdout
    assert re.search(r"2 worker processes\s+2 reports in", result.stdout), result.stdout


@pytest.mark.slow
def test_the_training_benchmark_runs_and_reports_ratios():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_NAME": "betterwork_benchmark",
    }
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [
            sys.executable,
            "-m",
            "benchmarks.training_figures",
            "--sessions",
            "12",
            "--factories",
            "10",
            "--repeat",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("ratio") == 3 and "entitlements page (request)" in result.stdout


@pytest.mark.slow
def test_the_dashboard_benchmark_runs_and_reports_its_ratio():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_NAME": "betterwork_benchmark",
    }
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [
            sys.executable,
            "-m",
            "benchmarks.dashboard",
            *("--factories", "8", "--cycles", "2", "--questions", "12", "--repeat", "2"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "16 assessments counted" in result.stdout
    assert "dashboard page from rollups" in result.stdout and "GROUP BY over answers" in result.stdout
    assert re.search(r"ratio \(median\): [\d.]+x", result.stdout)


@pytest.mark.slow
def test_the_xlsx_export_benchmark_runs_and_reports_time_and_memory():
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [sys.executable, "-m", "benchmarks.xlsx_export", "--rows", "300", "--repeat", "1"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "300 rows" in result.stdout and "peak memory" in result.stdout
    assert re.search(r"ratio time \(median\): [\d.]+x  ratio memory: [\d.]+x", result.stdout)


@pytest.mark.slow
def test_the_list_api_benchmark_runs_and_keeps_the_budget():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_NAME": "betterwork_benchmark_list",
    }
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [
            sys.executable,
            "-m",
            "benchmarks.list_api",
            *("--factories", "12", "--cycles", "2", "--questions", "12", "--page-size", "3", "--depth", "3"),
            *("--buyer-factories", "4", "--repeat", "2"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "page 3 by cursor (saved next link)" in out and "page 3 by OFFSET" in out
    assert "4 factories subscribed" in out and "each factory asked alone" in out
    assert len(re.findall(r"\d+\.\d+x \(p50\)", out)) == 5
    by_cursor = [int(n) for n in re.findall(r"by cursor.*?(\d+) SQL statements", out)]
    assert len(by_cursor) == 4 and max(by_cursor) <= 4, out


@pytest.mark.slow
def test_the_load_test_runs_against_its_own_server():
    env = {**os.environ, "TEST_DATABASE_NAME": "betterwork_benchmark_load"}
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [
            sys.executable,
            "-m",
            "benchmarks.load",
            *("--throwaway", "--factories", "12", "--users", "2", "--spawn-rate", "2"),
            *("--seconds", "4", "--think", "0.2"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {
        m.group(1).strip(): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"^(.{28}) +(\d+) +(\d+) +", result.stdout, re.M)
    }
    assert rows["sign in"] == (2, 0), result.stdout
    assert rows["all pages"][0] > 2 and rows["all pages"][1] == 0, result.stdout
    assert "requests per second" in result.stdout


def test_the_one_command_runs_every_benchmark():
    from benchmarks import run

    modules = {
        path.stem
        for path in (ROOT / "benchmarks").glob("*.py")
        if "\ndef main(" in path.read_text(encoding="utf-8") and path.stem != "run"
    }
    assert modules == set(run.BENCHMARKS), "add the new benchmark to benchmarks/run.py"


@pytest.mark.slow
def test_the_public_synthesis_benchmark_runs_and_reports_its_ratio():
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [sys.executable, "-m", "benchmarks.public_synthesis", "--factories", "8", "--cycles", "2"]
        + ["--questions", "12", "--repeat", "2"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "TEST_DATABASE_NAME": "betterwork_benchmark",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "public synthesis page (frozen figures)" in result.stdout
    assert re.search(r"ratio \(median\): [\d.]+x", result.stdout)
