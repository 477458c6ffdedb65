"""Buyers' statements as report jobs: one job per buyer, programme, year and language.

A statement spans programmes, but report jobs are tenant rows. So the PDF is cut per programme
(each programme prices and invoices its own subscriptions): the job's programme is that
programme, the worker renders it in that programme's scope only, and row-level security guards
the job and everything it reads like any other report. The target id packs buyer, programme and
year (``statement_target_id``). The buyer reads its jobs through ``buyers.statement_selectors
.buyer_books``, the programmes where it holds subscriptions, and only its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.http import Http404

from betterwork import permissions, tenancy
from betterwork.models import Programme
from betterwork.permissions import Principal
from buyers import statement_selectors
from buyers.credits import credits_left_by_programme
from buyers.models import Buyer, CreditPurchase, Subscription
from reporting.models import ReportJob

KIND_NAME = "buyer_statement"
_PROGRAMME_SLOTS = 10_000
_YEAR_SLOTS = 10_000


def statement_target_id(*, buyer_id: int, programme_id: int, year: int) -> int:
    if not (0 < programme_id < _PROGRAMME_SLOTS and 0 < year < _YEAR_SLOTS and buyer_id > 0):
        raise ValueError("statement target out of range")
    return (buyer_id * _PROGRAMME_SLOTS + programme_id) * _YEAR_SLOTS + year


def statement_target_parts(target_id: int) -> tuple[int, int, int]:
    rest, year = divmod(target_id, _YEAR_SLOTS)
    buyer_id, programme_id = divmod(rest, _PROGRAMME_SLOTS)
    return buyer_id, programme_id, year


@dataclass(frozen=True)
class BuyerStatement:
    buyer: Buyer
    programme: Programme
    year: int

    @property
    def pk(self) -> int:
        return statement_target_id(buyer_id=self.buyer.pk, programme_id=self.programme.pk, year=self.year)

    @property
    def programme_id(self) -> int:
        return self.programme.pk


def load_statement(target_id: int) -> BuyerStatement:
    """The statement, if its programme is in the current scope; else 404."""
    buyer_id, programme_id, year = statement_target_parts(target_id)
    if programme_id not in tenancy.require_scope():
        raise Http404
    buyer = Buyer.objects.filter(pk=buyer_id).first()
    programme = Programme.objects.filter(pk=programme_id).first()
    if buyer is None or programme is None or not 2000 <= year <= 2999:
        raise Http404
    return BuyerStatement(buyer=buyer, programme=programme, year=year)


def may_read_statement(principal: Principal, target: BuyerStatement) -> bool:
    return target.buyer.pk in principal.buyer_ids() or permissions.can_manage_programme_users(
        principal, target.programme_id
    )


def statement_context(target: BuyerStatement) -> dict[str, Any]:
    context = statement_selectors.statement(buyer=target.buyer, year=target.year, programme=target.programme)
    return {
        **context,
        "programme": target.programme,
        "report_id": f"{target.programme.code}-{target.year}-B{target.buyer.pk}",
    }


def statement_snapshot(target: BuyerStatement) -> dict[str, Any]:
    return _snapshot(
        target,
        list(
            statement_selectors.year_subscriptions(
                buyer=target.buyer, year=target.year, programme=target.programme
            )
        ),
        list(
            statement_selectors.year_purchases(
                buyer=target.buyer, year=target.year, programme=target.programme
            )
        ),
        credits_left_by_programme(buyer=target.buyer, programme_ids=[target.programme.pk])[
            target.programme.pk
        ],
    )


def statement_snapshots(*, buyer: Buyer, year: int, programmes: list[Programme]) -> dict[int, dict[str, Any]]:
    """``statement_snapshot`` of the buyer's statement in each programme (by programme id), with
    its subscriptions and purchases of the year read once for all programmes."""
    subscriptions: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in statement_selectors.year_subscriptions(buyer=buyer, year=year):
        subscriptions[subscription.programme_id].append(subscription)
    purchases: dict[int, list[CreditPurchase]] = defaultdict(list)
    for purchase in statement_selectors.year_purchases(buyer=buyer, year=year):
        purchases[purchase.programme_id].append(purchase)
    left = credits_left_by_programme(buyer=buyer, programme_ids=[p.pk for p in programmes])
    return {
        programme.pk: _snapshot(
            BuyerStatement(buyer=buyer, programme=programme, year=year),
            subscriptions[programme.pk],
            purchases[programme.pk],
            left[programme.pk],
        )
        for programme in programmes
    }


def _snapshot(
    target: BuyerStatement, rows: list[Subscription], purchases: list[CreditPurchase], credits_left: int
) -> dict[str, Any]:
    """Everything the statement shows, from its subscription and purchase rows (in the order the
    buyers' statement selectors give them)."""
    return {
        "buyer": [target.buyer.pk, target.buyer.name],
        "programme": [target.programme.code, target.programme.name],
        "year": target.year,
        "subscriptions": [
            [s.pk, s.factory.public_id, s.factory.name, s.cycle, s.status, str(s.price), s.currency]
            + [str(s.starts_on), str(s.ends_on)]
            for s in rows
        ],
        "paid_by": [[s.pk, s.paid_by, s.credit_purchase_id] for s in rows],
        "credits": [
            [p.pk, p.credits, str(p.amount), p.currency, str(p.purchased_on), p.reference] for p in purchases
        ],
        "credits_left": credits_left,
    }


# --- What the buyer's statement pages read ----------------------------------------------------


def statement_programmes(*, buyer: Buyer, year: int) -> list[Programme]:
    """Programmes with something on the buyer's statement of this year (inside ``buyer_books``)."""
    ids = set(
        statement_selectors.year_subscriptions(buyer=buyer, year=year).values_list("programme_id", flat=True)
    )
    return list(Programme.objects.filter(pk__in=ids).order_by("code"))


def access_statement_job(
    *, principal: Principal, buyer: Buyer, year: int, job_id: int
) -> tuple[Any, Any, ReportJob]:
    """A statement job of this buyer and year the principal may read (inside ``buyer_books``), or 404."""
    from reporting.kinds import KINDS

    kind = KINDS[KIND_NAME]
    job = ReportJob.objects.filter(pk=job_id, kind=KIND_NAME).first()
    if job is None:
        raise Http404
    target = kind.load(job.target_id)
    if target.buyer.pk != buyer.pk or target.year != year or not kind.may_read(principal, target):
        raise Http404
    return kind, target, job
