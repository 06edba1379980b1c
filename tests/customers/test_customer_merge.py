"""Merging duplicates and undoing the merge, with the registry of customer references."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import time_machine
from customer_helpers import ADMIN, AGENT, MANAGER, add_purchase, add_run, add_score, at
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from kehu.customers import references
from kehu.customers.merge import get_merge, list_merges, merge_customers, undo_merge
from kehu.customers.schemas import ContactIn, CustomerCreate, CustomerUpdate, PreferenceIn
from kehu.customers.search import search_customers
from kehu.customers.service import (
    create_customer,
    edit_customer,
    get_customer,
    may_contact,
    set_contact_preference,
    tag_customer,
)
from kehu.customers.tables import CustomerEvent
from kehu.errors import ConflictError, PermissionDeniedError
from kehu.value.tables import CostToServe, CustomerScore, Transaction


def _transactions(session: Session, customer_id: int) -> list[int]:
    return sorted(
        session.scalars(select(Transaction.id).where(Transaction.customer_id == customer_id))
    )


@pytest.fixture
def pair(session: Session, person: Callable[..., int]) -> tuple[int, int]:
    """Two records of one person: the survivor (older, scored) and the duplicate."""
    survivor = person("张伟", ("email", "zhang.wei@example.com"), ("phone", "13800138000"))
    duplicate = person(
        "张伟 (web)",
        ("email", "ZHANG.WEI@example.com"),
        ("wechat", "zw_1988"),
        tags=["online", "VIP"],
    )
    tag_customer(session, AGENT, survivor, "VIP")
    run = add_run(session, at(1))
    add_score(session, survivor, run, clv_minor=500)
    add_score(session, duplicate, run, clv_minor=900)
    for day in (2, 3):
        add_purchase(session, survivor, at(day))
    for day in (4, 5, 6):
        add_purchase(session, duplicate, at(day))
    session.add(
        CostToServe(customer_id=duplicate, amount_minor=300, currency="USD", source="tickets")
    )
    session.flush()
    return survivor, duplicate


def test_merge_moves_everything_and_undo_restores_it(
    session: Session, pair: tuple[int, int]
) -> None:
    survivor, duplicate = pair
    before_survivor = _transactions(session, survivor)
    before_duplicate = _transactions(session, duplicate)
    merge = merge_customers(session, MANAGER, survivor, duplicate, reason="same email")
    assert merge.moved["transactions.customer_id"] == 3
    assert merge.moved["cost_to_serve.customer_id"] == 1
    assert _transactions(session, survivor) == sorted(before_survivor + before_duplicate)
    assert _transactions(session, duplicate) == []
    # one score per customer: the survivor keeps its own, the other's is archived
    scores = dict(session.execute(select(CustomerScore.customer_id, CustomerScore.clv_minor)).all())
    assert scores == {survivor: 500}
    detail = get_customer(session, AGENT, survivor)
    assert sorted(c.value for c in detail.contacts) == [
        "13800138000",
        "zhang.wei@example.com",
        "zw_1988",
    ]  # the duplicate's copy of the same email is set aside
    assert detail.tags == ["VIP", "online"]
    tombstone = get_customer(session, AGENT, duplicate)
    assert tombstone.merged_into_id == survivor
    assert [c.id for c in search_customers(session, AGENT, "张伟").items] == [survivor]
    with pytest.raises(ConflictError, match="merged into"):
        tag_customer(session, AGENT, duplicate, "x")
    assert [m.id for m in list_merges(session, AGENT, duplicate)] == [merge.id]

    undone = undo_merge(session, ADMIN, merge.id)
    assert undone.undone_by_user_id == ADMIN.user_id
    assert _transactions(session, survivor) == before_survivor
    assert _transactions(session, duplicate) == before_duplicate
    scores = dict(session.execute(select(CustomerScore.customer_id, CustomerScore.clv_minor)).all())
    assert scores == {survivor: 500, duplicate: 900}
    assert session.scalar(select(CostToServe.customer_id)) == duplicate
    restored = get_customer(session, AGENT, duplicate)
    assert restored.merged_into_id is None
    assert sorted(c.value for c in restored.contacts) == ["ZHANG.WEI@example.com", "zw_1988"]
    assert restored.tags == ["VIP", "online"]
    assert get_customer(session, AGENT, survivor).tags == ["VIP"]
    kinds = session.scalars(
        select(CustomerEvent.kind).where(CustomerEvent.customer_id == duplicate)
    ).all()
    assert kinds[-2:] == ["merged_into", "unmerged"]
    with pytest.raises(ConflictError, match="already undone"):
        undo_merge(session, ADMIN, merge.id)


def test_undo_refused_after_a_new_purchase_of_the_merged_customer(
    session: Session, pair: tuple[int, int]
) -> None:
    survivor, duplicate = pair
    merge = merge_customers(session, MANAGER, survivor, duplicate)
    new_id = add_purchase(session, survivor, at(20))
    with pytest.raises(ConflictError) as refused:
        undo_merge(session, ADMIN, merge.id)
    message = str(refused.value)
    assert "cannot be undone" in message
    assert "transactions" in message and str(new_id) in message
    assert get_merge(session, AGENT, merge.id).undone_at is None


def test_undo_refused_when_a_moved_row_changed(session: Session, pair: tuple[int, int]) -> None:
    survivor, duplicate = pair
    merge = merge_customers(session, MANAGER, survivor, duplicate)
    moved = session.scalars(select(Transaction).where(Transaction.occurred_at == at(5))).one()
    moved.amount_minor = 1
    session.flush()
    with pytest.raises(ConflictError, match=f"transactions row {moved.id} .* changed"):
        undo_merge(session, ADMIN, merge.id)


def test_undo_is_for_admins_within_the_window(session: Session, pair: tuple[int, int]) -> None:
    survivor, duplicate = pair
    merge = merge_customers(session, MANAGER, survivor, duplicate)
    with pytest.raises(PermissionDeniedError):
        undo_merge(session, MANAGER, merge.id)
    with (
        time_machine.travel(merge.merged_at + timedelta(days=31), tick=False),
        pytest.raises(ConflictError, match="undo window of 30 days"),
    ):
        undo_merge(session, ADMIN, merge.id)
    with time_machine.travel(merge.merged_at + timedelta(days=29), tick=False):
        undo_merge(session, ADMIN, merge.id)


def test_later_merges_are_undone_first(session: Session, person: Callable[..., int]) -> None:
    a, b, c = person("A"), person("A2"), person("A3")
    first = merge_customers(session, MANAGER, a, b)
    second = merge_customers(session, MANAGER, a, c)
    with pytest.raises(ConflictError, match=f"merge {second.id} .* undo it first"):
        undo_merge(session, ADMIN, first.id)
    undo_merge(session, ADMIN, second.id)
    undo_merge(session, ADMIN, first.id)


def test_merge_refuses_illegal_pairs(session: Session, person: Callable[..., int]) -> None:
    a, b = person("A"), person("B")
    organisation = create_customer(
        session, AGENT, CustomerCreate(kind="organisation", name="Org")
    ).id
    with pytest.raises(PermissionDeniedError):
        merge_customers(session, AGENT, a, b)
    with pytest.raises(ConflictError, match="itself"):
        merge_customers(session, MANAGER, a, a)
    with pytest.raises(ConflictError, match="same kind"):
        merge_customers(session, MANAGER, a, organisation)
    merge_customers(session, MANAGER, a, b)
    with pytest.raises(ConflictError, match="merged into"):
        merge_customers(session, MANAGER, b, a)


def test_the_latest_consent_statement_survives_a_merge(
    session: Session, person: Callable[..., int]
) -> None:
    survivor, duplicate = person("Lin"), person("Lin 2")
    set_contact_preference(
        session,
        AGENT,
        survivor,
        PreferenceIn(channel="email", consent="granted", source="form", recorded_at=at(1)),
    )
    set_contact_preference(
        session,
        AGENT,
        duplicate,
        PreferenceIn(channel="email", consent="withdrawn", source="unsubscribe", recorded_at=at(2)),
    )
    merge = merge_customers(session, MANAGER, survivor, duplicate)
    assert not may_contact(session, survivor, "email", "marketing")
    assert not may_contact(session, duplicate, "email", "marketing")
    undo_merge(session, ADMIN, merge.id)
    assert may_contact(session, survivor, "email", "marketing")
    assert not may_contact(session, duplicate, "email", "marketing")


def test_the_survivor_keeps_its_edits_history_and_the_timeline_shows_both(
    session: Session, pair: tuple[int, int]
) -> None:
    survivor, duplicate = pair
    version = get_customer(session, AGENT, duplicate).version
    edit_customer(session, AGENT, duplicate, CustomerUpdate(version=version, notes="from the web"))
    merge_customers(session, MANAGER, survivor, duplicate)
    from kehu.customers.timeline import customer_timeline

    kinds = [e.kind for e in customer_timeline(session, AGENT, survivor, limit=100).entries]
    assert "merged" in kinds and "merged_into" in kinds and "edited" in kinds


@pytest.fixture
def loyalty_points(session: Session) -> Iterator[Table]:
    """A later domain's table, registered as a customer reference (then forgotten again)."""
    metadata = MetaData()
    table = Table(
        "test_loyalty_points",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, nullable=False),
        Column("points", Integer, nullable=False),
        Column("note", String(50)),
    )
    metadata.create_all(session.connection())
    references.register_customer_reference(table, "customer_id")
    yield table
    references._REFERENCES.pop("test_loyalty_points.customer_id")
    metadata.drop_all(session.connection())


