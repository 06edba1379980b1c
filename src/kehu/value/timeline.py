"""The value domain on the customer's 360 timeline (sources of :mod:`kehu.customers.timeline`,
registered by :mod:`kehu.value.registrations`): purchases and returns, and the latest score."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.customers.timeline import TimelineEntry, bounded
from kehu.value.tables import CustomerScore, Transaction, ValueRun


def purchase_entries(
    session: Session,
    customer_id: int,
    principal: Principal,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> Iterable[TimelineEntry]:
    """Purchases and returns (``transactions``): part of knowing the customer, so
    ``customers:read`` (checked by the service) is enough."""
    statement = bounded(
        select(Transaction).where(Transaction.customer_id == customer_id),
        Transaction.occurred_at,
        since,
        until,
    )
    rows = session.scalars(
        statement.order_by(Transaction.occurred_at.desc(), Transaction.id.desc()).limit(limit)
    )
    for row in rows:
        is_return = row.amount_minor < 0
        yield TimelineEntry(
            at=row.occurred_at,
            kind="return" if is_return else "purchase",
            title="Return" if is_return else "Purchase",
            detail={
                "transaction_id": row.id,
                "external_id": row.external_id,
                "amount_minor": row.amount_minor,
                "cost_minor": row.cost_minor,
                "currency": row.currency,
            },
            ref=f"transaction:{row.id:012d}",
        )


def value_score_entries(
    session: Session,
    customer_id: int,
    principal: Principal,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> Iterable[TimelineEntry]:
    """The latest value score (needs ``value:read``), dated when its value run finished."""
    if not principal.can("value:read"):
        return
    found = session.execute(
        select(CustomerScore, ValueRun)
        .join(ValueRun, ValueRun.id == CustomerScore.run_id)
        .where(CustomerScore.customer_id == customer_id)
    ).first()
    if found is None:
        return
    score, run = found
    at = run.finished_at or run.started_at
    if (since is not None and at < since) or (until is not None and at > until):
        return
    yield TimelineEntry(
        at=at,
        kind="value_score",
        title="Value scored",
        detail={
            "run_id": run.id,
            "value_tier": score.value_tier,
            "clv_minor": score.clv_minor,
            "probability_alive": score.probability_alive,
            "rfm_segment": score.rfm_segment,
            "total_spend_minor": score.total_spend_minor,
            "profit_minor": score.profit_minor,
            "currency": run.currency,  # of the scores' amounts: the run's
        },
        ref=f"value_run:{run.id}",
    )
