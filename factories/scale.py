"""The scale data set's factories: the demo's names, regions, sectors and workforces, each
factory enrolled before the data set's first cycle (``manage.py seed_scale``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from psycopg2 import sql

from betterwork.models import Programme
from betterwork.scale import ScaleContext
from factories.demo import _factory_values, weighted
from factories.models import EnrolmentChange, EnrolmentStatus, Factory
from factories.services import make_public_id

MODELS = [Factory, EnrolmentChange]
LEGACY_PREFIX = "SCALE-"
# Factories assessed in every cycle are enrolled: active, a few suspended since their last visit.
STATUS_WEIGHTS = ((EnrolmentStatus.ACTIVE, 96), (EnrolmentStatus.SUSPENDED, 4))


@dataclass(frozen=True)
class ScaleFactory:
    id: int
    programme_id: int
    designated_advisor_id: int
    union_present: bool


def loaded_factories(ctx: ScaleContext) -> list[ScaleFactory]:
    """The factories loaded by ``load``, in id order (grouped by programme)."""
    return cast(list[ScaleFactory], ctx.shared["factories"])


def load(ctx: ScaleContext) -> Iterator[str]:
    loader = ctx.loader
    first = loader.first_id(Factory)
    made: list[ScaleFactory] = []
    changes: list[dict[str, Any]] = []

    def factories() -> Iterator[dict[str, Any]]:
        pk = first
        for scale in ctx.programmes:
            rng = ctx.rng("factories", scale.code)
            for n in range(1, ctx.size.factories + 1):
                values = _factory_values(scale.facts, rng)
                status = weighted(rng, STATUS_WEIGHTS)
                enrolled = min(values["status_changed_on"], ctx.history_start)
                changed = (
                    ctx.today - timedelta(days=rng.randint(20, 300))
                    if status == EnrolmentStatus.SUSPENDED
                    else enrolled
                )
                advisor = scale.advisor_ids[(n - 1) % len(scale.advisor_ids)]
                values.update(enrolment_status=status, enrolled_on=enrolled, status_changed_on=changed)
                made.append(ScaleFactory(pk, scale.programme.pk, advisor, values["union_present"]))
                changes.append(_change(pk, scale.programme.pk, EnrolmentStatus.ACTIVE, enrolled))
                if status != EnrolmentStatus.ACTIVE:
                    changes.append(_change(pk, scale.programme.pk, status, changed))
                yield {
                    **values,
                    "id": pk,
                    "programme_id": scale.programme.pk,
                    "public_id": make_public_id(scale.code, n),
                    "legacy_id": f"{LEGACY_PREFIX}{scale.code}-{n:05d}",
                    "designated_advisor_id": advisor,
                }
                pk += 1

    count = loader.copy_rows(Factory, factories())
    yield f"{count:,} factories"
    first_change = loader.first_id(EnrolmentChange)
    for n, change in enumerate(changes):
        change["id"] = first_change + n
    yield f"{loader.copy_rows(EnrolmentChange, changes):,} enrolment changes"
    # Public ids are handed out from the programme's counter: the next registration follows on.
    loader.execute(
        sql.SQL(
            "UPDATE {} SET last_factory_number = GREATEST(last_factory_number, %s) WHERE id = ANY(%s)"
        ).format(sql.Identifier(Programme._meta.db_table)),
        [ctx.size.factories, [scale.programme.pk for scale in ctx.programmes]],
    )
    ctx.shared["factories"] = made


def _change(factory_id: int, programme_id: int, status: str, on: date) -> dict[str, Any]:
    return {"programme_id": programme_id, "factory_id": factory_id, "status": status, "on": on}
