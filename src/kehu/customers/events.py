"""The append-only log of customer changes (``customer_events``).

Kinds: ``created``, ``edited`` (``before``/``after`` of the changed fields), ``tagged``,
``untagged``, ``owner_assigned``, ``contact_added``, ``contact_removed``, ``preference_changed``,
``membership_added``, ``membership_removed``, ``imported`` (an import changed the customer),
``merged`` (on the survivor), ``merged_into`` (on the merged customer), ``unmerged`` (on both),
``duplicate_flagged`` and ``duplicate_dismissed`` (a stored possible duplicate,
:mod:`kehu.customers.duplicate_flags`).
Erasing a customer's personal data (:mod:`kehu.customers.erasure`) blanks the data of its events.

:func:`record_event` is the one place customer changes are recorded, so it also appends the
audit event (``customer.<kind>`` on entity ``customer``) in the same transaction: every write use
case of the domain (service, merge, CSV import: one audit event per created or changed customer,
like its ``created``/``imported`` event) is audited without a call of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kehu.core.audit import record_audit
from kehu.core.auth.principal import Principal
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
    "duplicate_flagged": "Flagged as a possible duplicate",
    "duplicate_dismissed": "Possible duplicate dismissed",
    "unmerged": "Merge undone",
}

#: kinds whose data describes what was taken away (the audit's ``before``)
_REMOVALS = frozenset({"untagged", "contact_removed", "membership_removed"})


def audit_payload(kind: str, data: dict[str, Any]) -> tuple[Any, Any]:
    """``(before, after)`` of the audit event of a customer event: the data's ``before`` and
    ``after``, the rest of the data (tag, contact, channel, merge id...) beside ``after``."""
    rest = {key: value for key, value in data.items() if key not in ("before", "after")}
    if kind in _REMOVALS:
        return rest or None, None
    before, after = data.get("before"), data.get("after")
    if isinstance(after, dict):
        after = {**rest, **after}
    elif rest:
        after = rest if after is None else {**rest, "after": after}
    return before, after


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
    before, after = audit_payload(kind, event.data)
    record_audit(session, principal, f"customer.{kind}", "customer", customer_id, before, after)
    return event
