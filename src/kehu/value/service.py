"""Use cases of the value domain: import a transaction log, compute customer value, save a run.

``compute_value`` is pure (warehouse + analytics, no store); ``save_value_run`` writes a computed
run to the store; :mod:`kehu.value.pipeline` strings them together for the front doors.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from sqlalchemy import Table, delete, func, insert, select

from kehu.analytics import (
    GammaGammaModel,
)
from kehu.analytics.clv import customer_lifetime_value
from kehu.analytics.holdout import holdout_errors, holdout_table
from kehu.analytics.profit import customer_profit
from kehu.analytics.rfm import SEGMENTS, fm_score, quantile_scores, rfm_segment_codes
from kehu.analytics.tiers import TIER_LABELS, pareto_curve, tier_indices, tier_table
from kehu.analytics.uncertainty import ParameterUncertainty
from kehu.core.money import currency_code, currency_exponent
from kehu.csv_safety import text_cell
from kehu.customers.provisioning import (
    customer_directory,
    customer_ids_by_external_id,
    ensure_customers,
)
from kehu.errors import CurrencyMismatchError, InputError, ModelError
from kehu.progress import ProgressReporter, SilentProgress
from kehu.store.db import Database
from kehu.value.model_choice import choose_model, failure_error, fit_diagnostics
from kehu.value.schemas import NO_COST_BASIS, MarginSource, ValueOptions, ValueRunResult
from kehu.value.sources import file_fingerprint
from kehu.value.tables import CostToServe, CustomerScore, ValueRun
from kehu.warehouse import summaries, to_arrow
from kehu.warehouse._compat import scalar
from kehu.warehouse.sources import Transactions

#: The scores that come with an interval from the estimates' sampling distribution
#: (:mod:`kehu.analytics.uncertainty`): ``<name>_low`` and ``<name>_high`` in the result.
INTERVAL_SCORES = ("probability_alive", "expected_purchases", "clv")

#: Columns of the per-customer result, in output order.
SCORE_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "total_spend",
    "margin",
    "recency_days",
    "n_purchase_days",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "probability_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "value_tier",
    "cost_to_serve",
    "profit",
    *(f"{name}_{end}" for name in INTERVAL_SCORES for end in ("low", "high")),
]


def _model_summary(model: Any, kind: str) -> dict[str, Any]:
    """A fitted model's summary for the run's ``models``, with its ``kind`` (``purchase`` or
    ``spend``: only models of one kind are compared)."""
    summary: dict[str, Any] = model.summary()
    return {
        **{key: (float(v) if isinstance(v, np.floating) else v) for key, v in summary.items()},
        "kind": kind,
    }


def compute_value(
    transactions: Transactions,
    options: ValueOptions,
    *,
    cost_to_serve: pd.Series | None = None,
    reporter: ProgressReporter | None = None,
) -> ValueRunResult:
    """Per-customer value from a validated transaction log (:mod:`kehu.warehouse.sources`).

    The summary, the compressed rows and the join of per-row scores back to customers run in the
    engine; RFM quintiles and value tiers need a global ranking and run on the per-customer
    result. A transaction model that cannot be fitted (no convergence, nothing to identify it)
    does not stop the run: RFM, margin and profit are still computed, the model columns stay
    empty and the result carries the error (``status == "partial"``).
    """
    reporter = reporter or SilentProgress()
    with reporter.step("Summarising transactions per customer"):
        if options.holdout_end is not None:
            summary = summaries.calibration_and_holdout_summary(
                transactions,
                options.observation_end,
                options.holdout_end,
                unit=options.unit_days,
                margin=options.margin,
            )
        else:
            summary = summaries.customer_summary(
                transactions, options.observation_end, unit=options.unit_days, margin=options.margin
            )
        # computed once into a temporary table: compress, the spend fit and the join all read it
        summary = summary.cached()
        compressed = to_arrow(summaries.compress(summary)).to_pandas()
        # customers of the log the summary leaves out, by reason: counted, never silently lost
        left_out = summaries.customers_left_out(transactions, options.observation_end)
    margin_source = _margin_source(transactions, options)
    diagnostics: dict[str, Any] = {
        "rows_read": transactions.n_rows,
        "duplicate_ids_dropped": transactions.n_duplicates,
        "transactions_after_end": summary.n_after_end,
        "customers_in_log": left_out["customers"],
        "customers_left_out": {reason: left_out[reason] for reason in summaries.LEFT_OUT_REASONS},
        "distinct_rows": len(compressed),
        "margin_basis": _margin_basis(margin_source, options),
        "margin_source": margin_source,
    }
    if compressed.empty:
        raise InputError(
            f"no purchases on or before the observation end {options.observation_end}: "
            "nothing to compute",
            file=transactions.source,
        )

    result = ValueRunResult(options=options, table=pa.table({}), diagnostics=diagnostics)
    per_row = compressed[["frequency", "recency", "T"]].copy()
    spend_params: dict[str, float] | None = None
    transaction_model: Any = None
    spend_model: Any = None
    try:
        fitting = (
            "Fitting and comparing BG/NBD, MBG/NBD and Pareto/NBD"
            if options.model == "auto"
            else f"Fitting the {options.model} transaction model"
        )
        with reporter.step(fitting):
            selector = choose_model(options, summary, compressed)
            diagnostics["model_choice"] = selector.as_record()
            if selector.best_model_ is None:
                raise failure_error(selector)
            transaction_model = selector.best_model_
            result.models.append(_model_summary(transaction_model, "purchase"))
        with reporter.step("Tracking plot and frequency histogram of the chosen model"):
            diagnostics.update(
                fit_diagnostics(transaction_model, transactions, summary, compressed, options)
            )
        with reporter.step("Fitting the Gamma-Gamma spend model"):
            repeat_buyers = summary.table.filter(
                (summary.table.frequency > 0) & (summary.table.monetary_value > 0)
            )
            repeat = to_arrow(
                repeat_buyers.group_by(["frequency", "monetary_value"]).aggregate(
                    weight=repeat_buyers.count()
                )
            ).to_pandas()
            spend_model = GammaGammaModel().fit(
                repeat["frequency"].to_numpy(float),
                repeat["monetary_value"].to_numpy(float),
                weights=repeat["weight"].to_numpy(float),
            )
            result.models.append(_model_summary(spend_model, "spend"))
            spend_params = dict(spend_model.params_)
        with reporter.step("Scoring distinct (frequency, recency, T) rows"):
            x = compressed["frequency"].to_numpy(float)
            t_x = compressed["recency"].to_numpy(float)
            age = compressed["T"].to_numpy(float)
            per_row["probability_alive"] = np.asarray(
                transaction_model.probability_alive(x, t_x, age), dtype=float
            )
            per_row["expected_purchases"] = np.asarray(
                transaction_model.conditional_expected_purchases(options.horizon, x, t_x, age),
                dtype=float,
            )
            # CLV with a spend of 1: the discounted expected number of purchases, which depends
            # on (x, t_x, T) only; each customer's expected margin multiplies it in the engine
            per_row["discounted_purchases"] = np.asarray(
                customer_lifetime_value(
                    transaction_model,
                    1.0,
                    x,
                    t_x,
                    age,
                    horizon=options.horizon,
                    discount_rate_per_period=options.discount_rate_per_unit,
                ),
                dtype=float,
            )
    except ModelError as exc:
        result.model_error = str(exc)
        result.model_error_type = type(exc).__name__
        result.models = result.models[:1] if transaction_model is not None else []

    with reporter.step("Joining scores back to customers"):
        joined = _per_customer(summary, per_row, spend_params, options)
        wanted = [*SCORE_COLUMNS, "duration_holdout", "frequency_holdout"]
        customers = to_arrow(joined.select(*[c for c in wanted if c in joined.columns]))
    n = customers.num_rows
    diagnostics["customers"] = n

    def column(name: str) -> np.ndarray:
        """One numeric column as float64 (nulls as NaN), cast in Arrow: a decimal column
        would otherwise become one Python ``Decimal`` per row."""
        values: np.ndarray = pc.cast(customers.column(name), pa.float64()).to_numpy()
        return values

    with reporter.step("RFM scores, value tiers and profit"):
        recency_days = column("recency_days")
        n_purchase_days = column("n_purchase_days")
        total_spend = column("total_spend")
        for name, values in (("recency_days", recency_days), ("frequency", n_purchase_days)):
            negative = values < 0
            if negative.any():
                i = int(np.flatnonzero(negative)[0])
                raise InputError(
                    f"{name} must not be negative", row=i + 1, column=name, value=values[i]
                )
        r_score = quantile_scores(recency_days, higher_is_better=False)
        f_score = quantile_scores(n_purchase_days)
        m_score = quantile_scores(total_spend)
        # segments as small integer codes, turned into one string array at the end
        segment_codes = rfm_segment_codes(r_score, fm_score(f_score, m_score))
        rfm_segment = pc.take(pa.array(SEGMENTS, pa.string()), pa.array(segment_codes))
        value_tier: pa.Array = pa.nulls(n, pa.string())
        if result.model_error is None:
            clv = column("clv")
            tier_index = tier_indices(clv, thresholds=options.tier_thresholds)
            value_tier = pc.take(pa.array(TIER_LABELS, pa.string()), pa.array(tier_index))
            labels = np.asarray(TIER_LABELS, dtype=object)
            result.tier_table = tier_table(clv, labels[tier_index])
            if clv.sum() > 0:
                curve = pareto_curve(clv)
                result.pareto = {"curve": curve, **_pareto_figures(curve)}
            if options.holdout_end is not None:
                frequency = column("frequency")
                predicted = transaction_model.conditional_expected_purchases(
                    column("duration_holdout"), frequency, column("recency"), column("T")
                )
                actual = column("frequency_holdout")
                result.holdout = holdout_table(frequency, predicted, actual)
                result.holdout_errors = asdict(holdout_errors(predicted, actual))
        costs = np.zeros(n)
        if cost_to_serve is not None and len(cost_to_serve):
            ids = customers.column("customer_id").to_pandas()
            costs = ids.map(cost_to_serve).fillna(0).to_numpy(float)
        profit = customer_profit(
            total_spend, cost=total_spend - column("margin"), cost_to_serve=costs
        )["profit"].to_numpy()
        computed: dict[str, Any] = {
            "r_score": r_score,
            "f_score": f_score,
            "m_score": m_score,
            "rfm_segment": rfm_segment,
            "value_tier": value_tier,
            "cost_to_serve": costs,
            "profit": profit,
        }
    with reporter.step("Intervals from the estimates' sampling distribution"):
        computed.update(_intervals(result, customers, compressed, transaction_model, spend_model))
    result.table = pa.table(
        {
            name: computed[name] if name in computed else customers.column(name)
            for name in SCORE_COLUMNS
            if name in computed or name in customers.column_names
        }
    )
    return result


def _intervals(
    result: ValueRunResult,
    customers: pa.Table,
    compressed: pd.DataFrame,
    transaction_model: Any,
    spend_model: Any,
) -> dict[str, np.ndarray]:
    """Each customer's interval ends (``<score>_low``, ``<score>_high``) for P(alive), expected
    purchases and CLV, from draws of the fitted parameters (per distinct (x, t_x, T) row; the
    spend part per customer). The draws follow the likelihood of the distinct rows the model
    was fitted on (``compressed``: importance resampling where it is not quadratic). Empty
    (NaN) when the run has no model, when ``interval_draws`` is 0, or when the estimates have
    no usable covariance (the reason goes to the diagnostics; the run's scores stand)."""
    options = result.options
    n = customers.num_rows
    empty = {
        f"{name}_{end}": np.full(n, np.nan) for name in INTERVAL_SCORES for end in ("low", "high")
    }
    if result.model_error is not None or options.interval_draws == 0 or n == 0:
        return empty

    def column(name: str) -> np.ndarray:
        values: np.ndarray = pc.cast(customers.column(name), pa.float64()).to_numpy()
        return values

    spend, margin = column("total_spend"), column("margin")
    with np.errstate(divide="ignore", invalid="ignore"):
        # the margin rate CLV applies to expected spend, as the engine computes it
        margin_rate = (
            np.full(n, options.margin)
            if options.margin is not None
            else np.where(spend > 0, margin / spend, 1.0)
        )
    started = datetime.now(UTC)
    uncertainty = ParameterUncertainty(
        n_draws=options.interval_draws, level=options.interval_level, seed=options.seed
    )
    try:
        intervals = uncertainty.fit(
            transaction_model,
            spend_model,
            frequency=compressed["frequency"].to_numpy(float),
            recency=compressed["recency"].to_numpy(float),
            T=compressed["T"].to_numpy(float),
            weights=compressed["weight"].to_numpy(float),
        ).predict(
            column("frequency"),
            column("recency"),
            column("T"),
            horizon=options.horizon,
            discount_rate_per_period=options.discount_rate_per_unit,
            monetary_value=column("monetary_value"),
            margin=margin_rate,
        )
    except ModelError as exc:
        result.diagnostics["intervals"] = {"error": str(exc)}
        return empty
    result.diagnostics["intervals"] = {
        "method": (
            "importance resampling of the likelihood"
            if uncertainty.method_ == "importance resampling"
            else "draws from the asymptotic normal of the log-parameters"
        ),
        "effective_draws": round(uncertainty.effective_draws_, 1),
        "likelihood_departure_from_quadratic": round(uncertainty.quadratic_departure_, 4),
        "draws": options.interval_draws,
        "level": options.interval_level,
        "seed": options.seed,
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
    }
    bounds = {
        "probability_alive": intervals.probability_alive,
        "expected_purchases": intervals.expected_purchases,
        "clv": intervals.clv,
    }
    for name, interval in bounds.items():
        if interval is not None:
            empty[f"{name}_low"], empty[f"{name}_high"] = interval.low, interval.high
    return empty


def _margin_source(transactions: Transactions, options: ValueOptions) -> MarginSource:
    """Where the run's margins come from (:data:`kehu.value.schemas.MarginSource`)."""
    if options.margin is not None:
        return "margin_rate"
    if scalar(transactions.table.cost.notnull().any()):
        return "cost"
    return "amount"


def _margin_basis(source: MarginSource, options: ValueOptions) -> str:
    """Where the margins come from, as a sentence for the run's readers."""
    if source == "margin_rate":
        return f"amount x {options.margin}"
    if source == "cost":
        return "amount - cost (amount where a customer has a sale without cost)"
    return NO_COST_BASIS


def _per_customer(
    summary: summaries.Summary,
    per_row: pd.DataFrame,
    spend_params: dict[str, float] | None,
    options: ValueOptions,
) -> ir.Table:
    """Scores per distinct row joined back to every customer, expected spend and CLV, in the
    engine. Expected spend is the Gamma-Gamma conditional mean (Fader, Hardie & Lee 2005, JMR,
    eq. 5): (gamma + x m) p / (p x + q - 1), the population mean p gamma / (q - 1) for x = 0."""
    table = summaries.join_scores(summary, per_row) if len(per_row.columns) > 3 else summary.table
    end = ibis.literal(options.observation_end)
    # margin in the observation window: amount - cost, amount x margin, or (neither) the amount
    margin = ibis.coalesce(table.total_margin, table.total_spend).cast("float64")
    columns: dict[str, Any] = {
        "recency_days": end.delta(table.last_purchase, unit="day"),
        "margin": margin,
    }
    if spend_params is not None:
        p, q, gamma = spend_params["p"], spend_params["q"], spend_params["gamma"]
        x = table.frequency.cast("float64")
        m = table.monetary_value.cast("float64")
        expected_spend = ibis.ifelse(
            (table.frequency > 0) & m.notnull(),
            (gamma + x * m) * p / (p * x + q - 1),
            ibis.literal(p * gamma / (q - 1)),
        )
        spend = table.total_spend.cast("float64")
        margin_rate = (
            ibis.literal(options.margin)
            if options.margin is not None
            else ibis.ifelse(spend > 0, margin / spend, ibis.literal(1.0))
        )
        columns["expected_spend"] = expected_spend
        columns["clv"] = table.discounted_purchases * expected_spend * margin_rate
    else:
        for name in ("probability_alive", "expected_purchases", "expected_spend", "clv"):
            columns[name] = ibis.null("float64")
    return table.mutate(**columns)


def _pareto_figures(curve: Any) -> dict[str, float]:
    return {
        "target_value_share": float(curve.target_value_share),
        "customers_for_target": float(curve.customers_for_target),
        "n_customers_for_target": int(curve.n_customers_for_target),
        "top_customer_share": float(curve.top_customer_share),
        "value_of_top": float(curve.value_of_top),
    }


# --- the store --------------------------------------------------------------------------------


def cost_to_serve_from_store(database: Database, *, currency: str | None = None) -> pd.Series:
    """Total cost-to-serve per customer (external id) in minor units of ``currency``, from the
    store. Costs in another currency (or, without ``currency``, in more than one) are refused:
    a profit must not subtract dollars from yuan."""
    customer = customer_directory()
    with database.session() as session:
        rows = session.execute(
            select(customer.c.external_id, CostToServe.currency, func.sum(CostToServe.amount_minor))
            .join(CostToServe, CostToServe.customer_id == customer.c.id)
            .group_by(customer.c.external_id, CostToServe.currency)
        ).all()
    found = sorted({row_currency for _, row_currency, _ in rows})
    wanted = found[:1] if currency is None else [currency_code(currency)]
    if set(found) - set(wanted):
        raise CurrencyMismatchError(
            f"cost-to-serve is recorded in {' and '.join(found)}, the value run is in "
            f"{wanted[0]}: a value run does not mix currencies (was KEHU_CURRENCY changed "
            "after the desk recorded handling costs?)"
        )
    return pd.Series({external_id: int(total) for external_id, _, total in rows}, dtype="float64")


def save_value_run(
    database: Database,
    result: ValueRunResult,
    *,
    source: str,
    fingerprint: str,
    archive_dir: Path,
) -> int:
    """Record the run and make its scores the latest per customer; the previous latest scores are
    archived to Parquet beside the store first. All in one database transaction. The scores'
    amounts are in the run's currency (``value_runs.currency``)."""
    options = result.options
    scale = 10 ** currency_exponent(options.currency)
    scores = result.scores
    with database.session() as session:
        run = ValueRun(
            status=result.status,
            currency=options.currency,
            source=source,
            input_fingerprint=fingerprint,
            settings=options.model_dump(mode="json"),
            models=result.models,
            diagnostics=_jsonable(
                {
                    **result.diagnostics,
                    "pareto": {k: v for k, v in result.pareto.items() if k != "curve"},
                    "holdout_errors": result.holdout_errors,
                    "holdout_table": None
                    if result.holdout is None
                    else result.holdout.reset_index(names="group").to_dict("records"),
                    "model_error_type": result.model_error_type,
                }
            ),
            message=result.model_error,
            n_customers=len(scores),
        )
        session.add(run)
        session.flush()
        run.scores_archive = _archive_previous_scores(session, archive_dir, run.id)
        ids = _customer_ids(session, scores["customer_id"].astype(str))
        session.execute(delete(CustomerScore))
        rows = _score_rows(scores, ids, run.id, scale)
        for start in range(0, len(rows), SCORE_BATCH_ROWS):
            # a Core insert: plain executemany, without the ORM's per-row bookkeeping
            session.execute(insert(SCORES_TABLE), rows[start : start + SCORE_BATCH_ROWS])
        run.finished_at = datetime.now(UTC)
        return run.id


SCORE_BATCH_ROWS = 50_000
SCORES_TABLE = cast(Table, CustomerScore.__table__)


def _customer_ids(session: Any, external_ids: pd.Series) -> pd.Series:
    """Store ids of the scored customers, adding the ones the store does not know yet through
    the customers domain (a run on a file with ``--no-store`` import skipped is not possible,
    but a store source always has them)."""
    known = customer_ids_by_external_id(session)
    missing = set(external_ids) - known.keys()
    if missing:
        known.update(ensure_customers(session, missing, now=datetime.now(UTC), source="value run"))
    return external_ids.map(known)


def _minor_column(values: pd.Series, scale: int) -> list[int | None]:
    """Model estimates in major units (float) to integer minor units, rounded half to even as
    :class:`kehu.core.money.Money` rounds; NaN becomes None."""
    scaled = (values.astype("float64") * scale).round()
    return [None if v != v else int(v) for v in scaled.tolist()]


def _optional_floats(values: pd.Series) -> list[float | None]:
    return [None if v != v else v for v in values.astype("float64").tolist()]


def _score_rows(
    scores: pd.DataFrame, ids: pd.Series, run_id: int, scale: int
) -> list[dict[str, Any]]:
    """The ``customer_scores`` rows of a run, built column by column (Python scalars only)."""
    columns: dict[str, list[Any]] = {
        "customer_id": [int(v) for v in ids.tolist()],
        "run_id": [run_id] * len(scores),
        "frequency": scores["frequency"].astype("int64").tolist(),
        "recency": scores["recency"].astype("float64").tolist(),
        "age": scores["T"].astype("float64").tolist(),
        "monetary_value_minor": _minor_column(scores["monetary_value"], scale),
        "total_spend_minor": _minor_column(scores["total_spend"], scale),
        "rfm_recency": scores["r_score"].astype("int64").tolist(),
        "rfm_frequency": scores["f_score"].astype("int64").tolist(),
        "rfm_monetary": scores["m_score"].astype("int64").tolist(),
        "rfm_segment": scores["rfm_segment"].astype(str).tolist(),
        "probability_alive": _optional_floats(scores["probability_alive"]),
        "expected_purchases": _optional_floats(scores["expected_purchases"]),
        "expected_spend_minor": _minor_column(scores["expected_spend"], scale),
        "clv_minor": _minor_column(scores["clv"], scale),
        "probability_alive_low": _optional_floats(scores["probability_alive_low"]),
        "probability_alive_high": _optional_floats(scores["probability_alive_high"]),
        "expected_purchases_low": _optional_floats(scores["expected_purchases_low"]),
        "expected_purchases_high": _optional_floats(scores["expected_purchases_high"]),
        "clv_low_minor": _minor_column(scores["clv_low"], scale),
        "clv_high_minor": _minor_column(scores["clv_high"], scale),
        "value_tier": [None if v is None or v != v else str(v) for v in scores["value_tier"]],
        "margin_minor": _minor_column(scores["margin"], scale),
        "cost_to_serve_minor": _minor_column(scores["cost_to_serve"], scale),
        "profit_minor": _minor_column(scores["profit"], scale),
    }
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _archive_previous_scores(session: Any, archive_dir: Path, run_id: int) -> str | None:
    previous = session.execute(select(CustomerScore)).scalars().first()
    if previous is None:
        return None
    frame = pd.read_sql(select(CustomerScore.__table__), session.connection())
    archive_dir.mkdir(parents=True, exist_ok=True)
    path = archive_dir / f"scores-run-{previous.run_id}.parquet"
    frame.to_parquet(path, index=False)
    return str(path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _is_text(column_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(column_type):
        column_type = column_type.value_type
    return bool(pa.types.is_string(column_type) or pa.types.is_large_string(column_type))


def spreadsheet_safe(table: pa.Table) -> pa.Table:
    """``table`` for a CSV that people open in a spreadsheet: its text columns (the customer
    ids of the log, segment and tier codes) escaped by :func:`kehu.csv_safety.text_cell`; its
    numeric columns as they are, so a negative profit stays a number (decided by column)."""
    for index, field in enumerate(table.schema):
        if _is_text(field.type):
            values = table.column(index).to_pylist()
            escaped = pa.array([None if v is None else text_cell(v) for v in values], pa.string())
            table = table.set_column(index, field.name, escaped)
    return table


def write_scores(result: ValueRunResult, path: Path) -> Path:
    """Write per-customer scores to CSV (text cells escaped for spreadsheets, every text cell
    quoted) or Parquet (as computed), chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError(f"output must end in .csv or .parquet, got {path.name!r}", file=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        pq.write_table(result.table, path)
    else:
        # "needed" quotes every text cell, so a separator inside one never starts a new cell
        options = pa_csv.WriteOptions(quoting_style="needed")
        pa_csv.write_csv(spreadsheet_safe(result.table), path, options)
    return path


__all__ = [
    "INTERVAL_SCORES",
    "SCORE_COLUMNS",
    "compute_value",
    "cost_to_serve_from_store",
    "file_fingerprint",
    "save_value_run",
    "spreadsheet_safe",
    "write_scores",
]
