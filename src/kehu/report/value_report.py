"""The customer value report: one self-contained HTML file.

The file opens offline and on its own: charts are inline SVG drawn by :mod:`kehu.report.svg`, the
CSS is inline, and there is no JavaScript, web font, image or other file to fetch. The template is
rendered by Jinja2 with autoescaping on, so names from the data (dataset, customers, models) are
always shown as text, never interpreted as HTML.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from numpy.typing import ArrayLike

from kehu import __version__
from kehu.analytics.holdout import HoldoutErrors
from kehu.analytics.tiers import TIER_NAMES, ParetoCurve
from kehu.report import model_choice, svg

__all__ = [
    "PAliveMatrix",
    "RunMetadata",
    "ValueReportData",
    "render_value_report",
    "write_value_report",
]

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
    #: the run's ``diagnostics["model_choice"]``: the purchase models compared, and why the
    #: winner won (:meth:`kehu.analytics.model_selection.ModelSelector.as_record`)
    model_choice: Mapping[str, Any] | None = None
    #: ``diagnostics["tracking"]`` and ``["frequency_histogram"]`` of the chosen model
    tracking: Mapping[str, Any] | None = None
    frequency_histogram: Mapping[str, Any] | None = None


# --- formatting ---------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and not math.isfinite(value))


def fmt_number(value: object, digits: int = 2) -> str:
    """Numbers with thousands separators; integers without decimals; missing as a dash."""
    if _is_missing(value):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        number = float(value)
        if number != 0 and abs(number) < 1:
            return f"{number:.{max(digits, 3)}f}"
        return f"{number:,.{digits}f}"
    return str(value)


def fmt_percent(value: object, digits: int = 1) -> str:
    if _is_missing(value) or not isinstance(value, int | float | np.integer | np.floating):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def fmt_signed_percent(value: object, digits: int = 1) -> str:
    """A relative error: ``+4.8%`` / ``−2.0%``."""
    text = fmt_percent(value, digits)
    if text == "–" or text.startswith("-"):
        return text.replace("-", "−")
    return "+" + text


def fmt_general(value: object) -> str:
    """A parameter estimate: 4 significant digits."""
    if _is_missing(value):
        return "–"
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def fmt_date(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- chart and table preparation ---------------------------------------------------------------


def _pareto_svg(curve: ParetoCurve) -> str:
    x, y = curve.thinned(301)
    markers = [
        svg.Marker(
            curve.customers_for_target,
            curve.target_value_share,
            f"{curve.customers_for_target:.1%} of customers → "
            f"{curve.target_value_share:.0%} of value",
        ),
        svg.Marker(
            curve.top_customer_share,
            curve.value_of_top,
            f"top {curve.top_customer_share:.0%} → {curve.value_of_top:.1%} of value",
        ),
    ]
    return svg.line_chart(
        [
            svg.Series("customers, largest value first", x, y),
            svg.Series("equal shares", [0.0, 1.0], [0.0, 1.0], dashed=True, color="#999999"),
        ],
        title="Pareto curve of customer value",
        x_label="cumulative share of customers",
        y_label="cumulative share of value",
        x_range=(0.0, 1.0),
        y_range=(0.0, max(1.0, float(np.max(y)))),
        x_format=svg.format_percent,
        y_format=svg.format_percent,
        markers=markers,
    )


def _clv_svg(clv: np.ndarray, meta: RunMetadata) -> str:
    return svg.histogram(
        clv,
        title="Distribution of customer lifetime value",
        x_label=f"CLV over {svg.format_number(meta.horizon)} {meta.unit} ({meta.currency})",
        y_label="customers",
        clip_quantile=0.99,
    )


def _p_alive_svg(matrix: PAliveMatrix, meta: RunMetadata) -> str:
    return svg.heatmap(
        np.asarray(matrix.values, dtype=np.float64),
        matrix.recency,
        matrix.frequency,
        title="P(alive) by frequency and recency",
        x_label=f"recency (age at last purchase, {meta.unit})",
        y_label="frequency (repeat purchases)",
        value_range=(0.0, 1.0),
        value_format=lambda v: f"{v:.2f}",
    )


def _holdout_svg(table: pd.DataFrame) -> str:
    groups = table.drop(index="total", errors="ignore")
    return svg.bar_chart(
        [str(label) for label in groups.index],
        {
            "actual": groups["mean_actual"].to_numpy(dtype=np.float64),
            "predicted": groups["mean_predicted"].to_numpy(dtype=np.float64),
        },
        title="Holdout: mean transactions per customer, by calibration frequency",
        x_label="repeat transactions in the calibration period",
        y_label="mean transactions in the holdout period",
        value_format=lambda v: f"{v:.2f}",
    )


def _model_rows(models: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
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
                "log_likelihood": fmt_number(model.get("log_likelihood")),
                "bic": fmt_number(model.get("bic")),
                "best": best is not None
                and model_choice.model_kind(model) == "purchase"
                and model.get("bic") == best,
                "converged": model.get("converged"),
            }
        )
    return rows


def _tier_rows(table: pd.DataFrame) -> list[dict[str, str]]:
    rows = []
    for tier, row in table.iterrows():
        name = TIER_NAMES.get(str(tier), {}).get("en", str(tier))
        rows.append(
            {
                "tier": name,
                "n_customers": fmt_number(int(row["n_customers"])),
                "customer_share": fmt_percent(row["customer_share"]),
                "total_value": fmt_number(float(row["total_value"])),
                "value_share": fmt_percent(row["value_share"]),
                "mean_value": fmt_number(float(row["mean_value"])),
            }
        )
    return rows


def _holdout_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for label, row in table.iterrows():
        count = float(row["n_customers"])
        rows.append(
            {
                "group": str(label),
                "n_customers": fmt_number(int(count) if count == int(count) else count),
                "mean_actual": fmt_number(float(row["mean_actual"]), 3),
                "mean_predicted": fmt_number(float(row["mean_predicted"]), 3),
                "total": str(label) == "total",
            }
        )
    return rows


def _frame_rows(frame: pd.DataFrame, limit: int) -> tuple[list[str], list[list[str]]]:
    shown = frame.head(limit)
    index_name = str(shown.index.name) if shown.index.name is not None else "customer"
    header = [index_name, *(str(c) for c in shown.columns)]
    body = [
        [str(index), *(fmt_number(v) for v in values)]
        for index, values in zip(shown.index, shown.itertuples(index=False), strict=True)
    ]
    return header, body


def _figures(
    clv: np.ndarray, n_customers: int, pareto: ParetoCurve, currency: str
) -> list[tuple[str, str]]:
    """The key figures shown as cards: (label, value)."""
    has = clv.size > 0
    return [
        ("customers", fmt_number(int(n_customers))),
        (f"total CLV ({currency})", fmt_number(float(clv.sum())) if has else "–"),
        (f"mean CLV ({currency})", fmt_number(float(clv.mean())) if has else "–"),
        (f"median CLV ({currency})", fmt_number(float(np.median(clv))) if has else "–"),
        (
            f"of customers make {pareto.target_value_share:.0%} of value",
            fmt_percent(pareto.customers_for_target),
        ),
        (
            f"of value comes from the top {pareto.top_customer_share:.0%}",
            fmt_percent(pareto.value_of_top),
        ),
    ]


def _choice_context(data: ValueReportData) -> dict[str, Any] | None:
    """The model choice partial's data: the candidates, the reason, the spend model, and the
    chosen model's diagnostic charts, drawn with the words the template passes in."""
    choice = data.model_choice
    if not choice:
        return None
    rows = model_choice.candidate_rows(choice, lambda value, digits: fmt_number(value, digits))
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
        "spend": model_choice.spend_rows(data.models, lambda v, d: fmt_number(v, d)),
        "tracking_chart": tracking_chart if tracking.get("actual") else None,
        "histogram_chart": histogram_chart if histogram.get("actual") else None,
        "tracking_error": tracking.get("error"),
        "histogram_error": histogram.get("error"),
    }


