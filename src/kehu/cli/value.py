"""``kehu value``, ``kehu import`` and ``kehu report``: customer value from a transaction log.

The terminal side of the value job: :func:`run` strings the steps of :mod:`kehu.value.pipeline`
together with progress bars, and :func:`print_result` prints a computed run.

A file is validated first, with :mod:`kehu.value.sources` (the warehouse alone); the pipeline
-- the value domain's tables and use cases, the report, the customers domain with its pinyin
dictionary -- is imported by the functions that use it, after that: a bad file is refused
before they load (issue 9). This hides
no cycle: the acyclic_siblings contract in pyproject.toml counts function-level imports too."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import pyarrow.compute as pc
import typer
from rich.console import Console

from kehu.cli.render import (
    RichProgress,
    candidate_failures,
    candidates_table,
    frame_table,
    models_table,
)
from kehu.core.config import Settings, get_settings
from kehu.core.money import currency_code, currency_exponent
from kehu.errors import CurrencyMismatchError, InputError, ModelError
from kehu.value.schemas import ModelChoice, TimeUnit, ValueOptions, ValueRunResult
from kehu.value.sources import Source, open_file
from kehu.warehouse._compat import bounded_memory

if TYPE_CHECKING:
    from kehu.store.db import Database
    from kehu.value.importing import ImportResult

console = Console()


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InputError(f"{option} must be a date like 2024-12-31", value=value) from None


def _database(settings: Settings) -> Database:
    """The migrated store, with every domain registered (row scopes, event handlers) first.

    The domains (the desk's, the web's templates, ...) take seconds to load, so they are
    imported here, when the store is first needed: after a file has been validated, so that a
    bad file fails in well under the time they take (issue 9)."""
    import kehu.domains  # noqa: F401  (every domain registers with the platform)
    from kehu.cli.store import open_store  # SQLAlchemy: loaded once a file has passed

    return open_store(settings, migrate=True)


DateFormatOption = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="layout of the file's dates in strftime codes, e.g. '%d/%m/%Y' for 31/01/2024 "
        "(default: ISO dates and date-times, or YYYYMMDD)",
    ),
]

#: the report's languages (kehu.core.i18n.LOCALES): checked by the option, before any work
ReportLanguage = Literal["en", "zh-Hans"]

LanguageOption = Annotated[
    ReportLanguage | None,
    typer.Option(
        "--language",
        help="language of the HTML report: en or zh-Hans (default KEHU_STAFF_LANGUAGE, the "
        "language of the desk's staff)",
    ),
]

CurrencyOption = Annotated[
    str | None,
    typer.Option(
        help="ISO 4217 currency the file's amounts are in (default KEHU_CURRENCY); the store "
        "keeps one currency and refuses a file in another"
    ),
]


def import_source(
    source: Source, database: Database, *, settings: Settings, console: Console
) -> ImportResult:
    """Import a file source into the store, with a progress bar."""
    from kehu.value import pipeline

    return pipeline.import_source(
        source, database, settings=settings, reporter=RichProgress(console)
    )


def run(
    source: Source,
    options: ValueOptions,
    *,
    settings: Settings,
    database: Database | None,
    cost_to_serve_file: Path | None,
    output: Path | None,
    console: Console,
    report: Path | None = None,
    language: str | None = None,
) -> ValueRunResult:
    """Import (a file source, when there is a ``database``: the migrated store), compute, save
    to the store, print and write files. Without a database nothing touches the store.

    The run computes in the source's currency (``options.currency`` must be it); cost-to-serve
    from the store must be in it too, a cost-to-serve file is taken to be."""
    from kehu.value import pipeline, service

    pipeline.check_currency(source, options)
    progress = RichProgress(console)
    if database is not None and source.path is not None:
        imported = import_source(source, database, settings=settings, console=console)
        console.print(
            f"store: {imported.rows_added:,} new transactions "
            f"({imported.rows_already_stored:,} already stored), "
            f"{imported.customers_added:,} new customers"
        )
    result = pipeline.compute_and_save(
        source,
        options,
        settings=settings,
        database=database,
        cost_to_serve_file=cost_to_serve_file,
        reporter=progress,
    )
    print_result(result, console)
    if output is not None:
        service.write_scores(result, output)
        console.print(f"scores written to [bold]{output}[/]")
    if report is not None:
        pipeline.write_report(
            result,
            report,
            dataset=source.label,
            language=language or settings.staff_language,
            timezone=settings.timezone,
        )
        console.print(f"report written to [bold]{report}[/]")
    return result


def print_result(result: ValueRunResult, console: Console) -> None:
    """The fitted models, the tier table, the 80/20 figures and the holdout check."""
    options = result.options
    d = result.diagnostics
    console.print(
        f"\n[bold]Customer value[/] — {d['customers']:,} customers, observation end "
        f"{options.observation_end}, unit {options.unit}, horizon {options.horizon:g}, "
        f"discount rate {options.discount_rate:.0%} a year, margin: {d['margin_basis']}"
    )
    if d.get("transactions_after_end"):
        after = "holdout end" if options.holdout_end else "observation end"
        console.print(f"{d['transactions_after_end']:,} transactions after the {after} left out")
    if d.get("duplicate_ids_dropped"):
        console.print(f"{d['duplicate_ids_dropped']:,} rows repeating a transaction id dropped")
    for line in left_out_lines(d, options):
        console.print(line)
    choice = d.get("model_choice")
    if choice:
        console.print(candidates_table(choice))
        for line in candidate_failures(choice):
            console.print(line, markup=False, highlight=False)
        console.print(f"model: {choice['reason']}")
    if result.models:
        console.print(models_table(result.models))
    intervals = d.get("intervals") or {}
    if "draws" in intervals:
        console.print(
            f"Intervals: {intervals['level']:.0%} per customer for P(alive), expected purchases "
            f"and CLV, from {intervals['draws']} draws of the fitted parameters (their "
            f"uncertainty only, not the customer's own variation; {intervals['seconds']:.2f} s)"
        )
    elif "error" in intervals:
        console.print(f"[yellow]no intervals[/]: {intervals['error']}")
    if result.model_error:
        console.print(f"[bold red]model not fitted[/]: {result.model_error}")
        console.print("RFM scores, margin and profit were still computed.")
    if result.tier_table is not None:
        console.print(
            frame_table(
                result.tier_table.reset_index(names="tier"),
                f"Value tiers by cumulative share of CLV ({options.currency})",
                money_columns=("total_value", "mean_value"),
                money_digits=currency_exponent(options.currency),
            )
        )
    if result.pareto:
        p = result.pareto
        console.print(
            f"80/20: {p['customers_for_target']:.1%} of customers make "
            f"{p['target_value_share']:.0%} of expected value; the top "
            f"{p['top_customer_share']:.0%} make {p['value_of_top']:.1%}"
        )
    if result.holdout is not None:
        console.print(
            frame_table(
                result.holdout.reset_index(names="calibration frequency"),
                f"Holdout: predicted vs actual purchases to {options.holdout_end}",
            )
        )
    counted = pc.value_counts(result.table.column("rfm_segment")).to_pylist()
    segments = sorted(counted, key=lambda item: -item["counts"])  # most customers first
    console.print(
        "RFM segments: " + ", ".join(f"{item['values']} {item['counts']:,}" for item in segments)
    )
    if result.run_id is not None:
        console.print(f"value run {result.run_id} saved ({result.status})")


def left_out_lines(diagnostics: dict[str, object], options: ValueOptions) -> list[str]:
    """What the run left out of scoring, customer by reason, one sentence each: of the
    customers in the log, those with no summary row."""
    left_out = diagnostics.get("customers_left_out")
    if not isinstance(left_out, dict):
        return []  # a run recorded before customers left out were counted
    end = "calibration end" if options.holdout_end else "observation end"
    reasons = {
        "no_purchase_after_returns": "no purchase left after returns (returns net the "
        "purchases of every purchase day to zero or less)",
        "first_purchase_after_end": f"first purchase after the {end} {options.observation_end}",
    }
    lines = []
    for reason, wording in reasons.items():
        n = int(left_out.get(reason) or 0)
        if n:
            of = diagnostics.get("customers_in_log")
            total = f" of {of:,}" if isinstance(of, int) else ""
            lines.append(f"{n:,} customer{'s' if n > 1 else ''}{total} not scored: {wording}")
    return lines


def register(app: typer.Typer) -> None:
    app.command("value")(value)
    app.command("import")(import_file)
    app.command("report")(report)


def value(
    file: Annotated[
        Path | None,
        typer.Argument(help="CSV or Parquet transaction log; omit to use the store's transactions"),
    ] = None,
    customer: Annotated[str, typer.Option(help="customer id column")] = "customer_id",
    date_column: Annotated[str, typer.Option("--date", help="date/time column")] = "date",
    amount: Annotated[str, typer.Option(help="amount column (returns negative)")] = "amount",
    id_column: Annotated[str | None, typer.Option("--id", help="transaction id column")] = None,
    cost: Annotated[str | None, typer.Option(help="cost column (margin = amount - cost)")] = None,
    margin: Annotated[float | None, typer.Option(help="margin as a fraction of amount")] = None,
    observation_end: Annotated[
        str | None, typer.Option(help="last day of the calibration period (YYYY-MM-DD)")
    ] = None,
    holdout_end: Annotated[
        str | None, typer.Option(help="last day of the holdout period, to validate the model")
    ] = None,
    unit: Annotated[TimeUnit, typer.Option(help="time unit of the models")] = "week",
    horizon: Annotated[int, typer.Option(help="CLV horizon in whole units")] = 52,
    discount_rate: Annotated[float, typer.Option(help="annual discount rate")] = 0.10,
    model: Annotated[
        ModelChoice,
        typer.Option(
            help="transaction model: auto (fit BG/NBD, MBG/NBD and Pareto/NBD, choose by "
            "holdout error with --holdout-end, else by BIC), or bgnbd, mbgnbd, pnbd"
        ),
    ] = "auto",
    encoding: Annotated[str, typer.Option(help="file encoding, e.g. gbk")] = "utf-8",
    cost_to_serve: Annotated[
        Path | None,
        typer.Option(help="CSV of cost-to-serve per customer (columns customer_id, cost)"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="write per-customer scores here (.csv or .parquet)")
    ] = None,
    store: Annotated[
        bool, typer.Option(help="import the file and write the scores to the store")
    ] = True,
    currency: CurrencyOption = None,
    interval_draws: Annotated[
        int,
        typer.Option(
            help="parameter draws for each customer's intervals of P(alive), expected "
            "purchases and CLV (0: no intervals)"
        ),
    ] = 200,
    interval_level: Annotated[
        float, typer.Option(help="coverage the intervals aim at, e.g. 0.9 for 90%")
    ] = 0.90,
    seed: Annotated[int, typer.Option(help="seed of the parameter draws (reproducible)")] = 0,
    date_format: DateFormatOption = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="write the HTML report of the run here")
    ] = None,
    language: LanguageOption = None,
) -> None:
    """Compute each customer's value: RFM, P(alive), expected purchases and spend, CLV, value
    tier and profit, with intervals for P(alive), expected purchases and CLV; print the fitted
    models, the tier table and the 80/20 figures."""
    if cost is not None and margin is not None:
        raise InputError("give either --cost or --margin, not both")
    if 0 < interval_draws < 20 or interval_draws < 0:
        raise InputError(
            "--interval-draws must be 0 (no intervals) or at least 20: fewer draws cannot "
            "place an interval's ends",
            column="--interval-draws",
            value=interval_draws,
        )
    if not 0 < interval_level < 1:
        raise InputError(
            "--interval-level must be between 0 and 1 (0.9 for 90%)",
            column="--interval-level",
            value=interval_level,
        )
    settings = get_settings()
    end = _parse_date(observation_end, "--observation-end")
    options_end = end
    holdout = _parse_date(holdout_end, "--holdout-end")
    # a file is validated before the store is opened (and migrated): a bad file fails first
    database: Database | None = None
    if file is not None:
        source = open_file(
            file,
            customer=customer,
            date=date_column,
            amount=amount,
            id=id_column,
            cost=cost,
            encoding=encoding,
            timezone=settings.timezone,
            currency=currency or settings.currency,
            date_format=date_format,
        )
    else:
        from kehu.value import pipeline

        database = _database(settings)
        source = pipeline.store_source(database, timezone=settings.timezone)
    if store and database is None:
        database = _database(settings)
    if file is None and currency is not None and currency_code(currency) != source.currency:
        raise CurrencyMismatchError(
            f"--currency {currency_code(currency)}: the store's transactions are in "
            f"{source.currency}, and a value run on the store computes in its currency"
        )
    if options_end is None:
        options_end = source.last_date()
    options = ValueOptions(
        observation_end=options_end,
        holdout_end=holdout,
        unit=unit,
        horizon=horizon,
        discount_rate=discount_rate,
        model=model,
        margin=margin,
        interval_draws=interval_draws,
        interval_level=interval_level,
        seed=seed,
        tier_thresholds=(float(settings.tier_thresholds[0]), float(settings.tier_thresholds[1])),
        timezone=settings.timezone,
        # the store's transactions are in the currency they were stored in, whatever the
        # settings say now; a file is in the currency it was declared in
        currency=source.currency,
    )
    result = run(
        source,
        options,
        settings=settings,
        database=database,
        cost_to_serve_file=cost_to_serve,
        output=output,
        console=console,
        report=report,
        language=language,
    )
    if result.model_error is not None:
        # the run's error already says what to try, per model
        raise ModelError(
            f"{result.model_error_type}: {result.model_error}. RFM, margin and profit were "
            "still written",
            advice="",
        )


def import_file(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet transaction log")],
    customer: Annotated[str, typer.Option(help="customer id column")] = "customer_id",
    date_column: Annotated[str, typer.Option("--date", help="date/time column")] = "date",
    amount: Annotated[str, typer.Option(help="amount column (returns negative)")] = "amount",
    id_column: Annotated[str | None, typer.Option("--id", help="transaction id column")] = None,
    cost: Annotated[str | None, typer.Option(help="cost column")] = None,
    encoding: Annotated[str, typer.Option(help="file encoding, e.g. gbk")] = "utf-8",
    currency: CurrencyOption = None,
    date_format: DateFormatOption = None,
) -> None:
    """Import a transaction log into the store (idempotent, all-or-nothing)."""
    settings = get_settings()
    # validation scans the whole file too: bound the engine's memory for it as for the import
    with bounded_memory():
        # the file is validated before the store is opened (and migrated): a bad file fails first
        source = open_file(
            file,
            customer=customer,
            date=date_column,
            amount=amount,
            id=id_column,
            cost=cost,
            encoding=encoding,
            timezone=settings.timezone,
            currency=currency or settings.currency,
            date_format=date_format,
        )
        database = _database(settings)
        imported = import_source(source, database, settings=settings, console=console)
    console.print(
        f"imported {file}: {imported.rows_read:,} rows read, {imported.rows_added:,} new, "
        f"{imported.rows_already_stored:,} already stored; "
        f"{imported.customers_added:,} new customers"
    )


def report(
    output: Annotated[Path, typer.Option(help="HTML file to write")] = Path(
        "kehu-output/value-report.html"
    ),
    run_id: Annotated[
        int | None, typer.Option("--run", help="value run id (default latest)")
    ] = None,
    language: LanguageOption = None,
) -> None:
    """Write a self-contained HTML report (opens offline) of a value run in the store."""
    from kehu.value import pipeline

    settings = get_settings()
    database = _database(settings)
    path = pipeline.write_report_from_store(
        database,
        output,
        run_id=run_id,
        language=language or settings.staff_language,
        timezone=settings.timezone,
    )
    console.print(f"report written to [bold]{path}[/]")
