"""Benchmark: an XLSX export of many rows by our writer, against the naive way, in one run.

Run:  .venv/bin/python -m benchmarks.xlsx_export [--rows 100000] [--repeat 3]
Ours (``betterwork.spreadsheets.write_table``): a write-only workbook fed row by row from a
generator, plain values written as they are. The naive way: openpyxl's ordinary workbook, every
row built as cells in memory, then saved. Both write the same rows (ids, names, regions, dates,
numbers, text); it prints p50 / p95 / p99 of the time, the peak of memory allocated by Python
(tracemalloc), the file sizes, and the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

HEADERS = ["Factory id", "Factory", "Region", "Cycle", "Visit", "Questions", "Non-compliant", "Rate", "Note"]


def rows(count: int) -> Iterator[list[Any]]:
    start = dt.date(2022, 1, 3)
    for n in range(count):
        assessed = 200 + n % 50
        non_compliant = n % 37
        yield [
            f"KH{n:05d}{n % 10}",
            f"Factory {n:06d} Garments Co., Ltd.",
            ("Phnom Penh", "Kandal", "Kampong Speu", "Takeo")[n % 4],
            1 + n % 5,
            start + dt.timedelta(days=n % 1400),
            assessed,
            non_compliant,
            round(non_compliant / assessed, 4),
            "=SUM(A1)" if n % 5000 == 0 else "",  # a formula-looking cell, neutralised by ours
        ]


def ours(count: int) -> bytes:
    from betterwork.spreadsheets import write_table

    content, _ = write_table(HEADERS, rows(count), fmt="xlsx")
    return content


def naive(count: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for row in rows(count):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def measure(fn: Callable[[int], bytes], count: int, repeat: int) -> tuple[list[float], float, int]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(fn(count))
        times.append((time.perf_counter() - start) * 1000)
    tracemalloc.start()
    fn(count)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return times, peak / 2**20, size


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    results = {}
    for label, fn in (("ours (write-only, streamed)", ours), ("naive (openpyxl workbook in memory)", naive)):
        times, peak, size = measure(fn, args.rows, args.repeat)
        results[label] = (times, peak)
        print(
            f"{label:38s} {args.rows:,} rows  p50 {statistics.median(times):8.0f} ms"
            f"  p95 {percentile(times, 0.95):8.0f} ms  p99 {percentile(times, 0.99):8.0f} ms"
            f"  peak memory {peak:7.1f} MB  file {size / 2**20:5.1f} MB"
        )
    (our_times, our_peak), (their_times, their_peak) = results.values()
    print(
        f"ratio time (median): {statistics.median(their_times) / statistics.median(our_times):.1f}x"
        f"  ratio memory: {their_peak / our_peak:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
