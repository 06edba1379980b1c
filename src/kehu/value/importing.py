"""Import a transaction log into the store: idempotent, all-or-nothing, streaming.

The warehouse has validated the file already (a bad row anywhere raises before the store is
touched). Rows then stream in batches into ``import_staging`` and are published in the same
database transaction, so an error at any point leaves the store as it was: the customers the
store does not know yet are created by the customers domain
(:func:`kehu.customers.provisioning.ensure_customers`), the new transactions added, and
:class:`kehu.core.events.PurchaseRecorded` published once per customer with new purchases.

An import declares the currency of its amounts; every row it adds carries it. A store keeps one
currency: an import in another is refused (:class:`~kehu.errors.CurrencyMismatchError`), since
adding yuan to dollars would make every sum, CLV and profit wrong. A business selling in several
currencies converts its export to one before importing it (the rates are its own business).

Idempotency key: ``id:<transaction id>`` when the export has ids; otherwise
``row:<customer>|<timestamp>|<amount>|<occurrence among identical rows>``, so re-importing the same
or an overlapping export adds nothing new while two genuinely identical purchases in one file are
both kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Result, Table, delete, func, insert, literal, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kehu.core.events import PurchaseRecorded, handlers_of, publish
from kehu.core.money import currency_code, currency_exponent
from kehu.customers.provisioning import customer_directory, ensure_customers
from kehu.errors import CurrencyMismatchError, DuplicateIdError
from kehu.store.db import Database
from kehu.value.tables import ImportBatch, ImportStaging, Transaction
from kehu.warehouse._compat import backend_of, bounded_memory, to_arrow_batches
from kehu.warehouse.validation import DataRows, RowLocator

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
    """Add the idempotency key and minor-unit money to the canonical transaction table.

    Keys of rows without a transaction id end in ``|1``, the first occurrence; the store
    renumbers the rare repeats of an identical row (see :func:`_number_identical_rows`).

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
        + "|1"
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
    currency: str,
    timezone: str,
    progress: ProgressCallback | None = None,
    locator: RowLocator | None = None,
) -> ImportResult:
    """Import validated canonical transactions (see :mod:`kehu.warehouse.sources`) into the store.

    ``transactions.ts`` is wall-clock time in the business ``timezone``; the amounts are in
    ``currency`` (validated with its minor unit's decimals). ``locator`` (the source's
    :attr:`~kehu.warehouse.sources.Transactions.locator`) names the file line of a conflicting
    row. Returns how many rows were read and how many were new.
    """
    currency = currency_code(currency)
    keyed = keyed_rows(transactions, currency_exponent(currency))
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
    selected = keyed.select(*columns)
    with (
        bounded_memory(backend_of(selected)),
        database.session() as session,
        _page_cache(session),
    ):
        _refuse_other_currency(session, currency, source)
        reader = to_arrow_batches(selected, chunk_size=BATCH_ROWS)
        batch = ImportBatch(source=source, fingerprint=fingerprint, currency=currency)
        session.add(batch)
        session.flush()
        rows_read = _stage(session, reader, ["import_id", *columns], batch.id, zone, progress)
        _number_identical_rows(session, batch.id)
        _refuse_changed_ids(session, batch.id, source, locator or DataRows())
        customers_added, rows_added = _publish(session, batch.id, currency)
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


SQLITE_CACHE_KIB = 32 * 1024


@contextmanager
def _page_cache(session: Session) -> Iterator[None]:
    """SQLite: a 32 MiB page cache for the import (the default 2 MiB makes every insert into the
    indexes of a large store read pages back from the OS; twice as slow on 3M rows with ids),
    restored after: a fixed amount, whatever the size of the file."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # a dead connection: keep the error that killed it
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _stage(
    session: Session,
    reader: pa.RecordBatchReader,
    columns: list[str],
    import_id: int,
    zone: ZoneInfo,
    progress: ProgressCallback | None,
) -> int:
    """Write the streamed rows to ``import_staging`` in the session's transaction; returns how
    many. Straight through the driver (SQLite ``executemany``, PostgreSQL ``COPY``), with each
    value bound exactly as SQLAlchemy binds it: the ORM's per-row work was most of the time."""
    connection = session.connection()
    dialect = connection.dialect
    table = ImportStaging.__table__
    binds = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    names = ", ".join(columns)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
    if not copy:
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO import_staging ({names}) VALUES ({', '.join([marker] * len(columns))})"
    rows_read = 0
    try:
        for record_batch in reader:
            rows = _staging_rows(record_batch, binds, import_id, zone)
            if copy:
                with cursor.copy(f"COPY import_staging ({names}) FROM STDIN") as stream:
                    for row in rows:
                        stream.write_row(row)
            else:
                cursor.executemany(sql, rows)
            rows_read += record_batch.num_rows
            if progress is not None:
                progress(record_batch.num_rows)
    finally:
        cursor.close()
    if dialect.name == "postgresql":
        # fresh statistics, or the planner takes the staged rows for a handful (nested loops)
        session.execute(text("ANALYZE import_staging"))
    return rows_read


