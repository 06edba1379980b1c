"""The value domain's read use cases that other domains and the front doors call (they import no
``kehu.value.tables``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.value.tables import CustomerScore

__all__ = ["value_tier_of"]


def value_tier_of(session: Session, customer_id: int) -> str | None:
    """The customer's value tier from the latest value run (``None``: not scored yet)."""
    return session.scalar(
        select(CustomerScore.value_tier).where(CustomerScore.customer_id == customer_id)
    )
