"""The customer value report: one self-contained HTML file.

The file opens offline and on its own: charts are inline SVG drawn by :mod:`kehu.report.svg`, the
CSS is inline, and there is no JavaScript, web font, image or other file to fetch. The template is
rendered by Jinja2 with autoescaping on, so names from the data (dataset, customers, models) are
always shown as text, never interpreted as HTML.

Languages: every word of the report -- the template's (``{{ _('...') }}``, Jinja's i18n
extension, newstyle) and this module's (chart titles, axis labels, figure labels, tier and
segment names) -- goes through a :class:`ReportTranslator` given by the caller, with the numbers
and dates in its locale and ``<html lang>`` its code. This layer knows no catalog: the value
domain passes :class:`kehu.core.i18n.Translator`, which is one. Without a translator the report
is in its English source text (:class:`SourceLanguage`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from numpy.typing import ArrayLike

from kehu import __version__
from kehu.analytics.holdout import HoldoutErrors
from kehu.analytics.rfm import SEGMENT_NAMES
from kehu.analytics.tiers import TIER_NAMES, ParetoCurve
from kehu.errors import N_
from kehu.report import model_choice, svg

__all__ = [
    "LeftOut",
    "PAliveMatrix",
    "ReportTranslator",
    "RunMetadata",
    "SourceLanguage",
    "ValueReportData",
    "render_value_report",
    "write_value_report",
]


class ReportTranslator(Protocol):
    """What the report needs of a language (:class:`kehu.core.i18n.Translator` is one).

    ``lookup``/``lookup_plural`` give a message's translation not yet %-formatted (Jinja's
    newstyle gettext formats it, escaping the values); ``gettext``/``ngettext`` translate and
    format; ``display_name`` picks a name from a ``{"en": ..., "zh": ...}`` table of
    :mod:`kehu.analytics`; ``code`` is the BCP 47 tag for ``<html lang>``."""

    code: str

    def lookup(self, message: str) -> str: ...

    def lookup_plural(self, singular: str, plural: str, n: int) -> str: ...

    def gettext(self, message: str, **variables: Any) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str: ...

    def format_number(self, value: float | int | None, decimals: int = 0) -> str: ...

    def format_percent(self, value: float | None, decimals: int = 1) -> str: ...

    def format_date(self, value: date | datetime | None, format: str = "medium") -> str: ...

    def format_datetime(self, value: datetime | None, format: str = "medium") -> str: ...

    def display_name(self, names: dict[str, str] | Any, fallback: str) -> str: ...


class SourceLanguage:
    """The report's English source text, unformatted by any catalog: what is shown without a
    translator (and what the catalogs translate from)."""

    code = "en"

    def lookup(self, message: str) -> str:
        return message

    def lookup_plural(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def gettext(self, message: str, **variables: Any) -> str:
        return message % variables

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        variables.setdefault("num", n)
        return self.lookup_plural(singular, plural, n) % variables

    def format_number(self, value: float | int | None, decimals: int = 0) -> str:
        if value is None or value != value:
            return "–"
        return f"{value:,.{decimals}f}"

    def format_percent(self, value: float | None, decimals: int = 1) -> str:
        if value is None or value != value:
            return "–"
        return f"{value * 100:,.{decimals}f}%"

    def format_date(self, value: date | datetime | None, format: str = "medium") -> str:
        if value is None:
            return "–"
        return (value.date() if isinstance(value, datetime) else value).isoformat()

    def format_datetime(self, value: datetime | None, format: str = "medium") -> str:
        if value is None:
            return "–"
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.isoformat(" ")

    def display_name(self, names: dict[str, str] | Any, fallback: str) -> str:
        return str((names or {}).get("en", fallback))


#: The report's words for the models' time units (options say "week", older callers "weeks").
UNIT_WORDS = {
    "day": N_("days"),
    "days": N_("days"),
    "week": N_("weeks"),
    "weeks": N_("weeks"),
    "month": N_("months"),
    "months": N_("months"),
    "year": N_("years"),
    "years": N_("years"),
}

#: Headers of the top customers' table, by score column (others are shown as named).
COLUMN_WORDS = {
    "customer_id": N_("Customer"),
    "customer": N_("Customer"),
    "value_tier": N_("Value tier"),
    "tier": N_("Value tier"),
    "clv": N_("CLV"),
    "probability_alive": N_("P(alive)"),
    "p_alive": N_("P(alive)"),
    "expected_purchases": N_("Expected purchases"),
    "frequency": N_("Repeat purchases"),
    "total_spend": N_("Total spend"),
    "profit": N_("Profit"),
    "rfm_segment": N_("RFM segment"),
}


@dataclass(frozen=True)
class LeftOut:
    """Rows or customers a run left out, and why: ``what`` is ``"rows"`` or ``"customers"``,
    ``reason`` one of :data:`LEFT_OUT_REASONS`, ``count`` how many."""

    what: str
    reason: str
    count: int


#: Why rows or customers were left out, as the report says it (``%(end)s``: the observation or
#: calibration end, ``%(holdout_end)s`` the holdout end).
LEFT_OUT_REASONS = {
    "duplicate_ids": N_("they repeat an earlier row's transaction id with the same content"),
    "after_end": N_("they are dated after %(end)s, the end of the data the run reads"),
    "no_purchase_after_returns": N_(
        "no purchase left after returns: returns net the purchases of every purchase day to "
        "zero or less"
    ),
    "first_purchase_after_end": N_("their first purchase is after the observation end %(end)s"),
}

TEMPLATE = "value_report.html.j2"


@dataclass(frozen=True)
class RunMetadata:
    """What was run, on what, with which settings."""

    dataset: str
    observation_end: date | datetime | str
    #: the model's time unit, e.g. "days" or "weeks"
    unit: str
    #: CLV horizon, in ``unit``
    horizon: float
    #: discount rate as a fraction (0.1 = 10%), per ``discount_rate_basis``
    discount_rate: float
    #: the model the CLV comes from, e.g. "BG/NBD + Gamma-Gamma"
    model: str
    #: currency code or symbol of the money figures, e.g. "CNY"
    currency: str
    discount_rate_basis: str = "annual"
    n_customers: int | None = None
    generated_at: datetime | None = None


@dataclass(frozen=True)
class PAliveMatrix:
    """P(alive) on a grid: ``values[i, j]`` for ``frequency[i]`` and ``recency[j]``."""

    values: np.ndarray
    frequency: Sequence[float] | np.ndarray
    recency: Sequence[float] | np.ndarray

    def __post_init__(self) -> None:
        shape = (len(self.frequency), len(self.recency))
        if np.shape(self.values) != shape:
            raise ValueError(
                f"P(alive) values must have shape (len(frequency), len(recency)) = {shape}, "
                f"got {np.shape(self.values)}"
            )


@dataclass(frozen=True)
class ValueReportData:
    """Everything the value report shows.

    ``models`` holds one summary per fitted model (as from ``BaseModel.summary()``: ``model``,
    ``params``, ``standard_errors``, ``log_likelihood``, ``bic``, ``converged``). ``tier_table``
    is :func:`kehu.analytics.tiers.tier_table`; ``holdout`` is
    :func:`kehu.analytics.holdout.holdout_table` (optional, with its ``holdout_errors``).
    ``top_customers`` is shown as given (index = customer id), at most ``max_top_rows`` rows.
    """

    metadata: RunMetadata
    models: Sequence[Mapping[str, Any]]
    tier_table: pd.DataFrame
    pareto: ParetoCurve
    p_alive: PAliveMatrix
    clv: ArrayLike
    top_customers: pd.DataFrame
    holdout: pd.DataFrame | None = None
    #: :class:`~kehu.analytics.holdout.HoldoutErrors` or the same fields as a mapping
    holdout_errors: HoldoutErrors | Mapping[str, float] | None = None
    notes: Sequence[str] = field(default_factory=tuple)
    max_top_rows: int = 100
    #: rows and customers left out of the run, and why (shown in the report's own section)
    left_out: Sequence[LeftOut] = field(default_factory=tuple)
    #: customers in the log (those scored plus those left out), when known
    n_customers_in_log: int | None = None
    #: the date messages about left-out data name (the run's last day of data read)
    data_end: date | None = None
    #: the run's ``diagnostics["model_choice"]``: the purchase models compared, and why the
    #: winner won (:meth:`kehu.analytics.model_selection.ModelSelector.as_record`)
    model_choice: Mapping[str, Any] | None = None
    #: ``diagnostics["tracking"]`` and ``["frequency_histogram"]`` of the chosen model
    tracking: Mapping[str, Any] | None = None
    frequency_histogram: Mapping[str, Any] | None = None


# --- formatting ---------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and not math.isfinite(value))


class Formats:
    """Numbers, percentages and dates of the report in a translator's locale."""

    def __init__(self, translator: ReportTranslator) -> None:
        self.t = translator

    def number(self, value: object, digits: int = 2) -> str:
        """Thousands separators; integers without decimals; small numbers with 3 decimals;
        missing as a dash."""
        if _is_missing(value):
            return "–"
        if isinstance(value, bool | np.bool_):
            return self.t.gettext("yes") if value else self.t.gettext("no")
        if isinstance(value, int | np.integer):
            return self.t.format_number(int(value))
        if isinstance(value, float | np.floating):
            number = float(value)
            if number != 0 and abs(number) < 1:
                return self.t.format_number(number, max(digits, 3))
            return self.t.format_number(number, digits)
        return str(value)

    def percent(self, value: object, digits: int = 1) -> str:
        if _is_missing(value) or not isinstance(value, int | float | np.integer | np.floating):
            return "–"
        return self.t.format_percent(float(value), digits)

    def signed_percent(self, value: object, digits: int = 1) -> str:
        """A relative error: ``+4.8%`` / ``−2.0%``."""
        text = self.percent(value, digits)
        if text == "–" or text.startswith("-"):
            return text.replace("-", "−")
        return "+" + text

    def date(self, value: object) -> str:
        if isinstance(value, datetime):
            return self.t.format_datetime(value)
        if isinstance(value, date):
            return self.t.format_date(value)
        if isinstance(value, str):
            try:
                return self.t.format_date(date.fromisoformat(value))
            except ValueError:
                return value
        return str(value)


