"""Benchmark: fuzzing the whole API with schemathesis, long, as each kind of user.

Run:  DEBUG=1 .venv/bin/python benchmarks/api_fuzz.py --examples 200 [--roles manager advisor]
          [--seed N] [--no-coverage]
(or ``python -m benchmarks.api_fuzz``). It builds a throwaway test database with the small data
set of the query-count tests (``tests.query_counts.build_world``: two programmes, a few records
of every kind in Cambodia), gives an API token to a programme manager, an advisor, a factory user
and a buyer, loads the OpenAPI schema the platform serves (``/api/schema/``) and, as each of
them in turn, sends every operation ``--examples`` generated requests (valid and invalid data),
the coverage phase's boundary values and the stateful phase's chains (links that schemathesis
infers from the schema: drf-spectacular declares none). Path parameters name the data set's real
records four times in five. Every response is checked: no server error, a documented status
code and content type, a body that matches the schema.

It prints, per operation, the requests sent, the share answered 2xx and the time, then every
failure (none expected), and exits 1 if there was one. ``tests/test_api_fuzz.py`` runs the same
harness with a few examples per operation in the test suite.

The app runs in this process as production serves it (DEBUG off, as Django's test runner sets
it, whatever the environment says), its uploads in a temporary folder; the report and import
tasks it queues go where the test suite's do (``tests/settings.py``), with no worker to run them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the project's packages are beside this folder
    sys.path.insert(0, str(ROOT))

# Who the API is fuzzed as: the data set's user of each kind.
ROLES = {
    "manager": ("manager", "programme manager (KH)"),
    "advisor": ("lead", "advisor (KH), the designated advisor of Angkor Garments"),
    "factory": ("hr", "factory user (Angkor Garments' administrator)"),
    "buyer": ("buyer", "buyer (Northwind Apparel, subscribed to both KH factories)"),
}
# What every response is checked for, and (stateful phase) what chains of them must keep: a
# deleted record is gone, a created one can be read, no undocumented method is answered.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
)
# Left out, each for a reason:
# - positive_data_acceptance: data the schema allows is refused by rules no schema states (a
#   factory id of another programme, a public factory id already taken, an assessment's answers after
#   it closed): 400, counted as failures.
# - negative_data_rejection: django-filter takes "null" for a boolean filter (either value),
#   which the schema's boolean does not allow: 200, counted as a failure.
# - ignored_auth: schemathesis 4.32 sends its probes without the token through the in-process
#   WSGI transport with an argument werkzeug refuses (max_redirects): an error, not a finding.
#   The hand-written chain in tests/test_api_fuzz.py runs it, and each app's API tests check
#   who may read what.
# - object_level_authorization: needs several identities in schemathesis' own auth settings;
#   the run is one user at a time.
# - max_response_time: no budget is set here; benchmarks/list_api.py measures the lists.
PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass
class Failure:
    role: str
    operation: str
    check: str
    title: str
    request: str
    status: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.role}: {self.operation}: {self.check} ({self.title})\n  {self.request} -> {self.status}\n"
            + "\n".join("  " + line for line in self.message.splitlines()[:12])
        )


@dataclass
class Operation:
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)


@dataclass
class Run:
    """What one fuzzing run found: per operation (and "Stateful tests"), and its failures."""

    operations: dict[str, Operation] = field(default_factory=lambda: defaultdict(Operation))
    roles: dict[str, Operation] = field(default_factory=lambda: defaultdict(Operation))
    failures: list[Failure] = field(default_factory=list)
    phases: dict[str, str] = field(default_factory=dict)
    inferred_links: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def cases(self) -> int:
        return sum(o.cases for o in self.operations.values())


# --- The data set's records, named in paths ------------------------------------------------------


def record_ids(w: Any) -> dict[str, list[int]]:
    """The ids of the data set's records, by the path segment that names their kind."""
    from tests.query_counts import in_scope

    return in_scope(
        w.kh,
        lambda: {
            "factories": [w.a.pk, w.b.pk],
            "assessments": [w.final.pk, w.in_progress.pk],
            "reports": [job.pk for job in w.jobs],
            "plans": [w.plan.pk],
            "items": [item.pk for item in w.items],
            "progress-reports": [w.progress.pk],
            "committees": [w.committee.pk],
            "elections": [w.election.pk],
            "meetings": [meeting.pk for meeting in w.meetings],
            "members": [member.pk for member in w.members],
            "visits": [visit.pk for visit in w.visits],
            "self-diagnoses": [w.diagnosis.pk, w.draft_diagnosis.pk],
            "courses": [course.pk for course in w.courses],
            "sessions": [session.pk for session in w.sessions],
            "participants": [p.pk for session in w.sessions for p in session.participants.all()],
            "versions": [w.tool.pk],
            "cycle": [1, 2],
        },
    )


