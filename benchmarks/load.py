"""Load test: a fixed number of people reading a programme's pages for a fixed time, against a
local server this command starts (gunicorn, 2 workers, on 127.0.0.1 only) and stops.

Against the demo data (``./scripts/demo.sh`` seeds the database ``betterwork``; the programme
manager of KH signs in):
    .venv/bin/python -m benchmarks.load [--users 10] [--seconds 60]
Against the scale data set (a temporary programme manager is created, and removed at the end):
    .venv/bin/python -m benchmarks.load --database betterwork_scale --users 10 --seconds 60
Against a small throwaway database it builds and drops (CI runs it so):
    .venv/bin/python -m benchmarks.load --throwaway --users 2 --seconds 5

Each user signs in, then reads (weights in brackets) the factory list (3), a factory (3), the
assessment list (3), an assessment (3), the dashboard (1), the factory list API (2) and the public
transparency list (1), about one page every ``--think`` seconds (``--skip PAGE`` leaves one out);
``--spawn-rate`` users start each second until all run. Locust drives the users
(headless, ``benchmarks/locustfile.py``); the report gives per page the requests, errors, p50, p95
and p99, and the requests per second of the whole run. The server runs the production settings
with DEBUG off (``benchmarks.load_settings``).
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_EMAIL = "manager.kh@demo.betterwork.org"
DEMO_PASSWORD = "betterwork-demo"  # noqa: S105 - the demo's published password
PAGES = [
    "factory list",
    "a factory",
    "assessment list",
    "an assessment",
    "dashboard",
    "factory list API",
    "public transparency list",
]


@dataclass
class Target:
    """Who signs in where, and which pages there are to read."""

    programme: str
    email: str
    password: str
    factories: list[int]
    assessments: list[int]
    temporary_user: Any = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", default="betterwork", help="the database to serve (default: the demo's)"
    )
    parser.add_argument("--throwaway", action="store_true", help="build a small database and drop it after")
    parser.add_argument("--programme", help="a programme code (default: KH for the demo, else the first)")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between two pages of a user")
    parser.add_argument(
        "--spawn-rate", type=float, default=1.0, help="users starting per second (each signs in first)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--skip", action="append", default=[], choices=PAGES, help="a page not to read")
    parser.add_argument("--factories", type=int, default=40, help="throwaway database: factories")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="do not compute the public transparency list first, as the platform's beat does",
    )
    args = parser.parse_args(argv)

    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.load_settings"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    if not args.throwaway:
        os.environ["DATABASE_URL"] = f"postgres://betterwork@127.0.0.1:5432/{args.database}"
    import django

    django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    if args.throwaway:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    started = time.time()
    target: Target | None = None
    try:
        target = prepare(args)
        database = connection.settings_dict["NAME"]
        connection.close()  # the server's workers open their own connections
        print(
            f"{args.users} users ({args.spawn_rate:g} more a second until all run) for {args.seconds} s on "
            f"{database} (programme {target.programme}), gunicorn with {args.workers} workers, "
            f"one page every {args.think:g} s per user"
        )
        with serve(database, args.workers) as url:
            stats = drive(url, target, args, ",".join(args.skip))
        report(stats)
    finally:
        tidy(target, started)
        if args.throwaway:
            connection.close()
            connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


# --- The data -----------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> Target:
    from django.db import connection, transaction

    from assessments.models import Assessment
    from betterwork import tenancy
    from betterwork.models import Programme, Role, RoleGrant, User
    from factories.models import Factory

    temporary = None
    if args.throwaway:
        from benchmarks import list_api

        code = list_api.build(args.factories, 2, 30)
    elif args.programme:
        code = args.programme
    elif Programme.objects.filter(code="KH").exists():
        code = "KH"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT code FROM betterwork_programme ORDER BY id LIMIT 1")
            code = cursor.fetchone()[0]
    programme = Programme.objects.get(code=code)
    demo = User.objects.filter(email=DEMO_EMAIL).first()
    if demo is not None and demo.check_password(DEMO_PASSWORD) and code == "KH":
        email, password = DEMO_EMAIL, DEMO_PASSWORD
    else:
        email, password = f"bench-load-{code.lower()}@bench.example", secrets.token_urlsafe(16)
        temporary = User.objects.create_user(email, password, full_name="Load test")
        RoleGrant.objects.create(user=temporary, role=Role.PROGRAMME_MANAGER, programme=programme)
    with tenancy.scope({programme.pk}), transaction.atomic():
        factories = list(
            Factory.objects.filter(programme=programme).order_by("?").values_list("pk", flat=True)[:200]
        )
        assessments = list(
            Assessment.objects.filter(programme=programme).order_by("?").values_list("pk", flat=True)[:200]
        )
    if not args.cold:  # as beat does every ten minutes on a running platform
        from reporting.tasks import keep_transparency_lists

        keep_transparency_lists([programme.pk])
    return Target(code, email, password, factories, assessments, temporary)


def tidy(target: Target | None, started: float) -> None:
    """Removes the temporary user, and the sessions the run's sign-ins left."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction

    from betterwork import tenancy
    from betterwork.models import AuditEvent, Programme, RoleGrant, User

    if target is None:
        return
    user = User.objects.filter(email=target.email).first()
    if user is not None:
        # A session expires SESSION_COOKIE_AGE after it was saved: this run's, after it started.
        born = dt.datetime.fromtimestamp(started, tz=dt.UTC) + dt.timedelta(
            seconds=settings.SESSION_COOKIE_AGE - 60
        )
        for session in Session.objects.filter(expire_date__gte=born):
            if session.get_decoded().get("_auth_user_id") == str(user.pk):
                SessionStore(session.session_key).delete()
    if target.temporary_user is not None:
        programmes = list(Programme.objects.values_list("pk", flat=True))
        user = target.temporary_user
        with tenancy.scope(programmes), transaction.atomic():
            RoleGrant.objects.filter(user=user).delete()
            if AuditEvent.objects.filter(actor=user).exists():
                # Its sign-ins are on the audit trail, which keeps its people: it only stops.
                User.objects.filter(pk=user.pk).update(is_active=False)
            else:
                user.delete()