_SOURCE = Formats(SourceLanguage())


def fmt_number(value: object, digits: int = 2) -> str:
    """:meth:`Formats.number` in the source language."""
    return _SOURCE.number(value, digits)


def fmt_percent(value: object, digits: int = 1) -> str:
    return _SOURCE.percent(value, digits)


def fmt_signed_percent(value: object, digits: int = 1) -> str:
    return _SOURCE.signed_percent(value, digits)


def fmt_general(value: object) -> str:
    """A parameter estimate: 4 significant digits (the same in every language)."""
    if _is_missing(value):
        return "–"
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def fmt_date(value: object) -> str:
    return _SOURCE.date(value)


# --- chart and table preparation ---------------------------------------------------------------


def _unit(t: ReportTranslator, unit: str) -> str:
    word = UNIT_WORDS.get(unit)
    return t.gettext(word) if word is not None else unit


def _pareto_svg(curve: ParetoCurve, t: ReportTranslator, f: Formats) -> str:
    x, y = curve.thinned(301)
    markers = [
        svg.Marker(
            curve.customers_for_target,
            curve.target_value_share,
            t.gettext(
                "%(customers)s of customers → %(value)s of value",
                customers=f.percent(curve.customers_for_target),
                value=f.percent(curve.target_value_share, 0),
            ),
        ),
        svg.Marker(
            curve.top_customer_share,
            curve.value_of_top,
            t.gettext(
                "top %(customers)s → %(value)s of value",
                customers=f.percent(curve.top_customer_share, 0),
                value=f.percent(curve.value_of_top),
            ),
        ),
    ]
    return svg.line_chart(
        [
            svg.Series(t.gettext("customers, largest value first"), x, y),
            svg.Series(
                t.gettext("equal shares"), [0.0, 1.0], [0.0, 1.0], dashed=True, color="#999999"
            ),
        ],
        title=t.gettext("Pareto curve of customer value"),
        x_label=t.gettext("cumulative share of customers"),
        y_label=t.gettext("cumulative share of value"),
        x_range=(0.0, 1.0),
        y_range=(0.0, max(1.0, float(np.max(y)))),
        x_format=svg.format_percent,
        y_format=svg.format_percent,
        markers=markers,
    )


