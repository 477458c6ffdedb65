"""Benchmark: rendering the assessment report PDF, against the naive way, in the same run.

Run:  .venv/bin/python -m benchmarks.report_render [--findings 60] [--repeat 10] [--reports 40]
It builds a throwaway test database with the real global tool (152 questions), a final assessment
with N findings (about 15 pages at 60) and its previous cycle, written in English, Khmer and
Bengali, then measures:
- one report rendered by our task's code (stylesheet and fonts parsed once per process), p50/p95,
  with its page count, against the naive way (a new font configuration and stylesheet for every
  report, as a render inside a web request would do);
- the Khmer and the Bengali report against the English one;
- reports per hour through the real task (job row, render, storage, sha256) with 2 worker
  processes, each rendering its share of jobs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.assessment_form import percentile, timed

FINDINGS = {
    "en": "Records for the last three months show that {n} workers in the sewing section worked more than "
    "the legal overtime limit in week {k}; interviews with six workers confirmed it and management "
    "said orders from two buyers arrived late. The factory has not yet set a plan to spread the work.",
    "km": "កំណត់ត្រារយៈពេលបីខែចុងក្រោយបង្ហាញថា កម្មករ {n} នាក់ក្នុងផ្នែកដេរ បានធ្វើការលើសម៉ោងបន្ថែមដែលច្បាប់អនុញ្ញាត "
    "ក្នុងសប្តាហ៍ទី {k}។ ការសម្ភាសកម្មករប្រាំមួយនាក់បានបញ្ជាក់រឿងនេះ ហើយគណៈគ្រប់គ្រងបាននិយាយថាការបញ្ជាទិញមកយឺត។",
    "bn": "গত তিন মাসের নথিতে দেখা যায় সেলাই বিভাগের {n} জন শ্রমিক সপ্তাহ {k}-এ আইনি সীমার বেশি অতিরিক্ত সময় কাজ "
    "করেছেন; ছয়জন শ্রমিকের সাক্ষাৎকারে তা নিশ্চিত হয়েছে এবং ব্যবস্থাপনা জানিয়েছে যে দুই ক্রেতার অর্ডার দেরিতে এসেছে।",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--reports", type=int, default=40, help="jobs for the throughput run")
    args = parser.parse_args(argv)

    on_throwaway_database(lambda media: run(args.findings, args.repeat, args.reports))
    return 0


def report_jobs(programme: Any, assessment: Any, count: int, label: str) -> list[int]:
    """That many queued jobs for the assessment's English report (distinct inputs: none is a duplicate)."""
    from django.db import transaction

    from betterwork import tenancy
    from reporting.models import ReportJob

    with tenancy.scope({programme.pk}), transaction.atomic():
        return [
            ReportJob.objects.create(
                programme=programme, kind="assessment", target_id=assessment.pk, language="en",
                template_version=1, input_hash=f"bench-{label}-{n}", queued_at=dt.datetime.now(dt.UTC),
            ).pk
            for n in range(count)
        ]  # fmt: skip


