"""The feedback domain's events (:mod:`kehu.core.events`), published in the transaction of the
change: closing the loop (a detractor's follow-up, a recovery ticket) subscribes to them."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent

__all__ = ["SurveyResponseSubmitted"]


@dataclass(frozen=True, kw_only=True)
class SurveyResponseSubmitted(DomainEvent):
    """Response ``response_id`` to survey ``survey_id`` was submitted (recorded through kehu;
    imported past responses publish nothing), by ``customer_id`` about ``ticket_id`` when
    known."""

    response_id: int
    survey_id: int
    customer_id: int | None
    ticket_id: int | None
