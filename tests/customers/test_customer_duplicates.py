"""Finding duplicates: shared email, shared phone, similar names within one organisation; one
customer's duplicates (the targeted search of the 360 page) are the full search's."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from customer_helpers import AGENT, MANAGER
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth import scoping
from kehu.customers.duplicates import find_duplicates, similar_names
from kehu.customers.merge import merge_customers
from kehu.customers.schemas import ContactIn, CustomerCreate
from kehu.customers.service import add_membership, create_customer
from kehu.customers.tables import Customer, CustomerContact
from kehu.errors import NotFoundError


def test_shared_email_or_phone(session: Session, person: Callable[..., int]) -> None:
    a = person("张伟", ("email", "Zhang.Wei@Example.com"))
    b = person("Wei Zhang", ("email", " zhang.wei@example.com"))
    c = person("Someone", ("phone", "+86 138-0013-8000"))
    d = person("Someone else", ("phone", "13800138000"))
    person("Unrelated", ("email", "other@example.com"), ("phone", "13900000000"))
    found = {x.customer_ids: x.reasons for x in find_duplicates(session, AGENT)}
    assert set(found) == {(a, b), (c, d)}
    assert found[(a, b)][0].startswith("same email")
    assert found[(c, d)][0].startswith("same phone")
    assert [x.customer_ids for x in find_duplicates(session, AGENT, c)] == [(c, d)]


def test_similar_names_within_one_organisation(
    session: Session, person: Callable[..., int]
) -> None:
    acme = create_customer(session, AGENT, CustomerCreate(kind="organisation", name="Acme")).id
    other = create_customer(session, AGENT, CustomerCreate(kind="organisation", name="Other")).id
    a, b, c = person("Zhang Weiming"), person("zhang  weiming."), person("Zhang Weiming")
    add_membership(session, AGENT, a, acme, "buyer")
    add_membership(session, AGENT, b, acme)
    add_membership(session, AGENT, c, other)
    found = {x.customer_ids: x.reasons for x in find_duplicates(session, AGENT)}
    # the same name in another organisation is not enough
    assert found == {(a, b): ["similar names in Acme"]}


def test_similar_organisation_names(session: Session) -> None:
    one = create_customer(
        session, AGENT, CustomerCreate(kind="organisation", name="上海浦东发展有限公司")
    ).id
    two = create_customer(
        session, AGENT, CustomerCreate(kind="organisation", name="上海浦东发展 有限公司")
    ).id
    create_customer(session, AGENT, CustomerCreate(kind="organisation", name="北京发展有限公司"))
    assert [x.customer_ids for x in find_duplicates(session, AGENT)] == [(one, two)]


def test_name_rule() -> None:
    assert similar_names("张伟", "张伟")
    assert not similar_names("张伟", "张玮")
    assert similar_names("Acme Trading Co", "ACME Trading Co.")
    assert not similar_names("Acme", "Acne")
    assert not similar_names(None, "x")


def test_merged_customers_are_no_longer_candidates(
    session: Session, person: Callable[..., int]
) -> None:
    a = person("A", ("email", "a@example.com"))
    b = person("B", ("email", "a@example.com"))
    merge_customers(session, MANAGER, a, b)
    assert find_duplicates(session, AGENT) == []


def _store_with_duplicates(session: Session, person: Callable[..., int]) -> list[int]:
    """Customers sharing emails and phones (written differently), people with similar names in
    one or two organisations, organisations with similar names, a person and an organisation
    sharing an email, and a merged customer; returns every customer id."""
    rng = random.Random(20240601)
    names = ["Zhang Weiming", "zhang  weiming.", "Zhang Weimin", "李娜", "李娜 ", "Wang Fang"]
    emails = ["a@example.com", " A@Example.com", "b@example.com", "c@example.com"]
    phones = ["+86 138-0013-8000", "13800138000", "0086 13800138000", "13900000000", "021 555"]
    ids = []
    for n in range(40):
        contacts = [("email", rng.choice(emails)) for _ in range(rng.randrange(3))]
        contacts += [("phone", rng.choice(phones)) for _ in range(rng.randrange(2))]
        ids.append(person(rng.choice(names) if n % 5 else f"Someone {n}", *contacts))
    organisations = [
        create_customer(session, AGENT, CustomerCreate(kind="organisation", name=name)).id
        for name in ("Acme Trading Co", "ACME Trading Co.", "Acme Tradng Co", "Other", "其他")
    ]
    create_customer(
        session,
        AGENT,
        CustomerCreate(
            kind="organisation",
            name="Acme Trading Co",
            contacts=[ContactIn(type="email", value="a@example.com")],
        ),
    )
    for person_id in ids[:30]:
        for organisation_id in rng.sample(organisations[:3], rng.randrange(3)):
            add_membership(session, AGENT, person_id, organisation_id)
    # rows written beside the use cases (an old import): no normal form, or a type that never
    # pairs customers
    for customer_id in ids[2:5]:
        session.add(
            CustomerContact(customer_id=customer_id, type="phone", value="-", normalized="")
        )
        session.add(
            CustomerContact(customer_id=customer_id, type="wechat", value="w", normalized="w")
        )
    merge_customers(session, MANAGER, ids[0], ids[1])
    return sorted(session.scalars(select(Customer.id)))


def test_one_customers_duplicates_equal_the_full_searchs(
    session: Session, person: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = _store_with_duplicates(session, person)
    full = find_duplicates(session, AGENT, limit=100_000)
    reasons = [r.split(" ")[0] + " " + r.split(" ")[1] for x in full for r in x.reasons]
    for kind in ("same email", "same phone", "similar names", "similar organisation"):
        assert reasons.count(kind) >= 2, kind  # the store has duplicates of every kind
    assert any(len(x.reasons) > 1 for x in full)
    for customer_id in everyone:
        expected = [x for x in full if customer_id in x.customer_ids]
        assert find_duplicates(session, AGENT, customer_id, limit=100_000) == expected
        assert find_duplicates(session, AGENT, customer_id, limit=1) == expected[:1]
    # a narrower customer scope narrows both searches alike
    hidden = full[0].customer_ids[1]
    monkeypatch.setitem(
        scoping._SCOPES, Customer, lambda statement, _p: statement.where(Customer.id != hidden)
    )
    narrowed = find_duplicates(session, AGENT, limit=100_000)
    assert narrowed == [x for x in full if hidden not in x.customer_ids]
    for customer_id in everyone:
        if customer_id == hidden:
            with pytest.raises(NotFoundError):
                find_duplicates(session, AGENT, customer_id)
            continue
        expected = [x for x in narrowed if customer_id in x.customer_ids]
        assert find_duplicates(session, AGENT, customer_id, limit=100_000) == expected
