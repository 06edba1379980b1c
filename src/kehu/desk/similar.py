"""Similar tickets: what an agent should look at before answering a ticket.

A candidate is another ticket, in the caller's scope (:func:`kehu.core.auth.scoped`), that is

- of the same customer, or in the same category (or a category of the same tree: "Billing >
  Refund" is related to "Billing > Invoice"), and
- still open (open or waiting on the customer), or resolved or closed within the last
  ``recent_days`` days.

Tickets merged into another one are left out (their thread lives on in the target). Candidates
are ranked by a small additive score, then newest first::

    same customer 3 · same category 2 · related category 1 · repeat link 1 · same kind 0.5 ·
    still open 0.25

so the customer's own open tickets on the same matter come first, then the same matter for other
customers (known solutions), then the customer's other tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.desk.tables import Ticket, TicketCategory
from kehu.desk.ticket_queries import get_ticket
from kehu.desk.workflow import ACTIVE_CATEGORIES
from kehu.errors import InputError
from kehu.store.base import utc_now

__all__ = ["MAX_LIMIT", "SimilarTicket", "similar_tickets"]

MAX_LIMIT = 100
#: How many of the newest candidates are ranked (the rest are older than anything useful).
CANDIDATE_POOL = 500

WEIGHTS = {
    "same customer": 3.0,
    "same category": 2.0,
    "related category": 1.0,
    "repeat": 1.0,
    "same kind": 0.5,
    "still open": 0.25,
}


@dataclass(frozen=True)
class SimilarTicket:
    ticket: Ticket
    score: float
    reasons: tuple[str, ...]


def _category_family(session: Session, category_id: int | None) -> set[int]:
    """Every category of the tree ``category_id`` belongs to (its root and all descendants)."""
    if category_id is None:
        return set()
    parents: dict[int, int | None] = {
        row[0]: row[1]
        for row in session.execute(select(TicketCategory.id, TicketCategory.parent_id))
    }

    def root_of(node: int) -> int:
        visited: set[int] = set()
        parent = parents.get(node)
        while parent is not None and node not in visited:
            visited.add(node)
            node, parent = parent, parents.get(parent)
        return node

    root = root_of(category_id)
    return {node for node in parents if root_of(node) == root}


def similar_tickets(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    limit: int = 10,
    recent_days: int = 30,
    now: datetime | None = None,
) -> list[SimilarTicket]:
    """Tickets similar to ``ticket_id`` (see the module documentation), best first.

    ``NotFoundError`` when the ticket is unknown or outside the caller's scope; every candidate
    goes through the same scope."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit is between 1 and {MAX_LIMIT}", column="limit", value=limit)
    if recent_days < 0:
        raise InputError("recent_days cannot be negative", column="recent_days", value=recent_days)
    now = now or utc_now()
    ticket = get_ticket(session, principal, ticket_id)
    family = _category_family(session, ticket.category_id)
    cutoff = now - timedelta(days=recent_days)
    matter = [Ticket.customer_id == ticket.customer_id]
    if family:
        matter.append(Ticket.category_id.in_(sorted(family)))
    statement = select(Ticket).where(
        Ticket.id != ticket.id,
        Ticket.merged_into_id.is_(None),
        or_(*matter),
        or_(
            Ticket.status_category.in_(list(ACTIVE_CATEGORIES)),
            and_(Ticket.resolved_at.is_not(None), Ticket.resolved_at >= cutoff),
            and_(Ticket.closed_at.is_not(None), Ticket.closed_at >= cutoff),
        ),
    )
    statement = scoped(statement, principal, Ticket)
    candidates = session.scalars(
        statement.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(CANDIDATE_POOL)
    ).all()
    ranked: list[SimilarTicket] = []
    for candidate in candidates:
        reasons: list[str] = []
        if candidate.customer_id == ticket.customer_id:
            reasons.append("same customer")
        if ticket.category_id is not None and candidate.category_id == ticket.category_id:
            reasons.append("same category")
        elif candidate.category_id in family:
            reasons.append("related category")
        if candidate.repeat_of_id == ticket.id or ticket.repeat_of_id == candidate.id:
            reasons.append("repeat")
        if candidate.kind == ticket.kind:
            reasons.append("same kind")
        if candidate.status_category in ACTIVE_CATEGORIES:
            reasons.append("still open")
        score = sum(WEIGHTS[reason] for reason in reasons)
        ranked.append(SimilarTicket(candidate, score, tuple(reasons)))
    ranked.sort(key=lambda s: (-s.score, -s.ticket.created_at.timestamp(), s.ticket.id))
    return ranked[:limit]
