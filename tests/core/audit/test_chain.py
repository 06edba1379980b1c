"""The audit log's hash chain: it verifies, survives erasure of personal data, and catches
tampering with digests, metadata, payloads and the end of the log."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kehu.core.audit import erase_personal_data, record_audit, verify_chain
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import SYSTEM, Principal
from kehu.store.db import Database

ALICE = Principal.for_user(7, ["manager"], display_name="Alice")


@pytest.fixture
def logged(database: Database) -> Database:
    with database.session() as session:
        record_audit(
            session,
            SYSTEM,
            "customer.created",
            "customer",
            1,
            None,
            {"name": "王小明", "phone": "13800138000"},
        )
        record_audit(
            session,
            ALICE,
            "customer.updated",
            "customer",
            1,
            {"phone": "13800138000"},
            {"phone": "13900139000", "at": datetime(2024, 5, 1, tzinfo=UTC)},
        )
        record_audit(
            session,
            ALICE,
            "customer.created",
            "customer",
            2,
            None,
            {"name": "Ann", "credit": Decimal("12.50")},
        )
    with database.session() as session:
        record_audit(
            session,
            ALICE,
            "ticket.resolved",
            "ticket",
            9,
            {"status": "open"},
            {"status": "resolved"},
        )
    return database


def _verify(database: Database):
    with database.session() as session:
        return verify_chain(session)


def test_the_chain_verifies(logged: Database) -> None:
    result = _verify(logged)
    assert result.ok, result
    assert result.events_checked == 4
    with logged.session() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [event.seq for event in events] == [1, 2, 3, 4]
        assert events[0].prev_hash == "0" * 64
        assert all(b.prev_hash == a.chain_hash for a, b in itertools.pairwise(events))
        assert events[1].actor_user_id == 7 and events[1].actor_name == "Alice"
        assert events[1].after["at"] == "2024-05-01T00:00:00+00:00"


def test_erasure_keeps_the_chain_verifiable(logged: Database) -> None:
    with logged.session() as session:
        assert erase_personal_data(session, "customer", 1) == 2
    with logged.session() as session:
        erased = (
            session.execute(select(AuditEvent).where(AuditEvent.entity_id == "1")).scalars().all()
        )
        assert all(e.before is None and e.after is None and e.salt is None for e in erased)
        assert all(e.erased_at is not None for e in erased)
        other = session.execute(select(AuditEvent).where(AuditEvent.entity_id == "2")).scalar_one()
        assert other.after == {"name": "Ann", "credit": "12.50"}
    result = _verify(logged)
    assert result.ok, result
    assert result.erased_events == 2
    # The chain goes on after an erasure.
    with logged.session() as session:
        record_audit(session, SYSTEM, "customer.erased", "customer", 1)
    assert _verify(logged).ok


def _tamper(database: Database, seq: int, **values: object) -> None:
    with database.session() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(**values))


def test_a_changed_digest_is_caught_even_after_erasure(logged: Database) -> None:
    with logged.session() as session:
        erase_personal_data(session, "customer", 1)
    _tamper(logged, 2, payload_digest="f" * 64)
    result = _verify(logged)
    assert not result.ok
    assert result.first_bad_seq == 2


@pytest.mark.parametrize(
    "change",
    [
        {"action": "customer.deleted"},
        {"actor_user_id": 8},
        {"entity_id": "3"},
        {"occurred_at": datetime(2020, 1, 1, tzinfo=UTC)},
    ],
)
def test_changed_metadata_is_caught(logged: Database, change: dict[str, object]) -> None:
    _tamper(logged, 3, **change)
    result = _verify(logged)
    assert not result.ok
    assert result.first_bad_seq == 3


def test_a_changed_payload_is_caught(logged: Database) -> None:
    _tamper(logged, 1, after={"name": "someone else"})
    result = _verify(logged)
    assert not result.ok and result.first_bad_seq == 1
    assert "payload" in (result.reason or "")


def test_a_faked_erasure_that_keeps_a_payload_is_caught(logged: Database) -> None:
    _tamper(logged, 1, erased_at=datetime.now(UTC), after={"name": "rewritten"})
    assert not _verify(logged).ok


def test_missing_events_are_caught(logged: Database) -> None:
    with logged.session() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 4))
    result = _verify(logged)
    assert not result.ok
    assert "end" in (result.reason or "")
    with logged.session() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    assert _verify(logged).first_bad_seq == 2


def test_secrets_and_odd_values_are_refused(database: Database) -> None:
    with database.session() as session, pytest.raises(TypeError):
        record_audit(session, SYSTEM, "x", "thing", 1, None, {"bad": object()})


def test_an_empty_log_verifies(database: Database) -> None:
    session: Session
    with database.session() as session:
        assert verify_chain(session).ok
