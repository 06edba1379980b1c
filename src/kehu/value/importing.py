"""Import a transaction log into the store: idempotent, all-or-nothing, streaming.

The warehouse has validated the file already (a bad row anywhere raises before the store is
touched). Rows then stream in batches into ``import_staging`` and are published to ``customers``
and ``transactions`` in the same database transaction, so an error at any point leaves the store
as it was.

Idempotency key: ``id:<transaction id>`` when the export has ids; otherwise
``row:<customer>|<timestamp>|<amount>|<occurrence among identical rows>``, so re-importing the same
or an overlapping export adds nothing new while two genuinely identical purchases in one file are
both kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from kehu.customers.tables import Customer
from kehu.errors import DuplicateIdError
from kehu.store.db import Database
from kehu.value.tables import ImportBatch, ImportStaging, Transaction
from kehu.warehouse._compat import to_arrow_batches

BATCH_ROWS = 20_000
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    rows_read: int
    rows_added: int
    customers_added: int

    @property
    def rows_already_stored(self) -> int:
        return self.rows_read - self.rows_added


def keyed_rows(transactions: ir.Table, minor_units: int) -> ir.Table:
    """Add the idempotency key (without the occurrence number, which the store adds: see
    :func:`_number_identical_rows`) and minor-unit money to the canonical transaction table.

    A plain projection, so the engine streams it without holding the file in memory.
    """
    scale = 10**minor_units
    keyed = transactions
    row_key = (
        ibis.literal("row:")
        + keyed.customer_id
        + "|"
        + keyed.ts.cast("string")
        + "|"
        + keyed.amount.cast("string")
    )
    key = ibis.ifelse(
        keyed.transaction_id.isnull(), row_key, ibis.literal("id:") + keyed.transaction_id
    )
    return keyed.select(
        source_row=keyed.source_row,
        customer_external_id=keyed.customer_id,
        transaction_key=key,
        external_id=keyed.transaction_id,
        occurred_at=keyed.ts,
        # canonical amounts already have the currency's decimals, so this is exact
        amount_minor=(keyed.amount * scale).round(0).cast("int64"),
        cost_minor=(keyed.cost * scale).round(0).cast("int64"),
    )


def _as_utc(value: datetime, zone: ZoneInfo) -> datetime:
    """Canonical times are business-local wall-clock time; the store keeps UTC."""
    local = value.replace(tzinfo=zone) if value.tzinfo is None else value
    return local.astimezone(UTC)


def import_transactions(
    database: Database,
    transactions: ir.Table,
    *,
    source: str,
    fingerprint: str,
    minor_units: int,
    timezone: str,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import validated canonical transactions (see :mod:`kehu.warehouse.sources`) into the store.

    ``transactions.ts`` is wall-clock time in the business ``timezone``. Returns how many rows
    were read and how many were new.
    """
    keyed = keyed_rows(transactions, minor_units)
    zone = ZoneInfo(timezone)
    columns = [
        "source_row",
        "customer_external_id",
        "transaction_key",
        "external_id",
        "occurred_at",
        "amount_minor",
        "cost_minor",
    ]
    reader = to_arrow_batches(keyed.select(*columns), chunk_size=BATCH_ROWS)
    with database.session() as session:
        batch = ImportBatch(source=source, fingerprint=fingerprint)
        session.add(batch)
        session.flush()
        rows_read = 0
        for record_batch in reader:
            rows = _staging_rows(record_batch, batch.id, zone)
            if rows:
                session.execute(insert(ImportStaging), rows)
            rows_read += len(rows)
            if progress is not None:
                progress(len(rows))
        _number_identical_rows(session, batch.id)
        _refuse_changed_ids(session, batch.id, source)
        customers_added, rows_added = _publish(session, batch.id)
        session.execute(delete(ImportStaging).where(ImportStaging.import_id == batch.id))
        session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch.id)
            .values(
                rows_read=rows_read,
                rows_added=rows_added,
                customers_added=customers_added,
                finished_at=datetime.now(UTC),
            )
        )
        return ImportResult(batch.id, rows_read, rows_added, customers_added)


