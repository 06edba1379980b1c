"""Customers other domains bring in (the value import): created the way every customer is, with
search keys, a ``created`` event and its audit event by the system, in UTC; and the lookups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.core.audit import verify_chain
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import SYSTEM, Principal
from kehu.customers import provisioning
from kehu.customers.merge import merge_customers
from kehu.customers.search import search_customers
from kehu.customers.tables import Customer, CustomerEvent
from kehu.errors import PermissionDeniedError

NOW = datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))


def test_creates_the_missing_customers_with_search_keys_events_and_utc_times(
    session: Session, person: Callable[..., int]
) -> None:
    known = person("王芳", external_id="K-1")
    created = provisioning.ensure_customers(
        session, ["N-2", "K-1", "N-1", "N-2"], now=NOW, source="transaction import 7"
    )
    assert sorted(created) == ["N-1", "N-2"]
    assert known not in created.values()
    rows = {
        c.external_id: c
        for c in session.scalars(select(Customer).where(Customer.id.in_(created.values())))
    }
    assert {external_id: rows[external_id].id for external_id in rows} == created
    for customer in rows.values():
        assert customer.kind == "person" and customer.name is None
        assert customer.created_at == customer.updated_at == NOW.astimezone(UTC)
        assert customer.created_at.tzinfo is not None
        assert customer.search_text == customer.external_id.lower()
    # found by a search, like every customer
    found = search_customers(session, SYSTEM, "n-1")
    assert [item.id for item in found.items] == [created["N-1"]]
    events = session.scalars(
        select(CustomerEvent).where(CustomerEvent.customer_id.in_(created.values()))
    ).all()
    assert sorted((e.customer_id, e.kind) for e in events) == sorted(
        (i, "created") for i in created.values()
    )
    event = next(e for e in events if e.customer_id == created["N-1"])
    assert event.actor_user_id is None and event.at == NOW.astimezone(UTC)
    assert event.data == {
        "after": {"kind": "person", "external_id": "N-1"},
        "source": "transaction import 7",
    }
    audit = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "customer.created", AuditEvent.entity == "customer_batch"
        )
    ).one()
    first, last = sorted(created.values())
    assert audit.entity_id == f"{first}..{last}" and audit.actor_name == "system"
    assert audit.before is None
    assert audit.after == {
        "kind": "person",
        "count": 2,
        "source": "transaction import 7",
        "customers": [[created["N-1"], "N-1"], [created["N-2"], "N-2"]],
    }
    assert verify_chain(session).ok


def test_creating_again_creates_nothing(session: Session) -> None:
    assert provisioning.ensure_customers(session, ["A"], now=NOW) == {
        "A": provisioning.customer_ids_by_external_id(session, ["A"])["A"]
    }
    events = session.scalar(select(func.count()).select_from(CustomerEvent))
    assert provisioning.ensure_customers(session, ["A"], now=NOW) == {}
    assert provisioning.ensure_customers(session, [], now=NOW) == {}
    assert session.scalar(select(func.count()).select_from(CustomerEvent)) == events


def test_many_customers_are_created_and_audited_in_batches(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provisioning, "BATCH_ROWS", 7)
    ids = [f"B{i:03d}" for i in range(30)]
    created = provisioning.ensure_customers(session, ids, now=NOW)
    assert sorted(created) == ids
    # created in external-id order
    assert [created[i] for i in ids] == sorted(created.values())
    batches = session.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.entity == "customer_batch")
        .order_by(AuditEvent.seq)
    ).all()
    # one audit event per batch, together naming every new customer once
    assert [batch["count"] for batch in batches] == [7, 7, 7, 7, 2]
    assert [pair[1] for batch in batches for pair in batch["customers"]] == ids
    verification = verify_chain(session)
    assert verification.ok, verification


def test_a_naive_time_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="aware"):
        provisioning.ensure_customers(session, ["X"], now=datetime(2024, 1, 1))


def test_lookups_and_the_directory(session: Session, person: Callable[..., int]) -> None:
    one = person("李雷", external_id="L-1")
    two = person("韩梅梅", external_id="L-2")
    assert provisioning.customer_ids_by_external_id(session, ["L-1", "L-2", "nobody"]) == {
        "L-1": one,
        "L-2": two,
    }
    everyone = provisioning.customer_ids_by_external_id(session)
    assert everyone["L-1"] == one and everyone["L-2"] == two
    assert provisioning.external_ids_by_id(session, [one, two, 10**9]) == {
        one: "L-1",
        two: "L-2",
    }
    merge_customers(session, SYSTEM, survivor_id=one, merged_id=two)
    directory = provisioning.customer_directory()
    rows = {
        row.external_id: row
        for row in session.execute(select(directory).where(directory.c.id.in_([one, two])))
    }
    assert rows["L-1"].survivor_id == one and rows["L-1"].name == "李雷"
    assert rows["L-2"].survivor_id == one  # merged: its purchases go to the survivor
    nobody = Principal(user_id=10**6, roles=frozenset())
    with pytest.raises(PermissionDeniedError):
        provisioning.customer_directory(nobody)
