"""Find customers that are probably the same person or organisation.

The rule: two active customers of the same kind are candidates when

1. they share an email address (trimmed, case-insensitive), or
2. they share a phone number (digits only, the Chinese country code dropped: ``+86 138-0013-8000``
   and ``13800138000`` are one phone), or
3. their names are very similar *and* they belong together: two people who are members of the
   same organisation, or two organisations. "Very similar" compares names with spaces and
   punctuation removed (NFKC, lower-cased): equal, or a ``difflib`` ratio of at least 0.85 when
   both have at least 6 characters (so "Zhang Wei" ~ "zhang  wei." and "Acme Trading Co" ~
   "Acme Trading Co."; short Chinese names must be equal: 张伟 and 张玮 are different people).

Names alone never pair two people in different (or no) organisations: common names are shared by
many people. Each candidate pair lists every reason found, strongest first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from difflib import SequenceMatcher
from itertools import combinations
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from kehu.core.auth.principal import Principal
from kehu.core.auth.scoping import AnySelect, scoped
from kehu.customers.normalize import name_key
from kehu.customers.service import load_customer
from kehu.customers.tables import Customer, CustomerContact, Membership

SIMILAR_RATIO = 0.85
#: contact types whose normal forms pair customers
SHARED_TYPES = ("email", "phone")
MIN_FUZZY_LENGTH = 6


class DuplicateCandidate(BaseModel):
    customer_ids: tuple[int, int]
    reasons: list[str]


def similar_names(a: str | None, b: str | None) -> bool:
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    if min(len(ka), len(kb)) < MIN_FUZZY_LENGTH:
        return False
    matcher = SequenceMatcher(None, ka, kb)
    # the quick ratios are upper bounds of ratio(): they only skip pairs that cannot match
    return (
        matcher.real_quick_ratio() >= SIMILAR_RATIO
        and matcher.quick_ratio() >= SIMILAR_RATIO
        and matcher.ratio() >= SIMILAR_RATIO
    )


def find_duplicates(
    session: Session,
    principal: Principal,
    customer_id: int | None = None,
    *,
    limit: int = 100,
) -> list[DuplicateCandidate]:
    """Candidate pairs among the customers ``principal`` may see (only pairs involving
    ``customer_id`` when given), lowest ids first.

    With ``customer_id`` the search is targeted: it reads only that customer's contacts and
    memberships and the customers they lead to (by the indexed ``(type, normalized)`` of the
    contacts and the membership keys), plus the other organisations when the customer is one, so
    a customer's page does not read every customer. Both searches feed the same rules with the
    same rows in the same order: the targeted result is the full result's pairs involving the
    customer, reasons in the same order.
    """
    if customer_id is not None:
        customer = load_customer(session, principal, customer_id)
        if customer.merged_into_id is not None:  # merged into another: no longer a candidate
            return []
        return _targeted(session, principal, customer, limit)
    customers = {row.id: row for row in session.execute(_visible(principal))}
    shared = session.execute(_shared_contacts())
    memberships = session.execute(_memberships())
    organisations = sorted(i for i, c in customers.items() if c.kind == "organisation")
    return _candidates(customers, None, shared, memberships, combinations(organisations, 2), limit)


def _visible(principal: Principal, *where: Any) -> AnySelect:
    """The active customers ``principal`` may see (id, kind, name), narrowed by ``where``."""
    everyone = select(Customer.id, Customer.kind, Customer.name).where(
        Customer.merged_into_id.is_(None), *where
    )
    return scoped(everyone, principal, Customer)


def _shared_contacts() -> AnySelect:
    """Pairs of contacts of the same type (email, phone) and normal form, the lower customer id
    first, ordered by type (emails first), then contact ids: the order reasons are listed in.
    (:func:`_shared_with` makes the same rows for one customer.)"""
    mine = aliased(CustomerContact)
    theirs = aliased(CustomerContact)
    return (
        select(mine.customer_id, theirs.customer_id, mine.type, mine.value)
        .join(
            theirs,
            (theirs.type == mine.type)
            & (theirs.normalized == mine.normalized)
            & (theirs.customer_id > mine.customer_id),
        )
        .where(mine.type.in_(SHARED_TYPES))
        .where(mine.normalized != "")
        .order_by(mine.type, mine.id, theirs.id)
    )


def _shared_with(session: Session, customer_id: int) -> list[tuple[int, int, str, str]]:
    """The rows of :func:`_shared_contacts` that involve ``customer_id``, in the same order:
    the customer's own contacts (by customer id), then every contact with one of their
    ``(type, normalized)`` keys (by the index on them), paired here."""
    keys = {
        (kind, normalized)
        for kind, normalized in session.execute(
            select(CustomerContact.type, CustomerContact.normalized).where(
                CustomerContact.customer_id == customer_id
            )
        )
        if kind in SHARED_TYPES and normalized != ""
    }
    if not keys:
        return []
    found: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for kind, normalized in sorted(keys):
        for row in session.execute(
            select(CustomerContact.id, CustomerContact.customer_id, CustomerContact.value).where(
                CustomerContact.type == kind, CustomerContact.normalized == normalized
            )
        ):
            found[kind, normalized].append(row)
    pairs = [
        (kind, mine.id, theirs.id, (mine.customer_id, theirs.customer_id, kind, mine.value))
        for (kind, _normalized), contacts in found.items()
        for mine in contacts
        for theirs in contacts
        if theirs.customer_id > mine.customer_id
        and customer_id in (mine.customer_id, theirs.customer_id)
    ]
    return [row for *_order, row in sorted(pairs)]


def _memberships() -> AnySelect:
    return select(Membership.person_id, Membership.organisation_id).order_by(
        Membership.person_id, Membership.organisation_id
    )


def _candidates(
    customers: dict[int, Any],
    customer_id: int | None,
    shared: Iterable[Any],
    memberships: Iterable[Any],
    organisation_pairs: Iterable[tuple[int, int]],
    limit: int,
) -> list[DuplicateCandidate]:
    """The rules, applied to ``customers`` (visible, active: id -> row with kind and name) and
    the rows found: shared contacts, memberships, pairs of organisations (lower id first)."""
    reasons: dict[tuple[int, int], list[str]] = defaultdict(list)

    def add(a: int, b: int, reason: str) -> None:
        if a == b or a not in customers or b not in customers:
            return
        if customers[a].kind != customers[b].kind:
            return
        if customer_id is not None and customer_id not in (a, b):
            return
        pair = (min(a, b), max(a, b))
        if reason not in reasons[pair]:
            reasons[pair].append(reason)

    for a, b, kind, value in shared:
        add(a, b, f"same {kind} {value}")

    members: dict[int, list[int]] = defaultdict(list)
    for person_id, organisation_id in memberships:
        members[organisation_id].append(person_id)
    for organisation_id, people in members.items():
        for a, b in combinations(sorted(set(people)), 2):
            if customer_id is not None and customer_id not in (a, b):
                continue
            if (
                a in customers
                and b in customers
                and similar_names(customers[a].name, customers[b].name)
            ):
                org = customers.get(organisation_id)
                where = org.name if org is not None else f"organisation {organisation_id}"
                add(a, b, f"similar names in {where}")
    for a, b in organisation_pairs:
        if similar_names(customers[a].name, customers[b].name):
            add(a, b, "similar organisation names")

    pairs = sorted(reasons)
    return [DuplicateCandidate(customer_ids=pair, reasons=reasons[pair]) for pair in pairs][:limit]


def _targeted(
    session: Session, principal: Principal, me: Customer, limit: int
) -> list[DuplicateCandidate]:
    """:func:`find_duplicates` for one active customer the principal may see, reading only what
    can pair with it."""
    customer_id = me.id
    shared = _shared_with(session, customer_id)
    organisations = select(Membership.organisation_id).where(Membership.person_id == customer_id)
    memberships = session.execute(
        _memberships().where(Membership.organisation_id.in_(organisations))
    ).all()
    related = {customer_id}
    related.update(i for row in shared for i in row[:2])
    related.update(i for row in memberships for i in row)
    customers: dict[int, Any] = {me.id: me}
    if len(related) > 1:
        found = _visible(principal, Customer.id.in_(sorted(related - {customer_id})))
        customers.update((row.id, row) for row in session.execute(found))
    pairs: list[tuple[int, int]] = []
    if me.kind == "organisation":
        others = session.execute(_visible(principal, Customer.kind == "organisation")).all()
        customers.update((row.id, row) for row in others)
        pairs = [(min(row.id, customer_id), max(row.id, customer_id)) for row in others]
        pairs = sorted(pair for pair in pairs if pair[0] != pair[1])
    return _candidates(customers, customer_id, shared, memberships, pairs, limit)