def _clv_svg(clv: np.ndarray, meta: RunMetadata, t: ReportTranslator, f: Formats) -> str:
    def clipped(above: int, quantile: float, cap: str) -> str:
        return t.ngettext(
            "%(num)s value above the %(quantile)s quantile (%(cap)s) counted in the last bar",
            "%(num)s values above the %(quantile)s quantile (%(cap)s) counted in the last bar",
            above,
            num=f.number(above),
            quantile=f.percent(quantile, 0),
            cap=cap,
        )

    return svg.histogram(
        clv,
        title=t.gettext("Distribution of customer lifetime value"),
        x_label=t.gettext(
            "CLV over %(horizon)s %(unit)s (%(currency)s)",
            horizon=svg.format_number(meta.horizon),
            unit=_unit(t, meta.unit),
            currency=meta.currency,
        ),
        y_label=t.gettext("customers"),
        clip_quantile=0.99,
        clipped_note=clipped,
    )


def _p_alive_svg(matrix: PAliveMatrix, meta: RunMetadata, t: ReportTranslator) -> str:
    return svg.heatmap(
        np.asarray(matrix.values, dtype=np.float64),
        matrix.recency,
        matrix.frequency,
        title=t.gettext("P(alive) by frequency and recency"),
        x_label=t.gettext("recency (age at last purchase, %(unit)s)", unit=_unit(t, meta.unit)),
        y_label=t.gettext("frequency (repeat purchases)"),
        value_range=(0.0, 1.0),
        value_format=lambda v: f"{v:.2f}",
    )


