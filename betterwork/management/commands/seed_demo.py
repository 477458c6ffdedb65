"""Creates the demo: eight country programmes, their factories and a user for every role.

Idempotent: running it again creates nothing twice (demo factories carry a DEMO- legacy id,
users are looked up by e-mail) and tops up what is missing.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from betterwork import tenancy
from betterwork.demo_data import BUYERS, DEFAULT_SCALE, GROUPS, NAME_PARTS, PROGRAMMES, ProgrammeFacts
from betterwork.models import Programme, Role, RoleGrant, User
from buyers.models import Buyer
from factories.models import EnrolmentChange, EnrolmentStatus, Factory, FactoryType, Ownership, Sector
from factories.services import make_public_id

DEMO_PASSWORD = "betterwork-demo"  # noqa: S105 - printed for the demo's sign-in, never used in production
DEMO_DOMAIN = "demo.betterwork.org"

STATUS_WEIGHTS = (
    (EnrolmentStatus.ACTIVE, 78),
    (EnrolmentStatus.INITIAL_ADVISORY, 8),
    (EnrolmentStatus.REGISTERED, 6),
    (EnrolmentStatus.SUSPENDED, 3),
    (EnrolmentStatus.WITHDRAWN, 5),
)
SECTOR_WEIGHTS = ((Sector.GARMENT, 85), (Sector.FOOTWEAR, 8), (Sector.TRAVEL_GOODS, 5), (Sector.OTHER, 2))


def weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class Command(BaseCommand):
    help = "Create the demo programmes, factories and users (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="Create the full 2019 size (1,588 factories)."
        )
        parser.add_argument("--seed", type=int, default=2019, help="Random seed for reproducible data.")

    def handle(self, *args: Any, full: bool, seed: int, **options: Any) -> None:
        scale = 1.0 if full else DEFAULT_SCALE
        self._password_hash = make_password(DEMO_PASSWORD)
        programmes = [self._programme(facts) for facts in PROGRAMMES]
        logins: list[tuple[str, str, str]] = []
        with tenancy.scope(p.pk for p in programmes), transaction.atomic():
            for facts, programme in zip(PROGRAMMES, programmes, strict=True):
                rng = random.Random(f"{seed}-{facts.code}")
                target = max(3, round(facts.factories_2019 * scale))
                created = self._factories(programme, facts, target, rng)
                logins += self._programme_users(programme, facts)
                self.stdout.write(f"{facts.code}: {created} factories created ({target} in the demo)")
            logins += self._global_users()
        self._print_logins(logins)

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

    def _factories(self, programme: Programme, facts: ProgrammeFacts, target: int, rng: random.Random) -> int:
        existing = set(
            Factory.objects.filter(programme=programme, legacy_id__startswith="DEMO-").values_list(
                "legacy_id", flat=True
            )
        )
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        new: list[Factory] = []
        for n in range(1, target + 1):
            legacy_id = f"DEMO-{facts.code}-{n:04d}"
            # Draw every factory's figures even when it exists, so a top-up gives the same data.
            values = self._factory_values(facts, rng)
            if legacy_id in existing:
                continue
            programme.last_factory_number += 1
            new.append(
                Factory(
                    programme=programme,
                    legacy_id=legacy_id,
                    public_id=make_public_id(programme.code, programme.last_factory_number),
                    **values,
                )
            )
        Factory.objects.bulk_create(new)
        programme.save(update_fields=["last_factory_number"])
        EnrolmentChange.objects.bulk_create(
            EnrolmentChange(programme=programme, factory=f, status=f.enrolment_status, on=f.status_changed_on)
            for f in new
        )
        return len(new)

    def _factory_values(self, facts: ProgrammeFacts, rng: random.Random) -> dict[str, Any]:
        workers = max(60, int(rng.lognormvariate(0, 0.6) * facts.workers_per_factory * 0.85))
        women = round(workers * min(0.95, max(0.3, rng.gauss(facts.share_women, 0.08))))
        status = weighted(rng, STATUS_WEIGHTS)
        enrolled = date(rng.randint(max(facts.started, 2009), 2019), rng.randint(1, 12), rng.randint(1, 28))
        ownership = rng.choice(list(Ownership))
        return {
            "name": " ".join(rng.choice(part) for part in NAME_PARTS),
            "address": f"{rng.randint(1, 400)} Industrial Road, {rng.choice(facts.regions)}",
            "region": rng.choice(facts.regions),
            "sector": weighted(rng, SECTOR_WEIGHTS),
            "factory_type": FactoryType.SUBCONTRACTOR if rng.random() < 0.15 else FactoryType.DIRECT_EXPORTER,
            "ownership": ownership,
            "ownership_country": ""
            if ownership == Ownership.DOMESTIC
            else rng.choice(["Taiwan", "China", "Korea", "Hong Kong", "Singapore", "United States"]),
            "manufacturing_group": rng.choice(GROUPS),
            "workers_female": women,
            "workers_male": workers - women,
            "workers_migrant": round(workers * facts.share_migrant * rng.uniform(0.8, 1.1))
            if facts.share_migrant
            else 0,
            "union_present": rng.random() < 0.45,
            "enrolment_status": status,
            "enrolled_on": None if status == EnrolmentStatus.REGISTERED else enrolled,
            "status_changed_on": enrolled,
            "buyers_supplied": "\n".join(rng.sample(BUYERS, rng.randint(1, 3))),
        }

    def _user(self, email: str, full_name: str, language: str = "en") -> User:
        user, created = User.objects.get_or_create(
            email=email, defaults={"full_name": full_name, "language": language}
        )
        if created:
            # Hash once for all demo users: each hash costs a deliberate half second.
            user.password = self._password_hash
            user.save(update_fields=["password"])
        return user

    def _grant(self, user: User, role: str, **where: Any) -> None:
        RoleGrant.objects.get_or_create(user=user, role=role, **where)

    def _programme_users(self, programme: Programme, facts: ProgrammeFacts) -> list[tuple[str, str, str]]:
        code = facts.code.lower()
        language = "ar" if "ar" in facts.languages else "en"
        manager = self._user(f"manager.{code}@{DEMO_DOMAIN}", f"{facts.country} Programme Manager", language)
        leader = self._user(f"teamleader.{code}@{DEMO_DOMAIN}", f"{facts.country} Team Leader", language)
        advisor = self._user(f"advisor.{code}@{DEMO_DOMAIN}", f"{facts.country} Enterprise Advisor", language)
        self._grant(manager, Role.PROGRAMME_MANAGER, programme=programme)
        self._grant(leader, Role.TEAM_LEADER, programme=programme)
        self._grant(advisor, Role.ADVISOR, programme=programme)
        factories = list(Factory.objects.filter(programme=programme).order_by("public_id")[:12])
        for factory in factories:
            if factory.designated_advisor_id is None:
                factory.designated_advisor = advisor
                factory.save(update_fields=["designated_advisor"])
        first = factories[0]
        factory_user = self._user(f"factory.{code}@{DEMO_DOMAIN}", f"HR Manager, {first.name}", language)
        self._grant(
            factory_user, Role.FACTORY, programme=programme, factory=first, defaults={"is_admin": True}
        )
        return [
            (manager.email, Role.PROGRAMME_MANAGER.label, programme.name),
            (leader.email, Role.TEAM_LEADER.label, programme.name),
            (advisor.email, Role.ADVISOR.label, programme.name),
            (factory_user.email, Role.FACTORY.label, f"{first.name} ({first.public_id})"),
        ]

    def _global_users(self) -> list[tuple[str, str, str]]:
        staff = self._user(f"global@{DEMO_DOMAIN}", "Global Team Analyst")
        self._grant(staff, Role.GLOBAL, programme=None)
        buyer, _ = Buyer.objects.get_or_create(
            name=BUYERS[0], defaults={"headquarters_country": "United Kingdom"}
        )
        buyer_user = self._user(f"buyer@{DEMO_DOMAIN}", "Sourcing Manager, Northwind")
        self._grant(buyer_user, Role.BUYER, buyer=buyer, defaults={"is_admin": True})
        return [
            (staff.email, Role.GLOBAL.label, "all programmes"),
            (buyer_user.email, Role.BUYER.label, buyer.name),
        ]

    def _print_logins(self, logins: list[tuple[str, str, str]]) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        width = max(len(e) for e, _, _ in logins)
        for email, role, where in logins:
            self.stdout.write(f"  {email.ljust(width)}  {role} · {where}")
