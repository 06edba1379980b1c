"""Erase a customer's personal data (the right to be forgotten), admins only.

What goes: the names, the contacts (rows deleted), the notes; ``search_text`` is rebuilt and so
holds only the business's external id; the data of the customer's ``customer_events`` is blanked
(``{"erased": true}``: those rows carried names and contact values); and the ``before``/``after``
payloads of every audit event about the customer and about its tickets are erased with
:func:`kehu.core.audit.erase_personal_data`, which the audit chain survives. Customers merged
into it
are the same person and are erased with it.

What stays: ids, the external id, kind, owner, tags, memberships, contact preferences (so that a
refusal is still honoured), transactions, scores, tickets and their event logs. Then one audit
event ``customer.erased`` records who erased what, without personal data.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kehu.core.audit import erase_personal_data, record_audit
from kehu.core.auth.principal import Principal, require
from kehu.customers.search_keys import purge_replaced_keys
from kehu.customers.service import _touch, holding, load_customer
from kehu.customers.tables import Customer, CustomerContact, CustomerEvent
from kehu.customers.timeline import _with_merged
from kehu.desk.tables import Ticket

#: the columns of ``customers`` that hold personal data
PERSONAL_FIELDS = ("name", "given_name", "family_name", "notes")


class ErasureOut(BaseModel):
    customer_id: int
    #: the customer and the customers merged into it
    customer_ids: list[int]
    contacts_removed: int
    customer_events_blanked: int
    tickets: int
    audit_events_erased: int


def erase_customer_personal_data(
    session: Session, principal: Principal, customer_id: int
) -> ErasureOut:
    """Erase the personal data of ``customer_id`` (see the module documentation), in the
    caller's transaction. Needs ``users:admin``; an unknown id is ``NotFoundError``. Erasing
    again is harmless (it finds nothing left to erase)."""
    require(principal, "users:admin")
    customer = load_customer(session, principal, customer_id)
    ids = _with_merged(session, customer.id)
    contacts = session.execute(delete(CustomerContact).where(CustomerContact.customer_id.in_(ids)))
    held = holding(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id))
    for row in session.scalars(held):
        for field in PERSONAL_FIELDS:
            setattr(row, field, None)
        _touch(session, row)  # a new version; search_text rebuilt without names or contacts
    purge_replaced_keys(session)  # and no fragment of them left in the search index
    # customer events are append-only; erasure is the one permitted rewrite
    blanked = session.execute(
        update(CustomerEvent)
        .where(CustomerEvent.customer_id.in_(ids))
        .values(data={"erased": True})
        .execution_options(synchronize_session="fetch")
    )
    ticket_ids = list(session.scalars(select(Ticket.id).where(Ticket.customer_id.in_(ids))))
    erased = sum(erase_personal_data(session, "customer", i) for i in ids)
    erased += sum(erase_personal_data(session, "ticket", i) for i in ticket_ids)
    result = ErasureOut(
        customer_id=customer.id,
        customer_ids=ids,
        contacts_removed=int(getattr(contacts, "rowcount", 0) or 0),
        customer_events_blanked=int(getattr(blanked, "rowcount", 0) or 0),
        tickets=len(ticket_ids),
        audit_events_erased=erased,
    )
    record_audit(
        session,
        principal,
        "customer.erased",
        "customer",
        customer.id,
        None,
        {**result.model_dump(exclude={"customer_id"}), "fields": [*PERSONAL_FIELDS, "contacts"]},
    )
    return result


__all__ = ["PERSONAL_FIELDS", "ErasureOut", "erase_customer_personal_data"]
