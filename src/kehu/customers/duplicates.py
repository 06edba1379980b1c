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
from difflib import SequenceMatcher
from itertools import combinations
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from kehu.auth.principal import Principal
from kehu.auth.scoping import scoped
from kehu.customers.normalize import name_key
from kehu.customers.service import load_customer
from kehu.customers.tables import Customer, CustomerContact, Membership

SIMILAR_RATIO = 0.85
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
    return SequenceMatcher(None, ka, kb).ratio() >= SIMILAR_RATIO


def find_duplicates(
    session: Session,
    principal: Principal,
    customer_id: int | None = None,
    *,
    limit: int = 100,
) -> list[DuplicateCandidate]:
    """Candidate pairs among the customers ``principal`` may see (only pairs involving
    ``customer_id`` when given), lowest ids first."""
    everyone = select(Customer.id, Customer.kind, Customer.name).where(
        Customer.merged_into_id.is_(None)
    )
    visible = scoped(cast("Select[Any]", everyone), principal, Customer)
    if customer_id is not None:
        load_customer(session, principal, customer_id)
    customers = {row.id: row for row in session.execute(visible)}
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

    mine = aliased(CustomerContact)
    theirs = aliased(CustomerContact)
    shared = session.execute(
        select(mine.customer_id, theirs.customer_id, mine.type, mine.value)
        .join(
            theirs,
            (theirs.type == mine.type)
            & (theirs.normalized == mine.normalized)
            & (theirs.customer_id > mine.customer_id),
        )
        .where(mine.type.in_(("email", "phone")))
        .where(mine.normalized != "")
    )
    for a, b, kind, value in shared:
        add(a, b, f"same {kind} {value}")

    members: dict[int, list[int]] = defaultdict(list)
    for person_id, organisation_id in session.execute(
        select(Membership.person_id, Membership.organisation_id)
    ):
        members[organisation_id].append(person_id)
    for organisation_id, people in members.items():
        for a, b in combinations(sorted(set(people)), 2):
            if (
                a in customers
                and b in customers
                and similar_names(customers[a].name, customers[b].name)
            ):
                org = customers.get(organisation_id)
                where = org.name if org is not None else f"organisation {organisation_id}"
                add(a, b, f"similar names in {where}")
    organisations = sorted(i for i, c in customers.items() if c.kind == "organisation")
    for a, b in combinations(organisations, 2):
        if similar_names(customers[a].name, customers[b].name):
            add(a, b, "similar organisation names")

    pairs = sorted(reasons)
    return [DuplicateCandidate(customer_ids=pair, reasons=reasons[pair]) for pair in pairs][:limit]
