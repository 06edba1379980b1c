"""Build the HTML report's data from a computed run or from a run saved in the store, in a
language: the report layer knows no catalog, so the value domain hands it a
:class:`kehu.core.i18n.Translator` (:func:`report_translator`) and words its notes with it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from kehu.analytics.model_selection import CANDIDATES, LABELS
from kehu.analytics.tiers import pareto_curve, tier_table
from kehu.core.i18n import LOCALES, Translator
from kehu.errors import InputError
from kehu.report import LeftOut, PAliveMatrix, RunMetadata, ValueReportData
from kehu.value.schemas import ValueOptions, ValueRunResult
from kehu.value.tables import ValueRun

MODEL_CLASSES = {cls.__name__: cls for cls in CANDIDATES.values()}
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


def report_translator(language: str, timezone: str = "UTC") -> Translator:
    """The report's language: ``en`` or ``zh-Hans`` (the ``--language`` option), dates in the
    business time zone."""
    if language not in LOCALES:
        raise InputError(
            f"unknown report language {language!r}; the languages are {', '.join(LOCALES)}",
            column="--language",
            value=language,
        )
    return Translator(language, ZoneInfo(timezone))


def left_out(diagnostics: Mapping[str, Any]) -> list[LeftOut]:
    """The rows and customers a run left out, and why, from its diagnostics (runs recorded
    before customers left out were counted give the rows only)."""
    items = [
        LeftOut("rows", "duplicate_ids", int(diagnostics.get("duplicate_ids_dropped") or 0)),
        LeftOut("rows", "after_end", int(diagnostics.get("transactions_after_end") or 0)),
    ]
    customers = diagnostics.get("customers_left_out") or {}
    for reason in ("no_purchase_after_returns", "first_purchase_after_end"):
        items.append(LeftOut("customers", reason, int(customers.get(reason) or 0)))
    return [item for item in items if item.count > 0]


def margin_note(diagnostics: Mapping[str, Any], options: ValueOptions, t: Translator) -> str:
    """Where the run's margins come from, in the report's language."""
    source = diagnostics.get("margin_source")
    if source == "margin_rate":
        return t.gettext(
            "Margin: %(rate)s of the amount.", rate=t.format_percent(options.margin or 0.0, 0)
        )
    if source == "cost":
        return t.gettext("Margin: amount less cost (the amount where a sale has no cost).")
    if source == "amount":
        return t.gettext("Margin: the amount itself (no cost or margin was given).")
    return t.gettext("Margin: %(basis)s.", basis=diagnostics.get("margin_basis"))


def _build(
    *,
    dataset: str,
    options: ValueOptions,
    models: list[dict[str, Any]],
    scores: pd.DataFrame,
    holdout: pd.DataFrame | None,
    holdout_errors: dict[str, float] | None,
    notes: list[str],
    diagnostics: Mapping[str, Any],
    translator: Translator,
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
            model=_model_label(options, diagnostics, translator),
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
        left_out=left_out(diagnostics),
        n_customers_in_log=diagnostics.get("customers_in_log"),
        data_end=_data_end(options),
        model_choice=diagnostics.get("model_choice"),
        tracking=diagnostics.get("tracking"),
        frequency_histogram=diagnostics.get("frequency_histogram"),
    )


def _data_end(options: ValueOptions) -> date:
    """The last day of data a run reads: the holdout end when there is one."""
    return options.holdout_end or options.observation_end


def _model_label(
    options: ValueOptions, diagnostics: Mapping[str, Any], translator: Translator
) -> str:
    """The purchase model the run used and who chose it, e.g. ``"Pareto/NBD, chosen on the
    evidence"``; older runs, which did not record a choice, show the model they were asked
    for."""
    choice = diagnostics.get("model_choice") or {}
    chosen = choice.get("chosen")
    asked = LABELS.get(options.model, options.model)
    if chosen is None:
        if not choice:
            return asked
        return translator.gettext("%(model)s: no model could be fitted", model=asked)
    label = LABELS.get(chosen, chosen)
    if choice.get("mode", options.model) == "user":
        return translator.gettext("%(model)s, chosen by the user", model=label)
    return translator.gettext("%(model)s, chosen on the evidence", model=label)


def report_data_from_result(
    result: ValueRunResult, *, dataset: str, translator: Translator
) -> ValueReportData:
    return _build(
        dataset=dataset,
        options=result.options,
        models=result.models,
        scores=result.scores,
        holdout=result.holdout,
        holdout_errors=result.holdout_errors,
        notes=[margin_note(result.diagnostics, result.options, translator)],
        diagnostics=result.diagnostics,
        translator=translator,
    )


def report_data_from_store(
    run: ValueRun, stored: pd.DataFrame, *, translator: Translator
) -> ValueReportData:
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
            translator.gettext(
                "Value run %(run)s (%(status)s), finished %(finished)s.",
                run=run.id,
                status=_status(run.status, translator),
                finished=translator.format_datetime(run.finished_at),
            )
            if run.finished_at
            else translator.gettext(
                "Value run %(run)s (%(status)s).",
                run=run.id,
                status=_status(run.status, translator),
            ),
            margin_note(run.diagnostics, options, translator),
        ],
        diagnostics=run.diagnostics,
        translator=translator,
    )


def _status(status: str, t: Translator) -> str:
    if status == "partial":
        return t.gettext("partial: no model could be fitted")
    if status == "succeeded":
        return t.gettext("succeeded")
    return status


__all__ = [
    "left_out",
    "margin_note",
    "report_data_from_result",
    "report_data_from_store",
    "report_translator",
]