def test_later_domains_plug_into_merge(
    session: Session, person: Callable[..., int], loyalty_points: Table
) -> None:
    survivor, duplicate = person("Ma"), person("Ma 2")
    session.execute(
        insert(loyalty_points),
        [
            {"id": 1, "customer_id": survivor, "points": 10},
            {"id": 2, "customer_id": duplicate, "points": 25},
        ],
    )
    merge = merge_customers(session, MANAGER, survivor, duplicate)
    assert merge.moved["test_loyalty_points.customer_id"] == 1
    total = select(func.sum(loyalty_points.c.points)).where(
        loyalty_points.c.customer_id == survivor
    )
    assert session.scalar(total) == 35
    undo_merge(session, ADMIN, merge.id)
    assert session.scalar(total) == 10
    session.execute(insert(loyalty_points), [{"id": 3, "customer_id": duplicate, "points": 5}])
    merge = merge_customers(session, MANAGER, survivor, duplicate)
    session.execute(insert(loyalty_points), [{"id": 4, "customer_id": survivor, "points": 1}])
    with pytest.raises(ConflictError, match="test_loyalty_points row"):
        undo_merge(session, ADMIN, merge.id)


def test_a_scoreless_survivor_takes_the_other_score(
    session: Session, person: Callable[..., int]
) -> None:
    survivor, duplicate = person("Qin"), person("Qin 2")
    add_score(session, duplicate, add_run(session, at(1)), clv_minor=77)
    merge = merge_customers(session, MANAGER, survivor, duplicate)
    assert session.scalar(select(CustomerScore.customer_id)) == survivor
    undo_merge(session, ADMIN, merge.id)
    assert session.scalar(select(CustomerScore.customer_id)) == duplicate


def test_contacts_created_with_the_customer(session: Session) -> None:
    created = create_customer(
        session,
        AGENT,
        CustomerCreate(name="Wu", contacts=[ContactIn(type="phone", value="+86 139 0000 1111")]),
    )
    assert created.contacts[0].value == "+86 139 0000 1111"
