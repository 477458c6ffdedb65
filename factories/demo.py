"""Demo factories for each programme, in proportion to its 2019 size, and a factory user each."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

from betterwork.demo import DEMO_DOMAIN, DemoContext, ProgrammeFacts
from betterwork.models import Programme, Role, User
from factories.models import EnrolmentChange, EnrolmentStatus, Factory, FactoryType, Ownership, Sector
from factories.services import make_public_id

NAME_PARTS = (
    (
        "Golden",
        "Silver",
        "Lotus",
        "Pacific",
        "Sunrise",
        "Evergreen",
        "Harbour",
        "Royal",
        "Star",
        "Jade",
        "Crystal",
        "Horizon",
        "Unity",
        "Prosper",
        "Orchid",
        "Delta",
        "Summit",
        "Bright",
        "Oasis",
        "Phoenix",
    ),
    (
        "Garment",
        "Apparel",
        "Textile",
        "Fashion",
        "Knitwear",
        "Footwear",
        "Sportswear",
        "Denim",
        "Bags",
        "Clothing",
    ),
    ("Co., Ltd.", "Manufacturing", "Industries", "Factory", "Enterprise", "International", "Group"),
)
GROUPS = ("Pacific Textile Holdings", "Evergreen Group", "Lotus Apparel Group", "Summit Garments", "")
BRANDS = (
    "Northwind Apparel",
    "Blue Harbour Outfitters",
    "Meridian Sports",
    "Fjord & Pine",
    "Atlas Denim Co.",
)
OWNER_COUNTRIES = ("Taiwan", "China", "Korea", "Hong Kong", "Singapore", "United States")

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


def seed(ctx: DemoContext) -> Iterator[str]:
    for code, (facts, programme) in ctx.programmes.items():
        target = max(3, round(facts.factories_2019 * ctx.scale))
        created = _factories(programme, facts, target, ctx.rng(code))
        _factory_user(ctx, programme, facts)
        yield f"{code}: {created} factories created, {target} in the demo"


def _factories(programme: Programme, facts: ProgrammeFacts, target: int, rng: random.Random) -> int:
    existing = set(
        Factory.objects.filter(programme=programme, legacy_id__startswith="DEMO-").values_list(
            "legacy_id", flat=True
        )
    )
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    new: list[Factory] = []
    for n in range(1, target + 1):
        # Draw every factory's figures even when it exists, so a top-up gives the same data.
        values = _factory_values(facts, rng)
        legacy_id = f"DEMO-{facts.code}-{n:04d}"
        if legacy_id in existing:
            continue
        programme.last_factory_number += 1
        public_id = make_public_id(programme.code, programme.last_factory_number)
        new.append(Factory(programme=programme, legacy_id=legacy_id, public_id=public_id, **values))
    Factory.objects.bulk_create(new)
    programme.save(update_fields=["last_factory_number"])
    EnrolmentChange.objects.bulk_create(
        EnrolmentChange(programme=programme, factory=f, status=f.enrolment_status, on=f.status_changed_on)
        for f in new
    )
    return len(new)


def _factory_values(facts: ProgrammeFacts, rng: random.Random) -> dict[str, Any]:
    workers = max(60, int(rng.lognormvariate(0, 0.6) * facts.workers_per_factory * 0.85))
    women = round(workers * min(0.95, max(0.3, rng.gauss(facts.share_women, 0.08))))
    status = weighted(rng, STATUS_WEIGHTS)
    since = date(rng.randint(max(facts.started, 2009), 2019), rng.randint(1, 12), rng.randint(1, 28))
    ownership = rng.choice(list(Ownership))
    migrants = round(workers * facts.share_migrant * rng.uniform(0.8, 1.1)) if facts.share_migrant else 0
    region = rng.choice(facts.regions)
    return {
        "name": " ".join(rng.choice(part) for part in NAME_PARTS),
        "address": f"{rng.randint(1, 400)} Industrial Road, {region}",
        "region": region,
        "sector": weighted(rng, SECTOR_WEIGHTS),
        "factory_type": FactoryType.SUBCONTRACTOR if rng.random() < 0.15 else FactoryType.DIRECT_EXPORTER,
        "ownership": ownership,
        "ownership_country": "" if ownership == Ownership.DOMESTIC else rng.choice(OWNER_COUNTRIES),
        "manufacturing_group": rng.choice(GROUPS),
        "workers_female": women,
        "workers_male": workers - women,
        "workers_migrant": min(migrants, workers),
        "union_present": rng.random() < 0.45,
        "enrolment_status": status,
        "enrolled_on": None if status == EnrolmentStatus.REGISTERED else since,
        "status_changed_on": since,
        "buyers_supplied": "\n".join(rng.sample(BRANDS, rng.randint(1, 3))),
    }


def _factory_user(ctx: DemoContext, programme: Programme, facts: ProgrammeFacts) -> None:
    """The programme's advisor is designated to its first factories; the first gets an HR manager."""
    advisor = User.objects.get(email=f"advisor.{facts.code.lower()}@{DEMO_DOMAIN}")
    first_factories = list(Factory.objects.filter(programme=programme).order_by("public_id")[:12])
    Factory.objects.filter(pk__in=[f.pk for f in first_factories], designated_advisor__isnull=True).update(
        designated_advisor=advisor
    )
    first = first_factories[0]
    # The factory's HR manager reads the platform in the country's language.
    user = ctx.user(
        f"factory.{facts.code.lower()}@{DEMO_DOMAIN}", f"HR Manager, {first.name}", programme.main_language
    )
    ctx.grant(user, Role.FACTORY, programme=programme, factory=first, defaults={"is_admin": True})
    ctx.login(user, Role.FACTORY.label, f"{first.name} ({first.public_id})")
