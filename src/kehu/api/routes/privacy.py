"""Privacy: erase a customer's personal data (admins only, ``users:admin``).

The customer keeps its id, transactions, scores and tickets; its names, contacts and notes go,
and so do the payloads of the audit events about it and its tickets (the audit chain still
verifies). See :mod:`kehu.customers.erasure`.
"""

from __future__ import annotations

from fastapi import APIRouter

from kehu.customers.erasure import ErasureOut, erase_customer_personal_data
from kehu.http.deps import CurrentPrincipal, DbSession
from kehu.store.bounds import Id

router = APIRouter(tags=["privacy"])


@router.post(
    "/api/customers/{customer_id}/erase",
    summary="Erase a customer's personal data (admins only)",
)
def erase_customer(customer_id: Id, session: DbSession, principal: CurrentPrincipal) -> ErasureOut:
    """Blanks the names, contacts and notes, and erases the customer's (and its tickets') audit
    payloads; records a ``customer.erased`` audit event. 403 for anyone but an admin; 404 for an
    unknown customer."""
    return erase_customer_personal_data(session, principal, customer_id)
