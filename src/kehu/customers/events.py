"""The append-only log of customer changes (``customer_events``).

Kinds: ``created``, ``edited`` (``before``/``after`` of the changed fields), ``tagged``,
``untagged``, ``owner_assigned``, ``contact_added``, ``contact_removed``, ``preference_changed``,
``membership_added``, ``membership_removed``, ``imported`` (an import changed the customer),
``merged`` (on the survivor), ``merged_into`` (on the merged customer), ``unmerged`` (on both).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kehu.auth.principal import Principal
from kehu.customers.tables import CustomerEvent
from kehu.store.base import utc_now

EVENT_TITLES = {
    "created": "Customer created",
    "edited": "Details edited",
    "tagged": "Tagged",
    "untagged": "Tag removed",
    "owner_assigned": "Account manager assigned",
    "contact_added": "Contact added",
    "contact_removed": "Contact removed",
    "preference_changed": "Contact preference changed",
    "membership_added": "Joined an organisation",
    "membership_removed": "Left an organisation",
    "imported": "Updated by an import",
    "merged": "Duplicate merged in",
    "merged_into": "Merged into another customer",
    "unmerged": "Merge undone",
}


def record_event(
    session: Session,
    customer_id: int,
    kind: str,
    principal: Principal,
    data: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> CustomerEvent:
    if kind not in EVENT_TITLES:
        raise ValueError(f"unknown customer event kind {kind!r}")
    event = CustomerEvent(
        customer_id=customer_id,
        kind=kind,
        at=at or utc_now(),
        actor_user_id=principal.user_id,
        data=data or {},
    )
    session.add(event)
    return event