def tokens(w: Any, roles: list[str]) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    return {role: Token.objects.get_or_create(user=getattr(w, ROLES[role][0]))[0].key for role in roles}


def ready_files(w: Any) -> None:
    """The PDFs of the data set's ready report jobs (the data set names them, it writes none)."""
    from django.core.files.base import ContentFile

    from reporting.models import JobStatus, ReportJob
    from tests.query_counts import in_scope

    for job in in_scope(w.kh, lambda: list(ReportJob.objects.filter(status=JobStatus.READY))):
        job.file.storage.save(job.file.name, ContentFile(b"%PDF-1.4\n%%EOF\n"))


@contextlib.contextmanager
def uploads_kept_apart() -> Iterator[None]:
    """Files the run uploads (attachments, spreadsheets) go to a temporary folder."""
    from django.test.utils import override_settings

    with tempfile.TemporaryDirectory(prefix="api-fuzz-media-") as media, override_settings(MEDIA_ROOT=media):
        yield


# --- Schemathesis ----------------------------------------------------------------------------------


def configuration(
    *,
    token: str | None,
    paths: list[str],
    ids: dict[str, list[int]],
    examples: int,
    phases: tuple[str, ...],
    seed: int,
) -> Any:
    """Schemathesis' settings for one user: their token, the checks, the phases, and the data
    set's programme code and record ids offered for path parameters four times in five."""
    import schemathesis

    operations = []
    for path in paths:
        bindings = {}
        for match in re.finditer(r"([^/{}]+)?/?\{(\w+)\}", path):
            segment, name = match.groups()
            kind = {"programme_code": "programmes", "code": "programmes", "cycle": "cycle"}.get(name, segment)
            if kind == "programmes" or ids.get(kind):
                bindings[f"path.{name}"] = {"dictionary": kind, "probability": 0.8}
        if bindings:
            operations.append({"include-path": path, "parameters": bindings})
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "cache": {"enabled": False},
            "headers": {"Authorization": f"Token {token}"} if token else {},
            "dictionaries": {
                "programmes": {"values": ["KH"]},
                **{kind: {"values": values} for kind, values in ids.items() if values},
            },
            "operations": operations,
            "generation": {"max-examples": examples, "database": "none"},
            "continue-on-failure": True,
            "suppress-health-check": ["all"],
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
            },
            "phases": {name: {"enabled": name in phases} for name in PHASES},
        }
    )