def _holdout_svg(table: pd.DataFrame, t: ReportTranslator) -> str:
    groups = table.drop(index="total", errors="ignore")
    return svg.bar_chart(
        [str(label) for label in groups.index],
        {
            t.gettext("actual"): groups["mean_actual"].to_numpy(dtype=np.float64),
            t.gettext("predicted"): groups["mean_predicted"].to_numpy(dtype=np.float64),
        },
        title=t.gettext("Holdout: mean transactions per customer, by calibration frequency"),
        x_label=t.gettext("repeat transactions in the calibration period"),
        y_label=t.gettext("mean transactions in the holdout period"),
        value_format=lambda v: f"{v:.2f}",
    )


def _model_rows(models: Sequence[Mapping[str, Any]], f: Formats) -> list[dict[str, Any]]:
    # "lowest BIC" only among purchase models: a spend model's likelihood is of other data
    bics = [m.get("bic") for m in models if model_choice.model_kind(m) == "purchase"]
    finite = [b for b in bics if isinstance(b, int | float) and math.isfinite(b)]
    best = min(finite) if len(finite) > 1 else None
    rows = []
    for model in models:
        params = model.get("params") or {}
        errors = model.get("standard_errors") or {}
        rows.append(
            {
                "model": str(model.get("model", "")),
                "params": [
                    {
                        "name": str(name),
                        "value": fmt_general(value),
                        "se": fmt_general(errors.get(name)),
                    }
                    for name, value in params.items()
                ],
                "log_likelihood": f.number(model.get("log_likelihood")),
                "bic": f.number(model.get("bic")),
                "best": best is not None
                and model_choice.model_kind(model) == "purchase"
                and model.get("bic") == best,
                "converged": model.get("converged"),
            }
        )
    return rows


def _tier_name(t: ReportTranslator, tier: object) -> str:
    return t.display_name(TIER_NAMES.get(str(tier), {}), str(tier))


def _tier_rows(table: pd.DataFrame, t: ReportTranslator, f: Formats) -> list[dict[str, str]]:
    rows = []
    for tier, row in table.iterrows():
        rows.append(
            {
                "tier": _tier_name(t, tier),
                "n_customers": f.number(int(row["n_customers"])),
                "customer_share": f.percent(row["customer_share"]),
                "total_value": f.number(float(row["total_value"])),
                "value_share": f.percent(row["value_share"]),
                "mean_value": f.number(float(row["mean_value"])),
            }
        )
    return rows


