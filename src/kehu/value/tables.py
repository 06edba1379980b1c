"""Tables owned by the value domain.

Money is integer minor units (``*_minor``) of the currency stored beside it: a transaction, an
import and a cost-to-serve row each carry their ``currency``; a value run computes in one
currency, and its customers' scores are in the run's (see :class:`kehu.core.money.Money`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kehu.core.money import Money
from kehu.store.base import Base, UTCDateTime, utc_now

ID = BigInteger().with_variant(Integer, "sqlite")
#: An ISO 4217 code, upper case (:func:`kehu.core.money.currency_code`).
Currency = String(3)


class ImportBatch(Base):
    """One file imported into the store (kept even when nothing new was added)."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # what the file's amounts are in, as the import declared it; every row it added has it
    currency: Mapped[str] = mapped_column(Currency)
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
    # of amount and cost; one for the whole store (an import in another currency is refused)
    currency: Mapped[str] = mapped_column(Currency)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (Index("ix_transactions_customer_occurred", "customer_id", "occurred_at"),)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def cost(self) -> Money | None:
        return None if self.cost_minor is None else Money(self.cost_minor, self.currency)


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
    """What serving a customer cost, in minor units of ``currency`` (filled by the service desk,
    or imported)."""

    __tablename__ = "cost_to_serve"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Currency)
    source: Mapped[str] = mapped_column(String(50))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


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
    # the one currency of the run's input and of all its scores' amounts
    currency: Mapped[str] = mapped_column(Currency)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    models: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    n_customers: Mapped[int] = mapped_column(BigInteger, default=0)
    scores_archive: Mapped[str | None] = mapped_column(Text)


class CustomerScore(Base):
    """The latest value scores of one customer (older runs' scores are archived in Parquet).
    Its amounts are in the currency of its run (``value_runs.currency``)."""

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
    # ends of the run's intervals (its ``interval_level``) from the estimates' sampling
    # distribution; empty for runs without them
    probability_alive_low: Mapped[float | None] = mapped_column(Float)
    probability_alive_high: Mapped[float | None] = mapped_column(Float)
    expected_purchases_low: Mapped[float | None] = mapped_column(Float)
    expected_purchases_high: Mapped[float | None] = mapped_column(Float)
    clv_low_minor: Mapped[int | None] = mapped_column(BigInteger)
    clv_high_minor: Mapped[int | None] = mapped_column(BigInteger)
    value_tier: Mapped[str | None] = mapped_column(String(10))
    margin_minor: Mapped[int] = mapped_column(BigInteger)
    cost_to_serve_minor: Mapped[int] = mapped_column(BigInteger)
    profit_minor: Mapped[int] = mapped_column(BigInteger)
