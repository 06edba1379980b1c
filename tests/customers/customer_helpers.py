"""Principals and helpers of the customers tests: purchases, value runs and scores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.value.tables import CustomerScore, Transaction, ValueRun

ADMIN = Principal.for_user(1, ["admin"], display_name="admin")
MANAGER = Principal.for_user(2, ["manager"], display_name="manager")
AGENT = Principal.for_user(3, ["agent"], display_name="agent")
READER = Principal.for_user(4, ["read_only"], display_name="reader")
NOBODY = Principal.for_user(5, ["admin"]).with_scopes([], token_id=9)


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


_keys = iter(range(1, 10**9))


def add_purchase(session: Session, customer_id: int, when: datetime, amount: int = 1000) -> int:
    row = Transaction(
        customer_id=customer_id,
        transaction_key=f"test:{next(_keys)}",
        occurred_at=when,
        amount_minor=amount,
        currency="CNY",
    )
    session.add(row)
    session.flush()
    return row.id


def add_score(session: Session, customer_id: int, run: ValueRun, **values: Any) -> None:
    defaults: dict[str, Any] = {
        "frequency": 2,
        "recency": 10.0,
        "age": 20.0,
        "total_spend_minor": 5000,
        "rfm_recency": 3,
        "rfm_frequency": 3,
        "rfm_monetary": 3,
        "rfm_segment": "loyal",
        "clv_minor": 12345,
        "value_tier": "high",
        "margin_minor": 1000,
        "cost_to_serve_minor": 0,
        "profit_minor": 1000,
    }
    session.add(CustomerScore(customer_id=customer_id, run_id=run.id, **{**defaults, **values}))
    session.flush()


def add_run(session: Session, finished: datetime) -> ValueRun:
    run = ValueRun(
        status="succeeded",
        source="test",
        input_fingerprint="x" * 64,
        currency="CNY",
        settings={},
        started_at=finished,
        finished_at=finished,
    )
    session.add(run)
    session.flush()
    return run
