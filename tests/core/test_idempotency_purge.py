"""The hourly ``idempotency_purge`` job forgets expired Idempotency-Key records, and only those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

import kehu.domains  # noqa: F401  (registers the platform's jobs)
from kehu.core import idempotency
from kehu.core.idempotency import IdempotencyRecord, purge_expired_idempotency_keys
from kehu.core.jobs import JOB_REGISTRY
from kehu.store.db import Database

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _record(key: str, expires_at: datetime) -> IdempotencyRecord:
    return IdempotencyRecord(
        principal_key="user:1",
        key=key,
        request_digest="0" * 64,
        authority_digest="0" * 64,
        method="POST",
        path="/api/customers",
        status_code=201,
        created_at=expires_at - timedelta(hours=24),
        expires_at=expires_at,
    )


def test_expired_keys_are_purged_in_batches_and_live_ones_stay(
    database: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 2)  # several batches
    with database.session() as session:
        session.add_all(_record(f"old-{i}", NOW - timedelta(minutes=i + 1)) for i in range(5))
        session.add(_record("due-now", NOW))  # expires_at <= now: forgotten
        session.add(_record("live", NOW + timedelta(seconds=1)))
    assert purge_expired_idempotency_keys(database, NOW) == 6
    with database.session() as session:
        assert list(session.scalars(select(IdempotencyRecord.key))) == ["live"]
    assert purge_expired_idempotency_keys(database, NOW) == 0


def test_the_purge_is_a_scheduled_job_of_the_platform() -> None:
    spec = JOB_REGISTRY["idempotency_purge"]
    assert spec.every == timedelta(hours=1)
