"""Tables owned by the value domain. Money is integer minor units of the business currency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kehu.auth.scoping import register_scope
from kehu.store.base import Base, UTCDateTime, utc_now

ID = BigInteger().with_variant(Integer, "sqlite")


class ImportBatch(Base):
    """One file imported into the store (kept even when nothing new was added)."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_added: Mapped[int] = mapped_column(BigInteger, default=0)
    customers_added: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Transaction(Base):
    """A purchase (positive amount) or a return (negative amount)."""

    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    # Idempotency key: "id:<order id>" when the export has ids, else
    # "row:<customer>|<timestamp>|<amount>|<occurrence among identical rows>".
    transaction_key: Mapped[str] = mapped_column(String(400), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (Index("ix_transactions_customer_occurred", "customer_id", "occurred_at"),)


class ImportStaging(Base):
    """Rows of an import in flight: validated, then published in the same database transaction."""

    __tablename__ = "import_staging"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    import_id: Mapped[int] = mapped_column(BigInteger, index=True)
    source_row: Mapped[int] = mapped_column(BigInteger)
    customer_external_id: Mapped[str] = mapped_column(String(200))
    transaction_key: Mapped[str] = mapped_column(String(400))
    external_id: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)


class CostToServe(Base):
    """What serving a customer cost, in minor units (filled by the service desk, or imported)."""

    __tablename__ = "cost_to_serve"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(50))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ValueRun(Base):
    """One computation of customer value: settings, fitted models, diagnostics, input
    fingerprint."""

    __tablename__ = "value_runs"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # running, succeeded, partial, failed
    source: Mapped[str] = mapped_column(Text)
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    models: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    n_customers: Mapped[int] = mapped_column(BigInteger, default=0)
    scores_archive: Mapped[str | None] = mapped_column(Text)


class CustomerScore(Base):
    """The latest value scores of one customer (older runs' scores are archived in Parquet)."""

    __tablename__ = "customer_scores"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("value_runs.id"), index=True)
    frequency: Mapped[int] = mapped_column(Integer)
    recency: Mapped[float] = mapped_column(Float)
    age: Mapped[float] = mapped_column(Float)  # T: first purchase to observation end
    monetary_value_minor: Mapped[int | None] = mapped_column(BigInteger)
    total_spend_minor: Mapped[int] = mapped_column(BigInteger)
    rfm_recency: Mapped[int] = mapped_column(Integer)
    rfm_frequency: Mapped[int] = mapped_column(Integer)
    rfm_monetary: Mapped[int] = mapped_column(Integer)
    rfm_segment: Mapped[str] = mapped_column(String(40))
    probability_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases: Mapped[float | None] = mapped_column(Float)
    expected_spend_minor: Mapped[int | None] = mapped_column(BigInteger)
    clv_minor: Mapped[int | None] = mapped_column(BigInteger)
    value_tier: Mapped[str | None] = mapped_column(String(10))
    margin_minor: Mapped[int] = mapped_column(BigInteger)
    cost_to_serve_minor: Mapped[int] = mapped_column(BigInteger)
    profit_minor: Mapped[int] = mapped_column(BigInteger)


# The permission layer: value figures need value:read; a transaction is customer data.
register_scope(ValueRun, "value:read")
register_scope(CustomerScore, "value:read")
register_scope(Transaction, "customers:read")
