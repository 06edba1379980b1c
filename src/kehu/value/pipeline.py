"""The value job's steps, as the front doors run them: open a source (a file or the store),
import it, compute and save a run, write its report. Each step returns what it did; the
front doors print it (the ``kehu value`` command) and show progress through a
:class:`~kehu.progress.ProgressReporter`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, select

from kehu.core.config import Settings
from kehu.core.money import currency_exponent
from kehu.customers.provisioning import customer_directory
from kehu.errors import (
    CurrencyMismatchError,
    EmptyInputError,
    InputError,
    InvalidRowsError,
    NotFoundError,
    RowProblem,
)
from kehu.progress import ProgressReporter, SilentProgress
from kehu.report import write_value_report
from kehu.store.db import Database
from kehu.value import service
from kehu.value.importing import ImportResult, import_transactions
from kehu.value.reporting import (
    report_data_from_result,
    report_data_from_store,
    report_translator,
)
from kehu.value.schemas import ValueOptions, ValueRunResult
from kehu.value.sources import Source, open_file
from kehu.value.tables import CustomerScore, Transaction, ValueRun
from kehu.warehouse import ColumnMap, from_arrow
from kehu.warehouse.validation import SHOWN_ROWS, CsvLines

STORE_SOURCE = "<store>"
STORE_CHUNK_ROWS = 50_000


def open_source(
    file: Path | None,
    *,
    customer: str,
    date: str,
    amount: str,
    id: str | None,
    cost: str | None,
    encoding: str,
    database: Database | None,
    timezone: str,
    currency: str,
    date_format: str | None = None,
) -> Source:
    """Validate a CSV/Parquet file whose amounts are in ``currency`` (read with its minor unit's
    decimals; text dates in ``date_format`` when given, strftime codes;
    :func:`kehu.value.sources.open_file`), or read the store's transactions when ``file`` is
    None: they are in the currency they were stored in, whatever ``currency`` says."""
    if file is None:
        if database is None:
            raise InputError("no file given and no store to read transactions from")
        return store_source(database, timezone=timezone)
    return open_file(
        file,
        customer=customer,
        date=date,
        amount=amount,
        id=id,
        cost=cost,
        encoding=encoding,
        timezone=timezone,
        currency=currency,
        date_format=date_format,
    )


def store_source(database: Database, *, timezone: str) -> Source:
    """The store's transactions as a validated log, read in chunks into Arrow (compact columns,
    no Python object per row kept); UTC times become business-local in the warehouse. Their
    amounts are in the store's one currency (a second one is refused: a value run does not mix
    currencies)."""
    database.check_schema()
    currency: str | None = None
    batches: list[pa.RecordBatch] = []
    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("ts", pa.timestamp("us", tz="UTC")),
            ("amount", pa.float64()),
            ("cost", pa.float64()),
            ("id", pa.string()),
        ]
    )
    customer = customer_directory()
    with database.session() as session:
        result = session.execute(
            select(
                customer.c.external_id,
                Transaction.occurred_at,
                Transaction.amount_minor,
                Transaction.cost_minor,
                Transaction.transaction_key,
                Transaction.currency,
            )
            .join(customer, customer.c.id == Transaction.customer_id)
            .order_by(Transaction.id)
            .execution_options(yield_per=STORE_CHUNK_ROWS)
        )
        for rows in result.partitions():
            customer_ids, times, amounts, costs, keys, currencies = zip(*rows, strict=True)
            currency = _one_currency(currency, currencies)
            # int64 minor units / 10**m as float64 is exact to the m decimals the warehouse
            # reads back (amounts below 2**53 minor units)
            scale = 10 ** currency_exponent(currency)
            cost_minor = pa.array(costs, pa.int64())
            batches.append(
                pa.record_batch(
                    [
                        pa.array(customer_ids, pa.string()),
                        pa.array(times, pa.timestamp("us", tz="UTC")),
                        pc.divide(pa.array(amounts, pa.int64()).cast(pa.float64()), scale),
                        pc.divide(cost_minor.cast(pa.float64()), scale),
                        pa.array(keys, pa.string()),
                    ],
                    schema=schema,
                )
            )
        last_id = session.scalar(select(func.max(Transaction.id))) or 0
    if not batches or currency is None:
        raise EmptyInputError("the store has no transactions yet: run `kehu import FILE` first")
    table = pa.Table.from_batches(batches, schema=schema)
    has_cost = table.column("cost").null_count < table.num_rows
    transactions = from_arrow(
        table,
        ColumnMap("customer_id", "ts", "amount", id="id", cost="cost" if has_cost else None),
        source=STORE_SOURCE,
        timezone=timezone,
        minor_units=currency_exponent(currency),
    )
    return Source(transactions, STORE_SOURCE, f"store-up-to-transaction-{last_id}", None, currency)


def _one_currency(known: str | None, currencies: tuple[str, ...]) -> str:
    """The one currency of the store's transactions read so far, or a refusal naming two."""
    found = set(currencies) | ({known} if known else set())
    if len(found) > 1:
        raise CurrencyMismatchError(
            f"the store's transactions are in {' and '.join(sorted(found))}: a value run "
            "computes in one currency",
            file=STORE_SOURCE,
        )
    return found.pop()