def _holdout_rows(table: pd.DataFrame, t: ReportTranslator, f: Formats) -> list[dict[str, Any]]:
    rows = []
    for label, row in table.iterrows():
        count = float(row["n_customers"])
        total = str(label) == "total"
        rows.append(
            {
                "group": t.gettext("total") if total else str(label),
                "n_customers": f.number(int(count) if count == int(count) else count),
                "mean_actual": f.number(float(row["mean_actual"]), 3),
                "mean_predicted": f.number(float(row["mean_predicted"]), 3),
                "total": total,
            }
        )
    return rows


def _cell(column: str, value: object, t: ReportTranslator, f: Formats) -> str:
    if column in ("value_tier", "tier") and isinstance(value, str):
        return _tier_name(t, value)
    if column == "rfm_segment" and isinstance(value, str):
        return t.display_name(SEGMENT_NAMES.get(value, {}), value)
    return f.number(value)


def _frame_rows(
    frame: pd.DataFrame, limit: int, t: ReportTranslator, f: Formats
) -> tuple[list[str], list[list[str]]]:
    shown = frame.head(limit)
    index_name = str(shown.index.name) if shown.index.name is not None else "customer"
    names = [index_name, *(str(c) for c in shown.columns)]
    header = [t.gettext(COLUMN_WORDS[n]) if n in COLUMN_WORDS else n for n in names]
    body = [
        [
            str(index),
            *(_cell(column, v, t, f) for column, v in zip(names[1:], values, strict=True)),
        ]
        for index, values in zip(shown.index, shown.itertuples(index=False), strict=True)
    ]
    return header, body


def _figures(
    clv: np.ndarray,
    n_customers: int,
    pareto: ParetoCurve,
    currency: str,
    t: ReportTranslator,
    f: Formats,
) -> list[tuple[str, str]]:
    """The key figures shown as cards: (label, value)."""
    has = clv.size > 0
    return [
        (t.gettext("customers"), f.number(int(n_customers))),
        (
            t.gettext("total CLV (%(currency)s)", currency=currency),
            f.number(float(clv.sum())) if has else "–",
        ),
        (
            t.gettext("mean CLV (%(currency)s)", currency=currency),
            f.number(float(clv.mean())) if has else "–",
        ),
        (
            t.gettext("median CLV (%(currency)s)", currency=currency),
            f.number(float(np.median(clv))) if has else "–",
        ),
        (
            t.gettext(
                "of customers make %(share)s of value",
                share=f.percent(pareto.target_value_share, 0),
            ),
            f.percent(pareto.customers_for_target),
        ),
        (
            t.gettext(
                "of value comes from the top %(share)s",
                share=f.percent(pareto.top_customer_share, 0),
            ),
            f.percent(pareto.value_of_top),
        ),
    ]


def _left_out_rows(data: ValueReportData, t: ReportTranslator, f: Formats) -> list[dict[str, str]]:
    """The rows and customers left out, each with its count and reason in words."""
    end = f.date(data.data_end or data.metadata.observation_end)
    observation_end = f.date(data.metadata.observation_end)
    rows = []
    for item in data.left_out:
        if item.count <= 0:
            continue
        reason = LEFT_OUT_REASONS.get(item.reason)
        words = (
            t.gettext(reason, end=end if item.reason == "after_end" else observation_end)
            if reason is not None
            else item.reason
        )
        if item.what == "rows":
            what = t.ngettext("%(num)s row", "%(num)s rows", item.count, num=f.number(item.count))
        else:
            what = t.ngettext(
                "%(num)s customer", "%(num)s customers", item.count, num=f.number(item.count)
            )
        rows.append({"what": what, "reason": words, "kind": item.what})
    return rows


