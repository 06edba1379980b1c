"""Finding duplicates: shared email, shared phone, similar names within one organisation."""

from __future__ import annotations

from collections.abc import Callable

from customer_helpers import AGENT, MANAGER
from sqlalchemy.orm import Session

from kehu.customers.duplicates import find_duplicates, similar_names
from kehu.customers.merge import merge_customers
from kehu.customers.schemas import CustomerCreate
from kehu.customers.service import add_membership, create_customer


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