def _staging_rows(
    record_batch: pa.RecordBatch,
    binds: Sequence[Callable[[Any], Any] | None],
    import_id: int,
    zone: ZoneInfo,
) -> list[tuple[Any, ...]]:
    """The batch as DBAPI parameter tuples: ``import_id`` first, then the batch's columns; times
    converted to UTC."""
    values: list[list[Any]] = [[import_id] * record_batch.num_rows]
    for name, column in zip(record_batch.schema.names, record_batch.columns, strict=True):
        values.append(_utc(column, zone) if name == "occurred_at" else column.to_pylist())
    for i, bind in enumerate(binds):
        if bind is not None:
            values[i] = [None if value is None else bind(value) for value in values[i]]
    return list(zip(*values, strict=True))


def _utc(local: pa.Array, zone: ZoneInfo) -> list[datetime]:
    """:func:`_as_utc` of a column of wall-clock times, in Arrow: Python's reading (``fold=0``)
    of times a clock change repeats is Arrow's ``earliest``; times it skips, which Arrow cannot
    read that way, and time zones Arrow does not know go through Python."""
    try:
        earliest, latest = (
            pc.assume_timezone(local, zone.key, ambiguous="earliest", nonexistent=skipped)
            for skipped in ("earliest", "latest")
        )
    except pa.ArrowException:
        return [_as_utc(value, zone) for value in local.to_pylist()]
    utc = earliest.cast(pa.timestamp(local.type.unit, "UTC")).to_pylist()
    skipped = pc.not_equal(earliest, latest)
    if pc.any(skipped).as_py():
        wall = local.to_pylist()
        for i in pc.indices_nonzero(skipped).to_pylist():
            utc[i] = _as_utc(wall[i], zone)
    return utc


def _number_identical_rows(session: Session, import_id: int) -> None:
    """Number the repeats of identical rows (same customer, time and amount, no transaction id)
    in file order: staged as ``row:c|t|a|1``, they become ``row:c|t|a|1``, ``row:c|t|a|2``, ...

    Done in the store (a grouping over the staged rows, on disk) rather than in the engine, so
    that the import streams with flat memory however large the file; only the repeats, usually
    few, are rewritten.
    """
    session.execute(
        text(
            "UPDATE import_staging SET transaction_key = "
            "SUBSTR(import_staging.transaction_key, 1, LENGTH(import_staging.transaction_key) - 1)"
            " || CAST(numbered.occurrence AS VARCHAR(20)) "
            "FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY transaction_key ORDER BY "
            "source_row) AS occurrence FROM import_staging "
            "WHERE import_id = :import_id AND external_id IS NULL AND transaction_key IN "
            "(SELECT transaction_key FROM import_staging "
            "WHERE import_id = :import_id AND external_id IS NULL "
            "GROUP BY transaction_key HAVING COUNT(*) > 1)) AS numbered "
            "WHERE import_staging.id = numbered.id AND numbered.occurrence > 1"
        ),
        {"import_id": import_id},
    )


#: PostgreSQL advisory lock taken by an import into a store without transactions (any constant).
FIRST_CURRENCY_LOCK = 0x6B656875_0006


def store_currency(session: Session) -> str | None:
    """The currency of the store's transactions (``None`` while it has none). One row is
    enough: imports keep the store to one currency."""
    return session.scalar(select(Transaction.currency).order_by(Transaction.id).limit(1))


def _refuse_other_currency(session: Session, currency: str, source: str) -> None:
    """An import in another currency than the store's transactions is refused, naming both."""
    stored = store_currency(session)
    if stored is None and session.get_bind().dialect.name == "postgresql":
        # two first imports at once must not both find the store empty: the second waits for
        # the first to commit, then sees its currency (SQLite's one writer serialises them)
        session.execute(select(func.pg_advisory_xact_lock(FIRST_CURRENCY_LOCK)))
        stored = store_currency(session)
    if stored is not None and stored != currency:
        raise CurrencyMismatchError(
            f"the file's amounts were declared in {currency} (--currency, default "
            f"KEHU_CURRENCY) but the store's transactions are in {stored}: a store keeps one "
            f"currency; convert the file to {stored}, or import it with --currency {stored} "
            "if it is in that currency",
            file=source,
        )


