"""Demo buyers: six brands with subscriptions across programmes, consent mostly granted, the
programmes' price bands, partners' prepaid credits in their first programme (their subscriptions
there paid with them), and the demo buyer's sign-in (Northwind reads at least three factories'
published reports). Idempotent: a buyer that already holds subscriptions is left as it is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from assessments.models import Assessment, AssessmentStatus
from betterwork.demo import DEMO_DOMAIN, DemoContext
from betterwork.models import Programme, Role
from buyers import prices, services
from buyers.models import (
    Buyer,
    BuyerKind,
    Consent,
    ConsentChange,
    CreditPurchase,
    PaidBy,
    Subscription,
    SubscriptionStatus,
)
from factories.demo import BRANDS

# name, kind, headquarters, the programmes it sources from (the first is the demo sign-in's buyer).
DEMO_BUYERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (BRANDS[0], BuyerKind.PARTICIPANT, "United Kingdom", ("KH", "VN", "BD")),
    (BRANDS[1], BuyerKind.PARTNER, "United States", ("VN", "ID", "JO")),
    (BRANDS[2], BuyerKind.PARTNER, "Germany", ("KH", "VN", "BD", "ET")),
    (BRANDS[3], BuyerKind.PARTICIPANT, "Sweden", ("BD", "HT")),
    (BRANDS[4], BuyerKind.PARTICIPANT, "United States", ("JO", "NI", "HT")),
    ("Maison Lumière", BuyerKind.PARTICIPANT, "France", ("HT", "KH")),
)
# Of every eight subscriptions: five active, one requested, one expired, one cancelled.
PATTERN = ("active", "active", "requested", "active", "expired", "active", "cancelled", "active")
DONE = (AssessmentStatus.FINAL, AssessmentStatus.PUBLISHED)
PARTNER_CREDITS = 10


def seed(ctx: DemoContext) -> Iterator[str]:
    for _facts, programme in ctx.programmes.values():
        prices.price_bands_set(actor=None, programme=programme, bands=prices.DEFAULT_BANDS, currency="USD")
    yield f"buyers: price bands in {len(ctx.programmes)} programmes"

    for index, (name, kind, country, codes) in enumerate(DEMO_BUYERS):
        buyer, created = Buyer.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "headquarters_country": country,
                "contact_name": f"Sourcing team, {name}",
                "contact_email": f"sourcing@{name.split()[0].lower().strip('&.')}.example",
            },
        )
        if Subscription.objects.filter(buyer=buyer).exists():
            yield f"buyers: {buyer.name} exists"
            continue
        count = 0
        for code in codes:
            if code in ctx.programmes:
                count += _subscribe(
                    ctx,
                    buyer,
                    ctx.programmes[code][1],
                    demo_reader=index == 0 and code == codes[0],
                    prepaid=kind == BuyerKind.PARTNER and code == codes[0],
                )
        yield f"buyers: {buyer.name} {'created' if created else 'completed'} with {count} subscriptions"

    northwind = Buyer.objects.get(name=BRANDS[0])
    user = ctx.user(f"buyer@{DEMO_DOMAIN}", "Sourcing Manager, Northwind")
    ctx.grant(user, Role.BUYER, buyer=northwind, defaults={"is_admin": True})
    ctx.login(user, Role.BUYER.label, northwind.name)


def _latest_done(programme: Programme) -> list[Assessment]:
    """Each factory's latest final or published assessment, published ones first."""
    latest: dict[int, Assessment] = {}
    for assessment in (
        Assessment.objects.filter(programme=programme, status__in=DONE)
        .select_related("factory")
        .order_by("factory_id", "-cycle")
    ):
        latest.setdefault(assessment.factory_id, assessment)
    return sorted(
        latest.values(), key=lambda a: (a.status != AssessmentStatus.PUBLISHED, a.factory.public_id)
    )


def _subscribe(
    ctx: DemoContext, buyer: Buyer, programme: Programme, *, demo_reader: bool, prepaid: bool
) -> int:
    rng = ctx.rng("buyers", buyer.name, programme.code)
    candidates = _latest_done(programme)
    if not candidates:
        return 0
    wanted = min(len(candidates), rng.randint(4, 9))
    # The demo sign-in's buyer takes published reports first, so it has something to read.
    chosen = candidates[:wanted] if demo_reader else rng.sample(candidates, wanted)
    today = programme.today()
    bands = sorted(prices.DEFAULT_BANDS)
    purchase = None
    if prepaid:  # a partner paid a year's credits up front, at the price of its band
        purchase = CreditPurchase.objects.create(
            programme=programme,
            buyer=buyer,
            credits=PARTNER_CREDITS,
            amount=PARTNER_CREDITS * bands[0][1],
            currency="USD",
            purchased_on=today - dt.timedelta(days=220),
            reference=f"PO-{programme.code}-{rng.randint(1000, 9999)}",
        )
    for number, assessment in enumerate(chosen):
        status = (
            "active" if demo_reader and number < 3 else PATTERN[(number + rng.randint(0, 7)) % len(PATTERN)]
        )
        price = next(p for step, p in reversed(bands) if step <= number + 1)
        starts_on, ends_on = _period(status, today, rng.randint(20, 200))
        by_credit = purchase is not None and status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRED)
        Subscription.objects.create(
            paid_by=PaidBy.CREDIT if by_credit else PaidBy.INVOICE,
            credit_purchase=purchase if by_credit else None,
            programme=programme,
            buyer=buyer,
            factory=assessment.factory,
            cycle=assessment.cycle,
            status=status,
            starts_on=starts_on,
            ends_on=ends_on,
            price=price,
            currency="USD",
        )
        revoked = not (demo_reader and number < 3) and rng.random() < 0.2
        if status != "requested":
            _consent(programme, assessment, buyer, granted=not revoked)
        if demo_reader and number < 3 and assessment.status != AssessmentStatus.PUBLISHED:
            assessment.status = AssessmentStatus.PUBLISHED
            assessment.published_at = timezone.now()
            assessment.save(update_fields=["status", "published_at"])
        services.access_rebuild(buyer=buyer, factory=assessment.factory)
    return len(chosen)


def _period(status: str, today: dt.date, days_in: int) -> tuple[dt.date | None, dt.date | None]:
    if status == SubscriptionStatus.REQUESTED:
        return None, None
    if status == SubscriptionStatus.EXPIRED:
        ended = today - dt.timedelta(days=days_in)
        return ended - dt.timedelta(days=364), ended
    starts_on = today - dt.timedelta(days=days_in)
    return starts_on, starts_on + dt.timedelta(days=364)


def _consent(programme: Programme, assessment: Assessment, buyer: Buyer, *, granted: bool) -> None:
    consent = Consent.objects.create(
        programme=programme, factory=assessment.factory, buyer=buyer, granted=granted
    )
    ConsentChange.objects.create(programme=programme, consent=consent, granted=True, note="Demo: shared.")
    if not granted:
        ConsentChange.objects.create(
            programme=programme, consent=consent, granted=False, note="Demo: withdrawn."
        )
