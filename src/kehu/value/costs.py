"""Cost-to-serve, the value domain's record of what serving a customer cost (the desk's handling
time priced at the handling rate, later more sources): one row per costed action, idempotent by
``source``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.money import Money
from kehu.value.tables import CostToServe

__all__ = ["record_cost_to_serve"]


def record_cost_to_serve(
    session: Session, *, customer_id: int, cost: Money, source: str, recorded_at: datetime
) -> int | None:
    """Record ``cost`` of ``source`` (e.g. ``ticket_event:12``) for ``customer_id`` in the
    caller's transaction; returns the row id, ``None`` for a zero cost. Recording the same source
    again adds nothing (returns the existing row's id)."""
    if cost.minor == 0:
        return None
    existing = session.scalar(select(CostToServe.id).where(CostToServe.source == source))
    if existing is not None:
        return existing
    row = CostToServe(
        customer_id=customer_id,
        amount_minor=cost.minor,
        currency=cost.currency,
        source=source,
        recorded_at=recorded_at,
    )
    session.add(row)
    session.flush()
    return row.id
