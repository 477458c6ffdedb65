"""Creates the demo: the eight country programmes, their staff, and each app's own demo data.

Each app that has demo data keeps it in ``<app>/demo.py`` with a ``seed(ctx)`` function; they
run in INSTALLED_APPS order, which follows the import arrows, so an app's seeder may rely on the
data of the apps below it. Idempotent: running it again creates nothing twice.
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import date
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from betterwork import tenancy
from betterwork.demo import DEFAULT_SCALE, DEMO_DOMAIN, DEMO_PASSWORD, PROGRAMMES, DemoContext, ProgrammeFacts
from betterwork.models import Programme, Role


class Command(BaseCommand):
    help = "Create the demo programmes, users and data (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="Create the full 2019 size (1,588 factories)."
        )
        parser.add_argument("--seed", type=int, default=2019, help="Random seed for reproducible data.")

    def handle(self, *args: Any, full: bool, seed: int, **options: Any) -> None:
        programmes = {facts.code: (facts, self._programme(facts)) for facts in PROGRAMMES}
        ctx = DemoContext(programmes=programmes, scale=1.0 if full else DEFAULT_SCALE, seed=seed)
        with tenancy.scope(p.pk for _, p in programmes.values()), transaction.atomic():
            self._staff(ctx)
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if config.name == "betterwork" or importlib.util.find_spec(module_name) is None:
                    continue
                for line in importlib.import_module(module_name).seed(ctx):
                    self.stdout.write(line)
        self._print_logins(ctx.logins)

    def _programme(self, facts: ProgrammeFacts) -> Programme:
        programme, _ = Programme.objects.update_or_create(
            code=facts.code,
            defaults={
                "name": facts.name,
                "country": facts.country,
                "languages": list(facts.languages),
                "time_zone": facts.time_zone,
                "currency": facts.currency,
                "started_on": date(facts.started, 1, 1),
            },
        )
        return programme

    def _staff(self, ctx: DemoContext) -> None:
        for code, (facts, programme) in ctx.programmes.items():
            language = "ar" if "ar" in facts.languages else "en"
            for role, prefix, title in (
                (Role.PROGRAMME_MANAGER, "manager", "Programme Manager"),
                (Role.TEAM_LEADER, "teamleader", "Team Leader"),
                (Role.ADVISOR, "advisor", "Enterprise Advisor"),
            ):
                user = ctx.user(
                    f"{prefix}.{code.lower()}@{DEMO_DOMAIN}", f"{facts.country} {title}", language
                )
                ctx.grant(user, role, programme=programme)
                ctx.login(user, role.label, programme.name)
        staff = ctx.user(f"global@{DEMO_DOMAIN}", "Global Team Analyst")
        ctx.grant(staff, Role.GLOBAL, programme=None)
        ctx.login(staff, Role.GLOBAL.label, "all programmes")

    def _print_logins(self, logins: list[tuple[str, str, str]]) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        width = max(len(email) for email, _, _ in logins)
        for email, role, where in logins:
            self.stdout.write(f"  {email.ljust(width)}  {role} · {where}")