def fuzz(role: str, config: Any, run: Run) -> None:
    """Fuzz the API as one user; what it found goes into ``run``."""
    import schemathesis
    from django.core.handlers.wsgi import WSGIHandler
    from schemathesis.engine import events, from_schema

    # The app as the WSGI server runs it (Django is set up already: no second logging set-up).
    schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), config=config)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for tally in (run.operations[recorder.label], run.roles[role]):
                tally.cases += len(recorder.cases)
                tally.seconds += event.elapsed_time
                for interaction in recorder.interactions.values():
                    if interaction.response is not None:
                        tally.statuses[interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    interaction = recorder.interactions.get(case_id)
                    request = f"{interaction.request.method} {interaction.request.uri}" if interaction else ""
                    response = interaction.response if interaction else None
                    run.failures.append(
                        Failure(
                            role=role,
                            operation=failure.operation or recorder.label,
                            check=check.name,
                            title=failure.title,
                            request=request,
                            status=response.status_code if response is not None else None,
                            message=failure.message,
                        )
                    )
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            run.inferred_links = max(run.inferred_links, event.payload.inferred_transitions)
        elif isinstance(event, events.PhaseFinished):
            run.phases[f"{role} {event.phase.name.value}"] = event.status.value
        elif isinstance(event, events.NonFatalError | events.FatalError):
            run.errors.append(f"{role}: {event.info}" if hasattr(event, "info") else f"{role}: {event}")


def fuzz_as(
    w: Any, roles: list[str], *, examples: int, phases: tuple[str, ...], seed: int, progress: bool = False
) -> Run:
    """Fuzz the API as each of these users of the data set, one after the other."""
    import json

    from django.db import connections
    from django.db.backends.signals import connection_created
    from django.test import Client

    run = Run()
    ids = record_ids(w)
    keys = tokens(w, roles)
    # The engine sends requests from threads of its own: each opens its own connection, closed here.
    opened: list[Any] = []

    def remember(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened.append(connection)

    connection_created.connect(remember)
    start = time.monotonic()
    try:
        with uploads_kept_apart():
            ready_files(w)
            paths = list(json.loads(Client().get("/api/schema/?format=json").content)["paths"])
            for role in roles:
                config = configuration(
                    token=keys[role], paths=paths, ids=ids, examples=examples, phases=phases, seed=seed
                )
                fuzz(role, config, run)
                if progress:
                    tally = run.roles[role]
                    print(f"as {role}: {tally.cases} requests in {tally.seconds:.0f} s", flush=True)
    finally:
        connection_created.disconnect(remember)
        for connection in opened:
            if connection is not connections["default"]:
                connection.inc_thread_sharing()
                connection.close()
    run.seconds = time.monotonic() - start
    return run


def report(run: Run, roles: list[str]) -> None:
    def row(label: str, tally: Operation) -> str:
        ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
        share = f"{100 * ok / tally.cases:.0f}%" if tally.cases else "-"
        per = 1000 * tally.seconds / tally.cases if tally.cases else 0.0
        return f"{label:{width}s} {tally.cases:8d} {share:>5s} {tally.seconds:8.1f} {per:10.1f}"

    width = max(len(label) for label in [*run.operations, "operation"])
    print(f"{'operation':{width}s} {'requests':>8s} {'2xx':>5s} {'seconds':>8s} {'ms/request':>10s}")
    for label, operation in sorted(run.operations.items()):
        print(row(label, operation))
    print()
    for role in roles:
        print(row(f"as {role}", run.roles[role]))
    print(
        f"\n{len(run.operations) - ('Stateful tests' in run.operations)} operations, {run.cases} requests as "
        f"{len(roles)} users ({', '.join(roles)}) in {run.seconds:.0f} s; links inferred for the stateful "
        f"phase: {run.inferred_links}"
    )
    for error in run.errors:
        print(f"error: {error}")
    print(f"failures: {len(run.failures)}")
    for failure in run.failures:
        print(failure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="generated requests per operation")
    parser.add_argument("--roles", nargs="+", choices=list(ROLES), default=list(ROLES))
    parser.add_argument("--seed", type=int, default=None, help="schemathesis' seed (default: random)")
    parser.add_argument("--no-coverage", action="store_true", help="leave out the coverage phase")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    # The buyers' API is throttled per hour: the run asks it far more often than a buyer.
    os.environ["API_BUYER_RATE"] = "1000000/hour"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment

    from tests.query_counts import build_world

    setup_test_environment(debug=False)
    # Cache entries of its own: a test run sharing the Redis database keeps programmes and
    # grants of the same codes and ids in the test suite's.
    caches = {**settings.CACHES}
    caches["default"] = {**caches["default"], "KEY_PREFIX": f"betterwork-api-fuzz-{os.getpid()}"}
    override_settings(CACHES=caches).enable()
    # Refused requests are the run's daily bread: the log keeps server errors only.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    phases = tuple(p for p in PHASES if not (args.no_coverage and p == "coverage"))
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        world = build_world()
        print(f"seed {seed}, {args.examples} examples per operation, phases: {', '.join(phases)}")
        for role in args.roles:
            print(f"as {role}: {ROLES[role][1]}")
        run = fuzz_as(world, args.roles, examples=args.examples, phases=phases, seed=seed, progress=True)
        report(run, args.roles)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 1 if run.failures or run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