def _choice_context(data: ValueReportData, f: Formats) -> dict[str, Any] | None:
    """The model choice partial's data: the candidates, the reason, the spend model, and the
    chosen model's diagnostic charts, drawn with the words the template passes in."""
    choice = data.model_choice
    if not choice:
        return None
    rows = model_choice.candidate_rows(choice, f.number, f.t.lookup)
    chosen = next((row for row in rows if row["chosen"] and row["fitted"]), None)
    label = chosen["label"] if chosen else ""
    tracking = data.tracking or {}
    histogram = data.frequency_histogram or {}

    def tracking_chart(**words: Any) -> Markup | None:
        drawn = model_choice.tracking_chart(tracking, **words)
        return None if drawn is None else Markup(drawn)

    def histogram_chart(**words: Any) -> Markup | None:
        drawn = model_choice.histogram_chart(histogram, **words)
        return None if drawn is None else Markup(drawn)

    reason, variables = model_choice.choice_reason(choice)
    return {
        "candidates": rows,
        "chosen_label": label,
        "holdout": bool(choice.get("holdout")),
        "user": choice.get("mode") == "user",
        "reason": reason,
        "reason_variables": variables,
        "spend": model_choice.spend_rows(data.models, f.number),
        "tracking_chart": tracking_chart if tracking.get("actual") else None,
        "histogram_chart": histogram_chart if histogram.get("actual") else None,
        "tracking_error": tracking.get("error"),
        "histogram_error": histogram.get("error"),
    }


def _context(data: ValueReportData, t: ReportTranslator) -> dict[str, Any]:
    f = Formats(t)
    meta = data.metadata
    clv = np.asarray(data.clv, dtype=np.float64).ravel()
    finite = clv[np.isfinite(clv)]
    n_customers = meta.n_customers if meta.n_customers is not None else int(clv.size)
    generated = meta.generated_at or datetime.now(UTC).replace(microsecond=0)
    pareto = data.pareto
    top_header, top_rows = _frame_rows(data.top_customers, data.max_top_rows, t, f)
    return {
        "language": t.code,
        "meta": meta,
        "unit": _unit(t, meta.unit),
        "version": __version__,
        "generated": f.date(generated),
        "observation_end": f.date(meta.observation_end),
        "horizon": svg.format_number(meta.horizon),
        "discount_rate": f.percent(meta.discount_rate, 2),
        "discount_rate_basis": t.gettext("annual")
        if meta.discount_rate_basis == "annual"
        else meta.discount_rate_basis,
        "figures": _figures(finite, n_customers, pareto, meta.currency, t, f),
        "pareto": pareto,
        "tiers": _tier_rows(data.tier_table, t, f),
        "models": _model_rows(data.models, f),
        "holdout": None if data.holdout is None else _holdout_rows(data.holdout, t, f),
        "holdout_errors": data.holdout_errors,
        "top_header": top_header,
        "top_rows": top_rows,
        "top_total": len(data.top_customers),
        "notes": list(data.notes),
        "left_out": _left_out_rows(data, t, f),
        "n_customers_in_log": data.n_customers_in_log,
        "n_scored": n_customers,
        "choice": _choice_context(data, f),
        "charts": {
            "pareto": Markup(_pareto_svg(pareto, t, f)),
            "clv": Markup(_clv_svg(finite, meta, t, f)),
            "p_alive": Markup(_p_alive_svg(data.p_alive, meta, t)),
            "holdout": None if data.holdout is None else Markup(_holdout_svg(data.holdout, t)),
        },
    }


def _environment(translator: ReportTranslator) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kehu.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # the templates (the report's and every partial it includes) mark their words with _()
    # (newstyle gettext, as the pages' templates do): Jinja formats the translation, escaping
    # the values, so the translator gives it unformatted
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        translator.lookup, translator.lookup_plural, newstyle=True
    )
    formats = Formats(translator)
    environment.filters["number"] = formats.number
    environment.filters["percent"] = formats.percent
    environment.filters["signed_percent"] = formats.signed_percent
    environment.filters["date"] = formats.date
    return environment


def render_value_report(data: ValueReportData, translator: ReportTranslator | None = None) -> str:
    """The report as one HTML string, in ``translator``'s language (default: English source)."""
    translator = translator or SourceLanguage()
    environment = _environment(translator)
    return environment.get_template(TEMPLATE).render(**_context(data, translator))


def write_value_report(
    path: str | Path, report_data: ValueReportData, translator: ReportTranslator | None = None
) -> Path:
    """Write the report to ``path`` (UTF-8; parent folders are created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_value_report(report_data, translator), encoding="utf-8")
    return target