def on_throwaway_database(work: Callable[[Path], None]) -> None:
    """Runs the work on a test database made for it and dropped after, with stored files in a
    temporary folder (given to the work)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    media = tempfile.mkdtemp(prefix="betterwork-bench-media-")
    os.environ["TEST_MEDIA_ROOT"] = media
    import django

    django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        work(Path(media))
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def build(findings: int) -> dict[str, Any]:
    """A programme per script, each with a final assessment of ``findings`` findings."""
    import yaml
    from django.db import transaction

    from assessments import services
    from assessments.models import Answer, Assessment, AssessmentAssessor, Question
    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User
    from factories.models import Factory

    tool_dir = Path(__file__).resolve().parent.parent / "assessments" / "tool"
    services.points_load(data=yaml.safe_load((tool_dir / "points.yaml").read_text(encoding="utf-8")))
    tool, _ = services.tool_load(
        data={
            **yaml.safe_load((tool_dir / "global.yaml").read_text(encoding="utf-8")),
            "effective_from": dt.date(2020, 1, 1),
        },
        publish=True,
    )
    questions = list(Question.objects.filter(version=tool).order_by("order"))
    targets: dict[str, Any] = {}
    for language, code in (("en", "BE"), ("km", "BK"), ("bn", "BB")):
        programme = Programme.objects.create(
            code=code, name=f"Benchmark {language}", country="Nowhere", languages=[language]
        )
        assessors = []
        for n in range(2):
            user = User.objects.create_user(
                f"a{n}.{code}@bench.example", "bench-pass-1", full_name=f"Assessor {n}"
            )
            RoleGrant.objects.create(user=user, role=Role.ADVISOR, programme=programme)
            assessors.append(user)
        with tenancy.scope({programme.pk}), transaction.atomic():
            factory = Factory(
                programme=programme,
                public_id=f"{code}000018",
                name="Bench Garments",
                address="Road 1, Zone 2",
            )
            factory.save()
            for cycle in (1, 2):
                visit = dt.date(2024 + cycle, 3, 10)
                assessment = Assessment(
                    programme=programme, factory=factory, tool_version=tool, cycle=cycle, status="final",
                    planned_date=visit, visit_started_on=visit, visit_ended_on=visit + dt.timedelta(days=1),
                    person_days=4, interviews={"management": 3, "workers": 24, "union": 2},
                    final_at=dt.datetime(2024 + cycle, 5, 1, tzinfo=dt.UTC),
                )  # fmt: skip
                assessment.save()
                for n, user in enumerate(assessors):
                    AssessmentAssessor(
                        programme=programme, assessment=assessment, user=user, lead=n == 0
                    ).save()
                shift = 0 if cycle == 2 else findings // 3  # some findings persist, some are new
                Answer.objects.bulk_create(
                    Answer(
                        programme=programme,
                        assessment=assessment,
                        question=question,
                        value="NC" if shift <= i < shift + findings else "C",
                        finding=FINDINGS[language].format(n=i + 3, k=i % 12 + 1) if shift <= i < shift + findings else "",
                    )
                    for i, question in enumerate(questions)
                )  # fmt: skip
            targets[language] = (programme, assessment)
    return targets


def render_once(programme: Any, assessment_id: int, language: str, naive: bool = False) -> int:
    """Context, template and PDF of one report, as the task does; ``naive`` parses the stylesheet
    and builds a font configuration anew, as a render inside a request typically does."""
    from django.db import transaction
    from django.template.loader import render_to_string
    from django.utils import translation

    from betterwork import tenancy
    from reporting import rendering
    from reporting.kinds import ASSESSMENT_REPORT as KIND

    with tenancy.scope({programme.pk}), transaction.atomic(), translation.override(language):
        target = KIND.load(assessment_id)
        html = render_to_string(KIND.template, {**KIND.context(target), "language": language, "bidi": False})
    if not naive:
        return rendering.render_pdf(html)[1]
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = CSS(string=rendering.static_file("static:" + rendering.STYLESHEET).decode(), font_config=fonts)
    document = HTML(string=html, base_url="static:", url_fetcher=rendering._fetcher()).render(
        stylesheets=[css], font_config=fonts
    )
    document.write_pdf()
    return len(document.pages)


def _work(job_ids: list[int], programme_id: int) -> None:
    from django.db import connection

    from betterwork.tasks import SCOPE_KWARG
    from reporting.tasks import render_report

    connection.close()  # a forked process opens its own connection
    for job_id in job_ids:
        assert render_report.apply(args=[job_id], kwargs={SCOPE_KWARG: [programme_id]}).get() == "ready"


def run(findings: int, repeat: int, reports: int) -> None:
    from django.db import connection, transaction

    from betterwork import tenancy
    from reporting.models import ReportJob

    targets = build(findings)
    programme, assessment = targets["en"]
    pages = render_once(programme, assessment.pk, "en")  # warm: fonts loaded once per process
    ours = timed(lambda: render_once(programme, assessment.pk, "en"), repeat)
    naive = timed(lambda: render_once(programme, assessment.pk, "en", naive=True), max(3, repeat // 2))
    print(f"Assessment report, {findings} findings, {pages} pages")
    line = (
        f"{'English, our task code':34s} p50 {statistics.median(ours) / 1000:6.2f} s"
        f"  p95 {percentile(ours, 0.95) / 1000:6.2f} s  p99 {percentile(ours, 0.99) / 1000:6.2f} s"
    )
    print(
        f"{line}  | naive p50 {statistics.median(naive) / 1000:6.2f} s  ratio {statistics.median(naive) / statistics.median(ours):4.1f}x"
    )
    for language in ("km", "bn"):
        other, other_assessment = targets[language]
        other_pages = render_once(other, other_assessment.pk, language)
        samples = timed(lambda o=other, a=other_assessment, lang=language: render_once(o, a.pk, lang), repeat)
        ratio = statistics.median(samples) / statistics.median(ours)
        print(
            f"{language + ' (' + str(other_pages) + ' pages)':34s} p50 {statistics.median(samples) / 1000:6.2f} s  "
            f"p95 {percentile(samples, 0.95) / 1000:6.2f} s  p99 {percentile(samples, 0.99) / 1000:6.2f} s"
            f"  | {ratio:4.2f}x the English one"
        )

    # Throughput: the real task (job row, render, storage, sha256) in 2 worker processes.
    jobs = report_jobs(programme, assessment, reports, "throughput")
    connection.close()
    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    workers = [context.Process(target=_work, args=(jobs[i::2], programme.pk)) for i in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join()
    elapsed = time.perf_counter() - start
    assert all(process.exitcode == 0 for process in workers)
    with tenancy.scope({programme.pk}), transaction.atomic():
        ready = ReportJob.objects.filter(pk__in=jobs, status="ready").count()
    print(
        f"{'2 worker processes':34s} {ready} reports in {elapsed:5.1f} s: {ready / elapsed * 3600:6.0f} reports/h "
        f"(first render of each process includes loading fonts)"
    )


if __name__ == "__main__":
    sys.exit(main())