def import_source(
    source: Source,
    database: Database,
    *,
    settings: Settings,
    reporter: ProgressReporter | None = None,
) -> ImportResult:
    """Import a file source into the store, reporting the rows as they are staged (the rows
    read less those repeating a transaction id, which validation dropped)."""
    reporter = reporter or SilentProgress()
    staged = source.transactions.n_rows - source.transactions.n_duplicates
    with reporter.step(f"Importing {source.label}", total=staged) as advance:
        return import_transactions(
            database,
            source.transactions.table,
            source=source.label,
            fingerprint=source.fingerprint,
            currency=source.currency,
            timezone=settings.timezone,
            progress=advance,
            locator=source.transactions.locator,
        )


def read_cost_to_serve(path: Path) -> pd.Series:
    """A per-customer cost-to-serve file: columns ``customer_id`` and ``cost``. Bad costs are
    reported by file line (header = line 1), every one up to
    :data:`~kehu.warehouse.validation.SHOWN_ROWS`, with a count of the rest."""
    try:
        frame = pd.read_csv(path, dtype={"customer_id": str})
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the cost-to-serve file: {exc}", file=str(path)) from None
    missing = [c for c in ("customer_id", "cost") if c not in frame.columns]
    if missing:
        raise InputError(
            f"columns {missing} not found; the columns found are {list(frame.columns)}",
            file=str(path),
        )
    costs = pd.to_numeric(frame["cost"], errors="coerce")
    bad = frame.index[costs.isna() | ~np.isfinite(costs.fillna(0))]
    if len(bad):
        # pandas skips blank lines as the warehouse's readers do: record i + 1 of the file
        shown = [int(i) for i in bad[:SHOWN_ROWS]]
        lines = CsvLines(path).locate([i + 1 for i in shown])
        problem = RowProblem(
            column="cost",
            reason="cost must be a finite number",
            places=tuple((lines[i + 1], frame["cost"].iloc[i]) for i in shown),
            n_rows=len(bad),
        )
        raise InvalidRowsError([problem], file=str(path))
    return costs.groupby(frame["customer_id"].str.strip()).sum()


def compute_and_save(
    source: Source,
    options: ValueOptions,
    *,
    settings: Settings,
    database: Database | None,
    cost_to_serve_file: Path | None,
    reporter: ProgressReporter | None = None,
) -> ValueRunResult:
    """Compute customer value on ``source`` and, when there is a ``database`` (the migrated
    store), save the run there (``result.run_id``). Nothing is imported here: a file source is
    imported first with :func:`import_source`.

    The run computes in the source's currency (``options.currency`` must be it); cost-to-serve
    from the store must be in it too, a cost-to-serve file is taken to be."""
    reporter = reporter or SilentProgress()
    check_currency(source, options)
    costs = None
    if cost_to_serve_file is not None:
        costs = read_cost_to_serve(cost_to_serve_file)
    elif database is not None:
        costs = service.cost_to_serve_from_store(database, currency=options.currency) / (
            10 ** currency_exponent(options.currency)
        )
    result = service.compute_value(
        source.transactions, options, cost_to_serve=costs, reporter=reporter
    )
    if database is not None:
        with reporter.step("Writing scores to the store"):
            result.run_id = service.save_value_run(
                database,
                result,
                source=source.label,
                fingerprint=source.fingerprint,
                archive_dir=settings.data_dir / "score-archive",
            )
    return result


def check_currency(source: Source, options: ValueOptions) -> None:
    """A value run computes in the currency of its input: ``options.currency`` must be the
    source's (else ``CurrencyMismatchError``)."""
    if options.currency != source.currency:
        raise CurrencyMismatchError(
            f"the transactions are in {source.currency}, the value run was asked for "
            f"{options.currency}: a value run computes in the currency of its input",
            file=source.label,
        )


def write_report(
    result: ValueRunResult,
    path: Path,
    *,
    dataset: str,
    language: str = "en",
    timezone: str = "UTC",
) -> Path:
    """Write the self-contained HTML report of a computed run in ``language`` (``en`` or
    ``zh-Hans``), its dates in the business ``timezone``."""
    translator = report_translator(language, timezone)
    data = report_data_from_result(result, dataset=dataset, translator=translator)
    return write_value_report(path, data, translator)


def latest_run(database: Database, run_id: int | None = None) -> ValueRun:
    with database.session() as session:
        query = select(ValueRun).order_by(ValueRun.id.desc()).limit(1)
        if run_id is not None:
            query = select(ValueRun).where(ValueRun.id == run_id)
        run = session.scalar(query)
    if run is None:
        raise NotFoundError(
            "no value run in the store yet: run `kehu value`"
            if run_id is None
            else f"no value run {run_id}"
        )
    return run


def write_report_from_store(
    database: Database,
    path: Path,
    *,
    run_id: int | None,
    language: str = "en",
    timezone: str = "UTC",
) -> Path:
    """Write the HTML report of a stored run (its scores must still be the latest) in
    ``language``, its dates in the business ``timezone``."""
    translator = report_translator(language, timezone)
    run = latest_run(database, run_id)
    customer = customer_directory()
    with database.session() as session:
        scores = pd.read_sql(
            select(CustomerScore, customer.c.external_id)
            .join(customer, customer.c.id == CustomerScore.customer_id)
            .where(CustomerScore.run_id == run.id),
            session.connection(),
        )
    if scores.empty:
        raise NotFoundError(
            f"value run {run.id}'s scores are archived ({run.scores_archive}); "
            "only the latest run can be reported from the store"
        )
    return write_value_report(
        path, report_data_from_store(run, scores, translator=translator), translator
    )


__all__ = [
    "Source",
    "check_currency",
    "compute_and_save",
    "import_source",
    "latest_run",
    "open_source",
    "read_cost_to_serve",
    "store_source",
    "write_report",
    "write_report_from_store",
]
