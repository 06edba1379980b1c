"""The customer beside the ticket (``tickets/_customer_context.html``): who is complaining, what
they are worth, what else they have asked, what they bought, how much effort it has cost them so
far and how they may be contacted -- so that an agent resolves "one stop", seeing the customer as
a whole.

Every figure comes from the domains' public read use cases, each through the permission layer,
so every role that may see the ticket gets the panel with what it may see:

- the **value tier** for anyone who may read the customer
  (:func:`kehu.value.queries.customer_tier`: the desk routes and prioritises by it already);
  the **lifetime value** (CLV) only with ``value:read`` (:func:`kehu.value.queries.value_card`):
  an agent without value rights sees the tier only;
- the customer's **other tickets**, open ones and the latest closed ones, among those the viewer
  may read (:func:`kehu.desk.ticket_queries.list_tickets`). Tickets of teams the viewer is not
  in are left out and not counted: outside one's scope a ticket is "not found", the same as one
  that does not exist, so the panel says only that the list is limited to the viewer's teams;
- the **latest purchases** (date, order, amount) for anyone who may read the customer: a
  transaction is customer data in kehu (scope ``customers:read``, also on the 360 timeline and
  in the API), unlike the value figures computed from it (CLV, profit), which need
  ``value:read``;
- the **effort so far** over the customer's tickets in scope
  (:func:`kehu.desk.effort.customer_effort`: tickets, transfers, repeats, contacts, reopenings);
- the **consent** and contact preference per channel (:func:`kehu.customers.service.get_customer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kehu.analytics.tiers import TIER_NAMES
from kehu.core.auth.principal import Principal
from kehu.core.money import Money
from kehu.customers.schemas import PreferenceOut
from kehu.customers.service import get_customer
from kehu.customers.vocabulary import CHANNELS
from kehu.desk.effort import CustomerEffort, customer_effort
from kehu.desk.schemas import TicketOut
from kehu.desk.ticket_queries import list_tickets
from kehu.desk.workflow import ACTIVE_CATEGORIES
from kehu.value.queries import Purchase, customer_tier, recent_purchases, value_card
from kehu.web.rendering import Page

__all__ = ["CustomerContext", "customer_context"]

#: How many of the customer's other tickets, closed ones and purchases the panel lists.
OPEN_LIMIT = 5
RECENT_LIMIT = 3
PURCHASE_LIMIT = 3
#: How many tickets are read to pick the open and recent ones from (newest first).
TICKETS_READ = 50


@dataclass(frozen=True)
class CustomerContext:
    customer_id: int
    tier: str | None
    tier_name: str
    clv: Money | None
    can_see_value: bool
    open_tickets: list[TicketOut]
    recent_tickets: list[TicketOut]
    only_own_teams: bool
    purchases: list[Purchase]
    purchase_count: int
    effort: CustomerEffort | None
    preferences: dict[str, PreferenceOut] = field(default_factory=dict)
    channels: tuple[str, ...] = CHANNELS


def customer_context(
    page: Page, session: Session, principal: Principal, ticket: Any
) -> dict[str, Any]:
    """``{"customer_context": CustomerContext | None}`` for the ticket page (``None`` for a
    viewer who may not read customers: the panel is then left out)."""
    if not principal.can("customers:read"):
        return {"customer_context": None}
    customer_id = int(ticket.customer_id)
    customer = get_customer(session, principal, customer_id)
    tier = customer_tier(session, principal, customer_id)
    can_see_value = principal.can("value:read")
    card = value_card(session, principal, customer_id) if can_see_value else None
    others = [
        t
        for t in list_tickets(session, principal, customer_id=customer_id, limit=TICKETS_READ)
        if t.id != ticket.id and t.merged_into_id is None
    ]
    purchases, purchase_count = recent_purchases(
        session, principal, customer_id, limit=PURCHASE_LIMIT
    )
    return {
        "customer_context": CustomerContext(
            customer_id=customer_id,
            tier=tier,
            tier_name=page.translator.display_name(TIER_NAMES.get(tier or ""), tier or ""),
            clv=card.clv if card is not None else None,
            can_see_value=can_see_value,
            open_tickets=[t for t in others if t.status_category in ACTIVE_CATEGORIES][:OPEN_LIMIT],
            recent_tickets=[t for t in others if t.status_category not in ACTIVE_CATEGORIES][
                :RECENT_LIMIT
            ],
            only_own_teams=not principal.can("tickets:all_teams"),
            purchases=purchases,
            purchase_count=purchase_count,
            effort=customer_effort(session, principal, customer_id),
            preferences={p.channel: p for p in customer.preferences},
        )
    }
