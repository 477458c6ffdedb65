"""Loads the scale data set through COPY: by default ten programmes of 2,000 factories, five
cycles a year apart, 250 questions: about 100,000 assessments and 25 million answers.

Each app with scale data keeps it in ``<app>/scale.py``: ``MODELS`` (the tables it loads), and
optionally ``remove(loader, programmes)`` (what --replace removes besides the programmes' tenant
rows), ``prepare(ctx)`` (writes through the application before the load, such as the tool) and
``load(ctx)`` (COPY through ``ctx.loader``, inside the load's one transaction). They run in
INSTALLED_APPS order, which follows the import arrows. See ``betterwork.scale`` for the loader.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from betterwork import tenancy
from betterwork.demo import DEMO_PASSWORD, DemoContext
from betterwork.models import Programme, Role
from betterwork.scale import (
    SCALE_CODE_PATTERN,
    SCALE_DOMAIN,
    Loader,
    ScaleContext,
    ScaleProgramme,
    ScaleSize,
    add_loader_arguments,
    loader_for_command,
    scale_programmes,
)

# The reporting app's command that recomputes the dashboards' rollups from the answers; named, not
# imported: betterwork imports no app.
ROLLUPS_COMMAND = "rollups_rebuild"
# One enterprise advisor per this many factories (at least two: assessments are done in pairs).
FACTORIES_PER_ADVISOR = 125


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def scale_modules() -> list[ModuleType]:
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.scale"
        if config.name == "betterwork" or importlib.util.find_spec(name) is None:
            continue
        found.append(importlib.import_module(name))
    return found


class Command(BaseCommand):
    help = (
        "Load the scale data set (programmes, factories, assessments, answers, rollups) through COPY, "
        "as the loader role. Refuses tables that already hold rows unless --replace is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--programmes", type=positive, default=10, help="Programmes (default 10).")
        parser.add_argument(
            "--factories", type=positive, default=2000, help="Factories per programme (default 2,000)."
        )
        parser.add_argument(
            "--cycles",
            type=positive,
            default=5,
            help="Assessment cycles per factory, a year apart (default 5).",
        )
        parser.add_argument(
            "--questions",
            type=positive,
            default=250,
            help="Questions in each programme's tool, so answers per assessment (default 250).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for reproducible data.")
        parser.add_argument(
            "--database-name",
            help="Load into this database on the configured server, as the configured role "
            "(create it and run migrate into it first). Default: the configured database.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Remove the scale programmes' data (and their tools) first, then load again.",
        )
        parser.add_argument(
            "--no-rollups",
            dest="rollups",
            action="store_false",
            help=f"Skip the rollups after the load (then run manage.py {ROLLUPS_COMMAND} yourself).",
        )
        add_loader_arguments(parser)

    def handle(
        self,
        *args: Any,
        programmes: int,
        factories: int,
        cycles: int,
        questions: int,
        seed: int,
        database_name: str | None,
        replace: bool,
        rollups: bool,
        loader_url: str | None,
        superuser_url: str | None,
        **options: Any,
    ) -> None:
        started = time.perf_counter()
        if database_name:
            self._use_database(database_name)
        self._check_migrated()
        modules = scale_modules()
        models = [model for module in modules for model in module.MODELS]
        tables = [model._meta.db_table for model in models]
        loader = loader_for_command(loader_url=loader_url, superuser_url=superuser_url)
        size = ScaleSize(programmes, factories, cycles, questions, seed)
        try:
            occupied = loader.occupied(tables)
            if occupied and not replace:
                raise CommandError(
                    f"These tables already hold rows: {', '.join(occupied)}. Run with --replace to "
                    "remove the scale programmes' data first, or load into a database of its own "
                    "(--database-name)."
                )
            removing = time.perf_counter()
            if replace:
                self._remove(loader, modules)
            removed = time.perf_counter() - removing
            ctx = ScaleContext(size=size, loader=loader, today=timezone.localdate())
            self._prepare(ctx, modules)
            self.stdout.write(
                f"Loading {programmes} programmes × {factories:,} factories × {cycles} cycles × "
                f"{questions} questions into {connections['default'].settings_dict['NAME']}"
            )
            with loader.bulk(models):
                for module in modules:
                    for line in getattr(module, "load", _nothing)(ctx):
                        self.stdout.write(f"  {line}")
            loader.analyze(tables)
            loaded = time.perf_counter() - started - removed
            if rollups:
                self._rollups(ctx)
                loader.analyze_changed()
        finally:
            loader.close()
        self._report(loader, tables, loaded, time.perf_counter() - started)
        first = ctx.programmes[0].code.lower()
        self.stdout.write(
            f"Sign in as manager.{first}@{SCALE_DOMAIN} (each programme has its manager, teamleader1, "
            f"advisor01, ...) or global@{SCALE_DOMAIN}, password {DEMO_PASSWORD}."
        )

    def _use_database(self, name: str) -> None:
        connection = connections["default"]
        connection.close()
        connection.settings_dict["NAME"] = name
        try:
            connection.ensure_connection()
        except OperationalError as error:
            raise CommandError(
                f"Cannot connect to the database {name} ({str(error).strip()}). Create it owned by "
                f"{connection.settings_dict['USER']} and run migrate into it first."
            ) from error

    def _check_migrated(self) -> None:
        executor = MigrationExecutor(connections["default"])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            name = connections["default"].settings_dict["NAME"]
            raise CommandError(f"The database {name} has unapplied migrations: run migrate into it first.")

    def _remove(self, loader: Loader, modules: list[ModuleType]) -> None:
        found = loader.programmes(SCALE_CODE_PATTERN)
        start = time.perf_counter()
        with loader.transaction():
            loader.remove_programme_data([pk for pk, _ in found])
            for module in modules:
                if hasattr(module, "remove"):
                    module.remove(loader, found)
        loader.steps.append(("removing the previous scale data", time.perf_counter() - start))
        self.stdout.write(
            f"Removed the data of {len(found)} scale programmes in {time.perf_counter() - start:.1f} s"
        )

    def _prepare(self, ctx: ScaleContext, modules: list[ModuleType]) -> None:
        """Programmes, their staff and what apps write through the application (the tool)."""
        start = time.perf_counter()
        people = DemoContext(programmes={}, scale=1.0, seed=ctx.size.seed)
        advisors = max(2, math.ceil(ctx.size.factories / FACTORIES_PER_ADVISOR))
        with transaction.atomic():
            made = [
                (code, facts, self._programme(code, name, facts))
                for code, name, facts in scale_programmes(ctx.size.programmes)
            ]
            with tenancy.scope(programme.pk for _, _, programme in made):
                for code, facts, programme in made:
                    member = _Staff(people, programme, code, "ar" if "ar" in facts.languages else "en")
                    ctx.programmes.append(
                        ScaleProgramme(
                            code=code,
                            facts=facts,
                            programme=programme,
                            manager_id=member(Role.PROGRAMME_MANAGER, "manager", "Programme Manager"),
                            team_leader_ids=[
                                member(Role.TEAM_LEADER, f"teamleader{n}", f"Team Leader {n}") for n in (1, 2)
                            ],
                            advisor_ids=[
                                member(Role.ADVISOR, f"advisor{n:02d}", f"Enterprise Advisor {n}")
                                for n in range(1, advisors + 1)
                            ],
                        )
                    )
                analyst = people.user(f"global@{SCALE_DOMAIN}", "Scale Global Analyst")
                people.grant(analyst, Role.GLOBAL, programme=None)
                for module in modules:
                    try:
                        for line in getattr(module, "prepare", _nothing)(ctx):
                            self.stdout.write(f"  {line}")
                    except ValidationError as error:
                        raise CommandError(
                            "; ".join(error.messages)
                            + " (run with --replace to load the scale data set anew)"
                        ) from error
        ctx.loader.steps.append(("programmes, staff and tools", time.perf_counter() - start))

    def _rollups(self, ctx: ScaleContext) -> None:
        """The rollups from the loaded answers, through the application (its role, its scope): one
        programme per call, since each is its own transaction over its own rows, as many at once
        as the server has cores."""
        if ROLLUPS_COMMAND not in get_commands():
            self.stdout.write(f"  no {ROLLUPS_COMMAND} command here: no rollups to build")
            return
        start = time.perf_counter()
        codes = [scale.code for scale in ctx.programmes]
        with ThreadPoolExecutor(max_workers=min(len(codes), os.cpu_count() or 1)) as pool:
            outputs = list(pool.map(_rollups_of, codes))
        # The rollups' statistics reach the server's counters when their sessions end (above),
        # so that the loader sees which tables they changed.
        for code, output in zip(codes, outputs, strict=True):
            if isinstance(output, Exception):
                raise CommandError(
                    f"The data set is loaded, but the rollups of {code} failed ({output}); "
                    f"run manage.py {ROLLUPS_COMMAND}."
                ) from output
            for line in output.splitlines():
                self.stdout.write(f"  rollups: {line}")
        ctx.loader.steps.append(("rollups", time.perf_counter() - start))

    def _programme(self, code: str, name: str, facts: Any) -> Programme:
        programme, _ = Programme.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "country": facts.country,
                "languages": list(facts.languages),
                "time_zone": facts.time_zone,
                "currency": facts.currency,
            },
        )
        return programme

    def _report(self, loader: Loader, tables: list[str], loaded: float, wall: float) -> None:
        self.stdout.write("")
        self.stdout.write(f"{'table':<34}{'rows':>14}{'seconds':>10}{'rows/s':>12}")
        total_rows = 0
        copy_seconds = 0.0
        for table in tables:
            load = loader.loads.get(table)
            if load is None:
                continue
            total_rows += load.rows
            copy_seconds += load.seconds
            rate = load.rows / load.seconds if load.seconds else 0.0
            self.stdout.write(f"{table:<34}{load.rows:>14,}{load.seconds:>10.1f}{rate:>12,.0f}")
        self.stdout.write(
            f"{'all tables (writing rows)':<34}{total_rows:>14,}{copy_seconds:>10.1f}"
            f"{total_rows / copy_seconds if copy_seconds else 0:>12,.0f}"
        )
        # Steps per kind (indexes and keys summed over the tables), the slow tables named.
        kinds: dict[str, float] = {}
        slow: dict[str, list[str]] = {}
        for label, seconds in loader.steps:
            kind, _, table = label.partition(" of ")
            kinds[kind] = kinds.get(kind, 0.0) + seconds
            if table and seconds >= 1:
                slow.setdefault(kind, []).append(f"{table} {seconds:.1f} s")
        for kind, seconds in kinds.items():
            named = f" ({', '.join(slow[kind])})" if kind in slow else ""
            self.stdout.write(f"{kind + named:<58}{seconds:>10.1f}")
        self.stdout.write(
            f"Loaded {total_rows:,} rows in {loaded:.1f} s: {total_rows / loaded:,.0f} rows/s overall "
            "(programmes and tools, COPY, indexes, foreign keys, sequences, ANALYZE)."
        )
        self.stdout.write(f"The whole command took {wall:.1f} s (with any removal and the rollups).")


def _rollups_of(code: str) -> str | Exception:
    """One programme's rollups, in a thread of its own (with its own database session)."""
    output = io.StringIO()
    try:
        call_command(ROLLUPS_COMMAND, code, stdout=output)
    except Exception as error:  # reported by the caller, with the programme's code
        return error
    finally:
        connections.close_all()
    return output.getvalue()


def _nothing(ctx: ScaleContext) -> list[str]:
    return []


@dataclass
class _Staff:
    """Makes (or finds) a programme's staff member with the demo's password, and grants the role."""

    people: DemoContext
    programme: Programme
    code: str
    language: str

    def __call__(self, role: str, prefix: str, title: str) -> int:
        user = self.people.user(
            f"{prefix}.{self.code.lower()}@{SCALE_DOMAIN}", f"{self.code} {title}", self.language
        )
        self.people.grant(user, role, programme=self.programme)
        return int(user.pk)