def _refuse_changed_ids(session: Session, import_id: int, source: str, locator: RowLocator) -> None:
    """A transaction id already stored with other content is an error, not a silent overwrite.

    The customer is compared after merges: a stored transaction that moved to the survivor of a
    merge still matches a row naming the merged customer's external id."""
    staged = ImportStaging
    named = customer_directory()
    conflict = session.execute(
        select(staged.source_row, staged.external_id, Transaction.import_id)
        .join(Transaction, Transaction.transaction_key == staged.transaction_key)
        .outerjoin(named, named.c.external_id == staged.customer_external_id)
        .where(staged.import_id == import_id)
        .where(
            (named.c.survivor_id != Transaction.customer_id)
            | (Transaction.occurred_at != staged.occurred_at)
            | (Transaction.amount_minor != staged.amount_minor)
            | (func.coalesce(Transaction.cost_minor, -1) != func.coalesce(staged.cost_minor, -1))
        )
        .order_by(staged.source_row)
        .limit(1)
    ).first()
    if conflict is not None:
        record = int(conflict.source_row)
        place = locator.locate([record])[record]
        raise DuplicateIdError(
            f"transaction id {conflict.external_id!r} is already stored (import "
            f"{conflict.import_id}) with different customer, time, amount or cost",
            file=source,
            line=place if locator.unit == "line" else None,
            row=place if locator.unit != "line" else None,
            column="id",
            value=conflict.external_id,
        )


def _publish(session: Session, import_id: int, currency: str) -> tuple[int, int]:
    """Add the staged customers and transactions that are not in the store yet, in the
    import's ``currency``; the new customers through the customers domain
    (:func:`kehu.customers.provisioning.ensure_customers`: search keys, a ``created`` event).
    Then :class:`~kehu.core.events.PurchaseRecorded` is published once per customer whose
    purchases the import added, in the import's transaction.

    In key order, so that the unique indexes are filled left to right rather than at random
    pages (several times faster on a store larger than its page cache)."""
    now = datetime.now(UTC)
    directory = customer_directory()
    created = ensure_customers(
        session,
        select(ImportStaging.customer_external_id).where(ImportStaging.import_id == import_id),
        now=now,
        source=f"transaction import {import_id}",
    )
    last_stored = session.scalar(select(func.max(Transaction.id))) or 0
    staged = ImportStaging
    stored = Transaction
    rows = (
        select(
            # a merged customer's purchases go to the customer it was merged into
            directory.c.survivor_id,
            staged.transaction_key,
            staged.external_id,
            staged.occurred_at,
            staged.amount_minor,
            staged.cost_minor,
            literal(currency, TRANSACTIONS_TABLE.c.currency.type),
            staged.import_id,
            literal(now, TRANSACTIONS_TABLE.c.created_at.type),
        )
        .join(directory, directory.c.external_id == staged.customer_external_id)
        .where(staged.import_id == import_id)
        .where(~select(stored.id).where(stored.transaction_key == staged.transaction_key).exists())
        .order_by(staged.transaction_key)
    )
    transactions = session.execute(
        insert(TRANSACTIONS_TABLE).from_select(
            [
                "customer_id",
                "transaction_key",
                "external_id",
                "occurred_at",
                "amount_minor",
                "cost_minor",
                "currency",
                "import_id",
                "created_at",
            ],
            rows,
        ),
        # an INSERT's rowcount is kept only when asked for (psycopg reports -1 otherwise)
        execution_options={"preserve_rowcount": True},
    )
    rows_added = _rowcount(transactions)
    _publish_purchases(session, import_id, after_id=last_stored, at=now)
    return len(created), rows_added


TRANSACTIONS_TABLE = cast(Table, Transaction.__table__)


def _publish_purchases(session: Session, import_id: int, *, after_id: int, at: datetime) -> int:
    """Publish :class:`~kehu.core.events.PurchaseRecorded` for each customer with purchases the
    import added (the transactions of ``import_id`` with ids above ``after_id``), in customer
    order; returns how many events. Nothing is read when no handler subscribed."""
    if not handlers_of(PurchaseRecorded):
        return 0
    purchases = session.execute(
        select(Transaction.customer_id, func.count(), func.max(Transaction.occurred_at))
        .where(Transaction.id > after_id, Transaction.import_id == import_id)
        .group_by(Transaction.customer_id)
        .order_by(Transaction.customer_id)
    ).all()
    for customer_id, count, latest in purchases:
        publish(
            session,
            PurchaseRecorded(
                at=at,
                customer_id=int(customer_id),
                import_id=import_id,
                count=int(count),
                latest=_aware(latest),
            ),
        )
    return len(purchases)


def _aware(value: datetime) -> datetime:
    """A time read back from the store, as an aware UTC datetime."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rowcount(result: Result[Any]) -> int:
    count = getattr(result, "rowcount", -1)
    if count is None or count < 0:  # pragma: no cover - both supported drivers report it
        raise RuntimeError("the database driver did not report how many rows were inserted")
    return int(count)