def _staging_rows(
    record_batch: pa.RecordBatch, import_id: int, zone: ZoneInfo
) -> list[dict[str, Any]]:
    rows = record_batch.to_pylist()
    for row in rows:
        row["import_id"] = import_id
        row["occurred_at"] = _as_utc(row["occurred_at"], zone)
    return rows


def _number_identical_rows(session: Session, import_id: int) -> None:
    """Complete the keys of rows without a transaction id with their occurrence among identical
    rows (same customer, time and amount) in file order: ``row:c|t|a|1``, ``row:c|t|a|2``, ...

    Done in the store (a window function over the staged rows, on disk) rather than in the
    engine, so that the import streams with flat memory however large the file.
    """
    session.execute(
        text(
            "UPDATE import_staging SET transaction_key = import_staging.transaction_key || '|' "
            "|| CAST(numbered.occurrence AS VARCHAR(20)) "
            "FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY transaction_key ORDER BY "
            "source_row) AS occurrence FROM import_staging "
            "WHERE import_id = :import_id AND external_id IS NULL) AS numbered "
            "WHERE import_staging.id = numbered.id"
        ),
        {"import_id": import_id},
    )


def _refuse_changed_ids(session: Session, import_id: int, source: str) -> None:
    """A transaction id already stored with other content is an error, not a silent overwrite."""
    staged = ImportStaging
    conflict = session.execute(
        select(staged.source_row, staged.external_id, Transaction.import_id)
        .join(Transaction, Transaction.transaction_key == staged.transaction_key)
        .join(Customer, Customer.id == Transaction.customer_id)
        .where(staged.import_id == import_id)
        .where(
            (Customer.external_id != staged.customer_external_id)
            | (Transaction.occurred_at != staged.occurred_at)
            | (Transaction.amount_minor != staged.amount_minor)
            | (func.coalesce(Transaction.cost_minor, -1) != func.coalesce(staged.cost_minor, -1))
        )
        .order_by(staged.source_row)
        .limit(1)
    ).first()
    if conflict is not None:
        raise DuplicateIdError(
            f"transaction id {conflict.external_id!r} is already stored (import "
            f"{conflict.import_id}) with different customer, time, amount or cost",
            file=source,
            row=int(conflict.source_row),
            column="id",
            value=conflict.external_id,
        )


def _publish(session: Session, import_id: int) -> tuple[int, int]:
    """Add the staged customers and transactions that are not in the store yet."""
    customers_before = session.scalar(select(func.count()).select_from(Customer)) or 0
    transactions_before = session.scalar(select(func.count()).select_from(Transaction)) or 0
    now = datetime.now(UTC).replace(tzinfo=None)
    session.execute(
        text(
            "INSERT INTO customers (external_id, created_at, updated_at) "
            "SELECT DISTINCT s.customer_external_id, :now, :now FROM import_staging s "
            "WHERE s.import_id = :import_id AND NOT EXISTS "
            "(SELECT 1 FROM customers c WHERE c.external_id = s.customer_external_id)"
        ),
        {"import_id": import_id, "now": now},
    )
    session.execute(
        text(
            "INSERT INTO transactions (customer_id, transaction_key, external_id, occurred_at, "
            "amount_minor, cost_minor, import_id, created_at) "
            "SELECT c.id, s.transaction_key, s.external_id, s.occurred_at, s.amount_minor, "
            "s.cost_minor, s.import_id, :now "
            "FROM import_staging s JOIN customers c ON c.external_id = s.customer_external_id "
            "WHERE s.import_id = :import_id AND NOT EXISTS "
            "(SELECT 1 FROM transactions t WHERE t.transaction_key = s.transaction_key)"
        ),
        {"import_id": import_id, "now": now},
    )
    customers_after = session.scalar(select(func.count()).select_from(Customer)) or 0
    transactions_after = session.scalar(select(func.count()).select_from(Transaction)) or 0
    return customers_after - customers_before, transactions_after - transactions_before