def _context(data: ValueReportData) -> dict[str, Any]:
    meta = data.metadata
    clv = np.asarray(data.clv, dtype=np.float64).ravel()
    finite = clv[np.isfinite(clv)]
    n_customers = meta.n_customers if meta.n_customers is not None else int(clv.size)
    generated = meta.generated_at or datetime.now(UTC).replace(microsecond=0)
    pareto = data.pareto
    top_header, top_rows = _frame_rows(data.top_customers, data.max_top_rows)
    return {
        "meta": meta,
        "version": __version__,
        "generated": fmt_date(generated),
        "observation_end": fmt_date(meta.observation_end),
        "horizon": svg.format_number(meta.horizon),
        "discount_rate": fmt_percent(meta.discount_rate, 2),
        "figures": _figures(finite, n_customers, pareto, meta.currency),
        "pareto": pareto,
        "tiers": _tier_rows(data.tier_table),
        "models": _model_rows(data.models),
        "holdout": None if data.holdout is None else _holdout_rows(data.holdout),
        "holdout_errors": data.holdout_errors,
        "top_header": top_header,
        "top_rows": top_rows,
        "top_total": len(data.top_customers),
        "notes": list(data.notes),
        "choice": _choice_context(data),
        "charts": {
            "pareto": Markup(_pareto_svg(pareto)),
            "clv": Markup(_clv_svg(finite, meta)),
            "p_alive": Markup(_p_alive_svg(data.p_alive, meta)),
            "holdout": None if data.holdout is None else Markup(_holdout_svg(data.holdout)),
        },
    }


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kehu.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # the template marks its words with _() (newstyle gettext, as the pages' templates do);
    # until the report is rendered in a language of its own they are its English source text
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    environment.filters["number"] = fmt_number
    environment.filters["percent"] = fmt_percent
    environment.filters["signed_percent"] = fmt_signed_percent
    return environment


def render_value_report(data: ValueReportData) -> str:
    """The report as one HTML string."""
    return _environment().get_template(TEMPLATE).render(**_context(data))


def write_value_report(path: str | Path, report_data: ValueReportData) -> Path:
    """Write the report to ``path`` (UTF-8; parent folders are created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_value_report(report_data), encoding="utf-8")
    return target
