"""The customers domain's read use cases for the front doors and the other domains (which import
no ``kehu.customers.tables``). Everything a principal is shown goes through the permission layer
(:func:`kehu.core.auth.scoped`); the lookups other domains make for their own use cases
(:func:`customer_exists`, :func:`survivor_of`, :func:`customers_with_contact`) act for the
system and return ids only."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.customers.tables import Customer, CustomerContact, CustomerTag, Tag

__all__ = [
    "SORT_FIELDS",
    "SORT_TIEBREAK",
    "CustomerLabel",
    "contacts_of",
    "customer_exists",
    "customer_id_by_external_id",
    "customer_labels",
    "customer_names",
    "customers_tagged",
    "customers_with_contact",
    "survivor_of",
    "tags_of",
]

#: What lists of customers may be sorted by (name -> column), and the tie-break.
SORT_FIELDS: dict[str, Any] = {
    "name": Customer.name,
    "external_id": Customer.external_id,
    "kind": Customer.kind,
    "created_at": Customer.created_at,
    "updated_at": Customer.updated_at,
    "id": Customer.id,
}
SORT_TIEBREAK = Customer.id


@dataclass(frozen=True)
class CustomerLabel:
    """How a customer is named in a list: the name, else the business's external id."""

    id: int
    name: str | None
    external_id: str

    @property
    def label(self) -> str:
        return self.name or self.external_id


def customer_exists(session: Session, customer_id: int) -> bool:
    return session.scalar(select(Customer.id).where(Customer.id == customer_id)) is not None


def customer_id_by_external_id(session: Session, external_id: str) -> int | None:
    """The id of the customer with this external id, following merges to the survivor
    (``None``: no such customer). For other domains' imports; acts for the system."""
    found = session.scalar(select(Customer.id).where(Customer.external_id == external_id))
    return None if found is None else survivor_of(session, found)


def preferred_language(session: Session, customer_id: int) -> str | None:
    """The customer's preferred language (``None``: not known, or no such customer; messages
    are then in English)."""
    return session.scalar(select(Customer.preferred_language).where(Customer.id == customer_id))


def survivor_of(session: Session, customer_id: int) -> int:
    """The customer that ``customer_id`` was (transitively) merged into, or itself."""
    seen: set[int] = set()
    current = customer_id
    while current not in seen:
        seen.add(current)
        merged_into = session.scalar(select(Customer.merged_into_id).where(Customer.id == current))
        if merged_into is None:
            return current
        current = merged_into
    return current


def customers_with_contact(session: Session, contact_type: str, normalized: str) -> list[int]:
    """Ids of the customers holding this contact (already normalised), earliest first."""
    return list(
        session.scalars(
            select(CustomerContact.customer_id)
            .where(CustomerContact.type == contact_type, CustomerContact.normalized == normalized)
            .order_by(CustomerContact.customer_id)
        )
    )


def customer_labels(
    session: Session, principal: Principal, ids: Iterable[int]
) -> dict[int, CustomerLabel]:
    """The customers of ``ids`` the principal may see, by id (others are left out)."""
    wanted = sorted(set(ids))
    if not wanted or not principal.can("customers:read"):
        return {}
    statement = scoped(
        select(Customer.id, Customer.name, Customer.external_id).where(Customer.id.in_(wanted)),
        principal,
        Customer,
    )
    return {
        row_id: CustomerLabel(row_id, name, external_id)
        for row_id, name, external_id in session.execute(statement)
    }


def customer_names(session: Session, principal: Principal, ids: Iterable[int]) -> dict[int, str]:
    """Names (else external ids) of the customers the principal may see."""
    return {i: found.label for i, found in customer_labels(session, principal, ids).items()}


def contacts_of(
    session: Session,
    principal: Principal,
    ids: Collection[int],
    *,
    types: Collection[str] | None = None,
    primary_first: bool = False,
) -> list[tuple[int, str, str]]:
    """``(customer_id, type, value)`` of the customers' contacts, by customer and entry order
    (``primary_first``: each customer's primary contact of a type before the others)."""
    if not ids:
        return []
    statement = scoped(
        select(CustomerContact.customer_id, CustomerContact.type, CustomerContact.value)
        .join(Customer, Customer.id == CustomerContact.customer_id)
        .where(CustomerContact.customer_id.in_(sorted(ids))),
        principal,
        Customer,
    )
    if types is not None:
        statement = statement.where(CustomerContact.type.in_(sorted(types)))
    if primary_first:
        statement = statement.order_by(CustomerContact.is_primary.desc(), CustomerContact.id)
    else:
        statement = statement.order_by(CustomerContact.customer_id, CustomerContact.id)
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]


def tags_of(session: Session, principal: Principal, ids: Collection[int]) -> list[tuple[int, str]]:
    """``(customer_id, tag name)`` of the customers' tags, by customer and name."""
    if not ids:
        return []
    statement = scoped(
        select(CustomerTag.customer_id, Tag.name)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .join(Customer, Customer.id == CustomerTag.customer_id)
        .where(CustomerTag.customer_id.in_(sorted(ids))),
        principal,
        Customer,
    )
    return [
        (row[0], row[1])
        for row in session.execute(statement.order_by(CustomerTag.customer_id, Tag.name))
    ]


def customers_tagged(session: Session, tag: str) -> list[int]:
    """The customers (not merged away) with the tag named ``tag``, by id."""
    return list(
        session.scalars(
            select(Customer.id)
            .join(CustomerTag, CustomerTag.customer_id == Customer.id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(Tag.name == tag, Customer.merged_into_id.is_(None))
            .order_by(Customer.id)
        )
    )
