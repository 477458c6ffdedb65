"""The benchmarks still run (at a tiny size: CI checks that they work, not how fast)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bench(
    module: str, *arguments: str, database: str = "betterwork_benchmark", django_settings: bool = True
) -> str:
    """Run ``benchmarks.<module>`` as its user would, in a process of its own; its output."""
    env = {**os.environ, "TEST_DATABASE_NAME": database}
    if django_settings:
        env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    result = subprocess.run(  # noqa: S603 - our own benchmark
        [sys.executable, "-m", f"benchmarks.{module}", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_the_assessment_form_benchmark_runs_and_reports_ratios():
    out = bench("assessment_form", "--questions", "12", "--repeat", "2")
    assert "GET a cluster page" in out and "SQL statements" in out
    statements = int(re.search(r"(\d+) SQL statements", out).group(1))
    assert statements <= 8, (
        f"opening the advisor's form took {statements} SQL statements, BEGIN and COMMIT included"
    )
    assert out.count("ratio") == 4


@pytest.mark.slow
def test_the_report_benchmark_runs_and_reports_its_figures():
    out = bench("report_render", "--findings", "4", "--repeat", "1", "--reports", "2")
    assert "naive p50" in out and "the English one" in out
    assert re.search(r"2 worker processes\s+2 reports in", out), out


@pytest.mark.slow
def test_the_worker_hosts_benchmark_runs_and_reports_both_rates():
    out = bench("worker_hosts", "--reports", "2", "--findings", "4", "--concurrency", "1")
    assert re.search(r"1 worker host : 2 reports in", out) and re.search(r"2 worker hosts: 2 reports in", out)
    assert "2 hosts against 1:" in out


@pytest.mark.slow
def test_the_training_benchmark_runs_and_reports_ratios():
    out = bench("training_figures", "--sessions", "12", "--factories", "10", "--repeat", "2")
    assert out.count("ratio") == 3 and "entitlements page (request)" in out


@pytest.mark.slow
def test_the_dashboard_benchmark_runs_and_reports_its_ratio():
    out = bench("dashboard", "--factories", "8", "--cycles", "2", "--questions", "12", "--repeat", "2")
    assert "16 assessments counted" in out
    assert "dashboard page from rollups" in out and "GROUP BY over answers" in out
    assert re.search(r"ratio \(median\): [\d.]+x", out)


@pytest.mark.slow
def test_the_public_synthesis_benchmark_runs_and_reports_its_ratio():
    out = bench("public_synthesis", "--factories", "8", "--cycles", "2", "--questions", "12", "--repeat", "2")
    assert "public synthesis page (frozen figures)" in out
    assert re.search(r"ratio \(median\): [\d.]+x", out)


@pytest.mark.slow
def test_the_transparency_list_benchmark_runs_and_reports_its_ratio():
    out = bench(
        "transparency_list", "--factories", "8", "--cycles", "2", "--questions", "12", "--repeat", "2"
    )
    assert "Programme BM: 8 factories listed" in out
    assert "the list kept" in out and "the list computed each time" in out
    assert re.search(r"ratio \(median\): [\d.]+x", out)


@pytest.mark.slow
def test_the_history_import_benchmark_runs_and_reports_its_ratio():
    out = bench("history_import", "--factories", "8", "--questions", "12", "--naive", "20")
    assert "a file of 96 answers" in out and "whole import" in out
    assert re.search(r"ratio \(answers per second\): [\d.]+x", out)


@pytest.mark.slow
def test_the_xlsx_export_benchmark_runs_and_reports_time_and_memory():
    out = bench("xlsx_export", "--rows", "300", "--repeat", "1")
    assert "300 rows" in out and "peak memory" in out
    assert re.search(r"ratio time \(median\): [\d.]+x  ratio memory: [\d.]+x", out)


@pytest.mark.slow
def test_the_list_api_benchmark_runs_and_keeps_the_budget():
    out = bench(
        "list_api",
        *("--factories", "12", "--cycles", "2", "--questions", "12", "--page-size", "3", "--depth", "3"),
        *("--buyer-factories", "4", "--repeat", "2"),
        database="betterwork_benchmark_list",
    )
    assert "page 3 by cursor (saved next link)" in out and "page 3 by OFFSET" in out
    assert "4 factories subscribed" in out and "each factory asked alone" in out
    assert len(re.findall(r"\d+\.\d+x \(p50\)", out)) == 5
    by_cursor = [int(n) for n in re.findall(r"by cursor.*?(\d+) SQL statements", out)]
    assert len(by_cursor) == 4 and max(by_cursor) <= 4, out


@pytest.mark.slow
def test_the_load_test_runs_against_its_own_server():
    out = bench(
        "load",
        *("--throwaway", "--factories", "12", "--users", "2", "--spawn-rate", "2"),
        *("--seconds", "4", "--think", "0.2"),
        database="betterwork_benchmark_load",
        django_settings=False,
    )
    rows = {
        m.group(1).strip(): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"^(.{28}) +(\d+) +(\d+) +", out, re.M)
    }
    assert rows["sign in"] == (2, 0), out
    assert rows["all pages"][0] > 2 and rows["all pages"][1] == 0, out
    assert "requests per second" in out


def test_the_one_command_runs_every_benchmark():
    from benchmarks import run

    modules = {
        path.stem
        for path in (ROOT / "benchmarks").glob("*.py")
        if "\ndef main(" in path.read_text(encoding="utf-8") and path.stem != "run"
    }
    assert modules == set(run.BENCHMARKS), "add the new benchmark to benchmarks/run.py"
