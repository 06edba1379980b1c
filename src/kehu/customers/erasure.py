"""Erase a customer's personal data (the right to be forgotten), admins only.

The erasure knows no domain's tables but its own: every domain declares its personal fields with
the platform's registry (:mod:`kehu.core.personal_data`, from its ``registrations`` module), and
:func:`erase_customer_personal_data` applies all of them to the customer and to the customers
merged into it (the same person), in one transaction:

1. the customers are held (locked) and :class:`kehu.core.events.CustomerErased` is published,
   so that a domain erases what lies outside the database (attachment files) while it can still
   read where it is;
2. every registration is applied (:func:`kehu.core.personal_data.erase_personal_data_of`). The
   customers domain registers (in :mod:`kehu.customers.registrations`): the names, notes,
   preferred language and the search keys of ``customers``; the ``customer_contacts`` rows
   (deleted); the data of ``customer_events`` (``{"erased": true}``: those rows carried names and
   contact values); the role in ``customer_memberships``; the reasons and the archived rows of
   ``customer_merges`` (:func:`erase_merge_archive`: an archived row is erased as its own table's
   registration says); and the audit payloads of the customer
   (:func:`kehu.core.audit.erase_personal_data`, which the audit chain survives). The other
   domains add theirs (tickets, their messages, events, attachments and audit payloads; outbox
   messages...);
3. ``search_text`` is rebuilt (so it holds only the business's external id) and the search index
   is purged of the old terms;
4. one audit event ``customer.erased`` records who erased what, without personal data.

What stays: ids, the external id, kind, owner, tags, memberships, contact preferences (so that a
refusal is still honoured), transactions, scores, and the rows of tickets and their event logs
with their codes and figures (their text is erased).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from kehu.core.audit import record_audit
from kehu.core.auth.principal import Principal, require
from kehu.core.events import CustomerErased, publish
from kehu.core.personal_data import erase_personal_data_of, erase_row_copy, personal_columns
from kehu.customers.search_keys import purge_replaced_keys
from kehu.customers.service import _touch, holding, load_customer
from kehu.customers.tables import Customer, CustomerMerge
from kehu.customers.timeline import _with_merged
from kehu.store.base import utc_now

#: the columns of ``customers`` that hold personal data (registered in
#: :mod:`kehu.customers.registrations`, with the search keys derived from them)
PERSONAL_FIELDS = ("name", "given_name", "family_name", "notes", "preferred_language")

#: what an erased customer event's data reads
ERASED_EVENT_DATA: dict[str, Any] = {"erased": True}


class ErasureOut(BaseModel):
    customer_id: int
    #: the customer and the customers merged into it
    customer_ids: list[int]
    contacts_removed: int
    customer_events_blanked: int
    #: the tickets whose text was erased (the rows of the registration named ``tickets``)
    tickets: int
    audit_events_erased: int
    #: the rows each personal-data registration covered, by registration name
    erased: dict[str, int] = Field(default_factory=dict)


# --- erasing the customers domain's own JSON ------------------------------------------------------


def erase_event_data(_data: Any) -> dict[str, Any]:
    """A customer event's data after erasure (the kind and time of the event stay)."""
    return dict(ERASED_EVENT_DATA)


def erase_merge_archive(steps: Any) -> Any:
    """A merge record's steps with every archived row erased as its table's registration says
    (dropped where such rows are deleted, like contacts); the keys and digests of moved rows
    stay, so an undo still refuses what cannot be split back."""
    if not isinstance(steps, list):
        return steps
    erased: list[Any] = []
    for step in steps:
        if not isinstance(step, dict) or not step.get("archived"):
            erased.append(step)
            continue
        archived = []
        for entry in step["archived"]:
            row = entry.get("row") if isinstance(entry, dict) else None
            if not isinstance(row, dict):
                archived.append(entry)
                continue
            copy = erase_row_copy(str(step.get("table", "")), row)
            if copy is not None:
                archived.append({**entry, "row": copy})
        erased.append({**step, "archived": archived})
    return erased


def merges_of(customer_ids: Sequence[int]) -> ColumnElement[bool]:
    """The merge records a customer took part in (as survivor or as the merged one)."""
    return or_(
        CustomerMerge.survivor_id.in_(customer_ids), CustomerMerge.merged_id.in_(customer_ids)
    )


# --- the use case -------------------------------------------------------------------------------


def erase_customer_personal_data(
    session: Session, principal: Principal, customer_id: int, *, now: datetime | None = None
) -> ErasureOut:
    """Erase the personal data of ``customer_id`` (see the module documentation), in the
    caller's transaction. Needs ``users:admin``; an unknown id is ``NotFoundError``. Erasing
    again is harmless (it finds nothing left to erase)."""
    require(principal, "users:admin")
    now = now or utc_now()
    customer = load_customer(session, principal, customer_id)
    ids = _with_merged(session, customer.id)
    held = holding(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id))
    customers = list(session.scalars(held))
    publish(session, CustomerErased(at=now, actor_id=principal.user_id, customer_ids=tuple(ids)))
    counts = erase_personal_data_of(session, ids, now=now)
    for row in customers:
        _touch(session, row)  # a new version; search_text rebuilt without names or contacts
    purge_replaced_keys(session)  # and no fragment of them left in the search index
    result = ErasureOut(
        customer_id=customer.id,
        customer_ids=ids,
        contacts_removed=counts.get("customer_contacts", 0),
        customer_events_blanked=counts.get("customer_events", 0),
        tickets=counts.get("tickets", 0),
        audit_events_erased=sum(n for name, n in counts.items() if name.startswith("audit:")),
        erased=counts,
    )
    record_audit(
        session,
        principal,
        "customer.erased",
        "customer",
        customer.id,
        None,
        {**result.model_dump(exclude={"customer_id"}), "fields": sorted(personal_columns())},
    )
    return result


__all__ = [
    "ERASED_EVENT_DATA",
    "PERSONAL_FIELDS",
    "ErasureOut",
    "erase_customer_personal_data",
    "erase_event_data",
    "erase_merge_archive",
    "merges_of",
]
