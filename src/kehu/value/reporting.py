"""Build the HTML report's data from a computed run or from a run saved in the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from kehu.analytics.model_selection import LABELS
from kehu.analytics.tiers import pareto_curve, tier_table
from kehu.report import PAliveMatrix, RunMetadata, ValueReportData
from kehu.value.schemas import ValueOptions, ValueRunResult
from kehu.value.service import TRANSACTION_MODELS
from kehu.value.tables import ValueRun

MODEL_CLASSES = {cls.__name__: cls for cls in TRANSACTION_MODELS.values()}
TOP_COLUMNS = [
    "customer_id",
    "value_tier",
    "clv",
    "probability_alive",
    "expected_purchases",
    "frequency",
    "total_spend",
    "profit",
    "rfm_segment",
]


def _p_alive_matrix(models: list[dict[str, Any]], scores: pd.DataFrame) -> PAliveMatrix:
    """P(alive) over frequency x recency at the median customer age (Fader, Hardie & Lee 2005,
    "Counting your customers", figure of P(alive) by recency and frequency)."""
    transaction = next((m for m in models if m["model"] in MODEL_CLASSES), None)
    age = float(np.median(scores["T"])) if len(scores) else 1.0
    frequency = np.arange(0, int(min(max(scores["frequency"].max(), 1), 30)) + 1, dtype=float)
    recency = np.linspace(0, age, 25)
    if transaction is None:
        return PAliveMatrix(np.full((len(frequency), len(recency)), np.nan), frequency, recency)
    model = MODEL_CLASSES[transaction["model"]].from_params(transaction["params"])
    x, t_x = np.meshgrid(frequency, recency, indexing="ij")
    # one-time buyers have recency 0 by definition; repeat buyers need recency > 0
    values = np.asarray(model.probability_alive(x, np.where(x == 0, 0.0, t_x), age), dtype=float)
    return PAliveMatrix(values, frequency, recency)


def _build(
    *,
    dataset: str,
    options: ValueOptions,
    models: list[dict[str, Any]],
    scores: pd.DataFrame,
    holdout: pd.DataFrame | None,
    holdout_errors: dict[str, float] | None,
    notes: list[str],
    diagnostics: dict[str, Any],
) -> ValueReportData:
    clv = scores["clv"].to_numpy(float)
    valid = np.isfinite(clv)
    tiers = scores["value_tier"].fillna("low").to_numpy()
    top = (
        scores[[c for c in TOP_COLUMNS if c in scores.columns]]
        .sort_values("clv", ascending=False)
        .head(100)
        .set_index("customer_id")
    )
    return ValueReportData(
        metadata=RunMetadata(
            dataset=dataset,
            observation_end=options.observation_end,
            unit=options.unit,
            horizon=options.horizon,
            discount_rate=options.discount_rate,
            model=_model_label(options, diagnostics),
            currency=options.currency,
            n_customers=len(scores),
            generated_at=datetime.now(UTC),
        ),
        models=models,
        tier_table=tier_table(np.where(valid, clv, 0.0), tiers),
        pareto=pareto_curve(np.where(valid, clv, 0.0)),
        p_alive=_p_alive_matrix(models, scores),
        clv=clv[valid],
        top_customers=top,
        holdout=holdout,
        holdout_errors=holdout_errors,
        notes=notes,
        model_choice=diagnostics.get("model_choice"),
        tracking=diagnostics.get("tracking"),
        frequency_histogram=diagnostics.get("frequency_histogram"),
    )


def _model_label(options: ValueOptions, diagnostics: dict[str, Any]) -> str:
    """The purchase model the run used, e.g. ``"Pareto/NBD (auto)"``; older runs, which did not
    record a choice, show the model they were asked for."""
    choice = diagnostics.get("model_choice") or {}
    chosen = choice.get("chosen")
    if chosen is None:
        return options.model if not choice else f"{options.model}: none fitted"
    label = LABELS.get(chosen, chosen)
    return f"{label} ({choice.get('mode', options.model)})"


def report_data_from_result(result: ValueRunResult, *, dataset: str) -> ValueReportData:
    return _build(
        dataset=dataset,
        options=result.options,
        models=result.models,
        scores=result.scores,
        holdout=result.holdout,
        holdout_errors=result.holdout_errors,
        notes=[f"margin basis: {result.diagnostics.get('margin_basis')}"],
        diagnostics=result.diagnostics,
    )


def report_data_from_store(run: ValueRun, stored: pd.DataFrame) -> ValueReportData:
    """``stored`` holds the run's rows of ``customer_scores`` plus ``external_id``; their
    amounts are in the run's stored currency."""
    options = ValueOptions.model_validate({**run.settings, "currency": run.currency})
    scale = 10**options.minor_units
    scores = pd.DataFrame(
        {
            "customer_id": stored["external_id"],
            "value_tier": stored["value_tier"],
            "clv": stored["clv_minor"].astype("float64") / scale,
            "probability_alive": stored["probability_alive"],
            "expected_purchases": stored["expected_purchases"],
            "frequency": stored["frequency"],
            "T": stored["age"],
            "total_spend": stored["total_spend_minor"] / scale,
            "profit": stored["profit_minor"] / scale,
            "rfm_segment": stored["rfm_segment"],
        }
    )
    holdout_records = run.diagnostics.get("holdout_table")
    holdout = None
    if holdout_records:
        holdout = pd.DataFrame(holdout_records).set_index("group")
    return _build(
        dataset=run.source,
        options=options,
        models=run.models,
        scores=scores,
        holdout=holdout,
        holdout_errors=run.diagnostics.get("holdout_errors"),
        notes=[
            f"value run {run.id}, {run.status}, finished {run.finished_at:%Y-%m-%d %H:%M} UTC"
            if run.finished_at
            else f"value run {run.id}, {run.status}",
            f"margin basis: {run.diagnostics.get('margin_basis')}",
        ],
        diagnostics=run.diagnostics,
    )


__all__ = ["report_data_from_result", "report_data_from_store"]