# --- The server and the users -----------------------------------------------------------------


class serve:
    """gunicorn on a free port of 127.0.0.1 against ``database``, stopped on leaving."""

    def __init__(self, database: str, workers: int) -> None:
        self.database, self.workers = database, workers
        self.log = tempfile.NamedTemporaryFile(prefix="betterwork-load-", suffix=".log", delete=False)  # noqa: SIM115

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": f"postgres://betterwork@127.0.0.1:5432/{self.database}"}
        self.process = subprocess.Popen(  # noqa: S603 - our own server
            [
                str(BIN / "gunicorn"),
                "betterwork.wsgi:application",
                *("--bind", f"127.0.0.1:{port}", "--workers", str(self.workers)),
                *("--log-level", "warning", "--error-logfile", self.log.name),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.__exit__()
        sys.exit("The server did not start:\n" + Path(self.log.name).read_text()[-3000:])

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's master stops its workers on TERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        Path(self.log.name).unlink(missing_ok=True)


def drive(url: str, target: Target, args: argparse.Namespace, skip: str) -> list[dict[str, str]]:
    """Runs locust headless against ``url`` and returns its statistics, a row per page."""
    with tempfile.TemporaryDirectory(prefix="betterwork-load-") as folder:
        prefix = os.path.join(folder, "run")
        env = {
            **os.environ,
            "LOAD_PROGRAMME": target.programme,
            "LOAD_EMAIL": target.email,
            "LOAD_PASSWORD": target.password,
            "LOAD_FACTORIES": ",".join(map(str, target.factories)),
            "LOAD_ASSESSMENTS": ",".join(map(str, target.assessments)),
            "LOAD_THINK": str(args.think),
            "LOAD_SKIP": skip,
        }
        result = subprocess.run(  # noqa: S603 - our own locustfile against our own server
            [
                str(BIN / "locust"),
                *("-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless", "--only-summary"),
                *("--users", str(args.users), "--spawn-rate", str(args.spawn_rate)),
                *("--run-time", f"{args.seconds}s"),
                *("--host", url, "--csv", prefix, "--stop-timeout", "5", "--loglevel", "WARNING"),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=args.seconds + 120,
            check=False,
        )
        stats_file = Path(f"{prefix}_stats.csv")
        if not stats_file.exists():
            sys.exit(f"locust did not run ({result.returncode}):\n{result.stderr[-3000:]}")
        with stats_file.open(newline="") as handle:
            stats = list(csv.DictReader(handle))
        failures_file = Path(f"{prefix}_failures.csv")
        if failures_file.exists():
            with failures_file.open(newline="") as handle:
                for row in csv.DictReader(handle):
                    print(f"  error: {row['Method']} {row['Name']}: {row['Error']} ({row['Occurrences']}x)")
    return stats


def report(stats: list[dict[str, str]]) -> None:
    def ms(value: str) -> str:
        return f"{float(value):7.0f} ms" if value not in ("", "N/A") else "      - ms"

    print(f"{'page':28s} {'requests':>8s} {'errors':>6s} {'p50':>10s} {'p95':>10s} {'p99':>10s}")
    for row in stats:
        name = "all pages" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"{name:28s} {row['Request Count']:>8s} {row['Failure Count']:>6s} "
            f"{ms(row['50%'])} {ms(row['95%'])} {ms(row['99%'])}"
        )
    total = next(row for row in stats if row["Name"] == "Aggregated")
    print(f"requests per second (all pages): {float(total['Requests/s']):.1f}")


if __name__ == "__main__":
    sys.exit(main())
