"""The purchase models a value run compared, and the diagnostics of the chosen one, as the report
and the value page show them: the candidates' rows, the spend model's rows, the tracking plot
(Fader, Hardie & Lee 2005, "Counting your customers the easy way", *Marketing Science* 24(2),
Figure 3) and the calibration frequency histogram (Figure 2).

Words come in translated (the page translates with its user's language, the report's template
with its own ``_``), so this module never needs a translator; ``number`` formats a figure the
front end's way. Everything here reads the
run's stored JSON (``diagnostics["model_choice"]``, ``["tracking"]``,
``["frequency_histogram"]``), never the transactions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from kehu.errors import N_  # the one marker (the report may not import kehu.core)
from kehu.report import svg

__all__ = [
    "SPEND_MODELS",
    "candidate_rows",
    "choice_reason",
    "histogram_chart",
    "model_kind",
    "spend_rows",
    "tracking_chart",
]

SPEND_MODELS = frozenset({"GammaGammaModel"})
LABELS = {
    "BetaGeoModel": "BG/NBD",
    "ModifiedBetaGeoModel": "MBG/NBD",
    "ParetoNBDModel": "Pareto/NBD",
    "GammaGammaModel": "Gamma-Gamma",
}


def model_kind(model: Mapping[str, Any]) -> str:
    """``"purchase"`` or ``"spend"``: the stored ``kind``, else (older runs) by class name."""
    kind = model.get("kind")
    if isinstance(kind, str):
        return kind
    return "spend" if model.get("model") in SPEND_MODELS else "purchase"


def _finite(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _general(value: object) -> str:
    number = _finite(value)
    return "–" if number is None else f"{number:.4g}"


def _params(model: Mapping[str, Any]) -> list[dict[str, str]]:
    errors = model.get("standard_errors") or {}
    return [
        {"name": str(name), "value": _general(value), "se": _general(errors.get(name))}
        for name, value in (model.get("params") or {}).items()
    ]


def _words(
    template: object, values: object, fallback: object, lookup: Callable[[str], str]
) -> str | None:
    """A failure's reason or advice in the reader's language: its stored message template
    translated and filled in, each text value translated too (a value may be a sentence the
    model chose, such as why the optimizer stopped; a name or a figure is left as it is, having
    no translation). A run stored before the templates were, or a template the catalogs do not
    know, shows the stored English."""
    if not isinstance(template, str) or not template:
        return None if fallback is None else str(fallback)
    filled = {
        key: lookup(value) if isinstance(value, str) else value
        for key, value in (values if isinstance(values, Mapping) else {}).items()
    }
    try:
        return lookup(template) % filled if filled else lookup(template)
    except (KeyError, TypeError, ValueError):  # a translation that does not fit its values
        return None if fallback is None else str(fallback)


def candidate_rows(
    choice: Mapping[str, Any],
    number: Callable[[float, int], str],
    lookup: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """One row per candidate: label, fit figures (formatted), holdout figures, chosen, and the
    failure's reason and advice for a model that could not be fitted, in the language of
    ``lookup`` (a message's translation, :meth:`kehu.core.i18n.Translator.lookup`)."""
    rows = []
    for candidate in choice.get("candidates") or []:
        tracking = _finite(candidate.get("tracking_error"))
        mae = _finite(candidate.get("holdout_mae"))
        ll = _finite(candidate.get("log_likelihood"))
        bic = _finite(candidate.get("bic"))
        rows.append(
            {
                "name": str(candidate.get("name", "")),
                "label": str(candidate.get("label", candidate.get("name", ""))),
                "fitted": bool(candidate.get("fitted")),
                "chosen": bool(candidate.get("chosen")),
                "params": _params(candidate),
                "log_likelihood": "–" if ll is None else number(ll, 1),
                "bic": "–" if bic is None else number(bic, 1),
                "holdout_mae": "–" if mae is None else number(mae, 4),
                "tracking_error": "–" if tracking is None else f"{tracking * 100:+.1f}%",
                "failure": _words(
                    candidate.get("failure_template"),
                    candidate.get("failure_values"),
                    candidate.get("failure"),
                    lookup,
                ),
                "failure_type": candidate.get("failure_type"),
                "advice": _words(
                    candidate.get("advice_template"),
                    candidate.get("advice_values"),
                    candidate.get("advice"),
                    lookup,
                ),
            }
        )
    return rows


def spend_rows(
    models: Sequence[Mapping[str, Any]], number: Callable[[float, int], str]
) -> list[dict[str, Any]]:
    """The spend model(s) of a run, shown apart: a spend model's likelihood is of other data
    (repeat buyers' spends), so its BIC is not comparable with a purchase model's."""
    rows = []
    for model in models:
        if model_kind(model) != "spend":
            continue
        ll = _finite(model.get("log_likelihood"))
        rows.append(
            {
                "label": LABELS.get(str(model.get("model")), str(model.get("model", ""))),
                "params": _params(model),
                "log_likelihood": "–" if ll is None else number(ll, 1),
                "n_observations": _finite(model.get("n_observations")),
                "converged": bool(model.get("converged")),
            }
        )
    return rows


def choice_reason(choice: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """Why the winner won, as a message id and its variables (from the stored criterion and
    figures): the page translates it with its user's ``_``, the report's template with its own."""
    labels = {c.get("name"): c.get("label") for c in choice.get("candidates") or []}
    chosen = str(labels.get(choice.get("chosen"), choice.get("chosen") or ""))
    criterion = choice.get("criterion")
    rules = choice.get("rules") or {}
    tied = ", ".join(str(labels.get(name, name)) for name in choice.get("near_tie") or [])
    if criterion == "user":
        fitted = any(c.get("chosen") and c.get("fitted") for c in choice.get("candidates") or [])
        if not fitted:
            return N_("%(model)s was chosen by the user and could not be fitted."), {
                "model": chosen
            }
        return N_("%(model)s was chosen by the user (--model)."), {"model": chosen}
    if criterion == "none_fitted":
        return N_("No candidate model could be fitted."), {}
    if criterion == "only_fitted":
        return N_("%(model)s is the only candidate that could be fitted."), {"model": chosen}
    if criterion == "too_short":
        return (
            N_(
                "The data are too short to judge (%(why)s): %(model)s is the first of MBG/NBD, "
                "Pareto/NBD and BG/NBD that could be fitted."
            ),
            {"why": str(choice.get("too_short") or ""), "model": chosen},
        )
    if criterion == "holdout_mae" and tied:
        return (
            N_(
                "The holdout mean absolute errors of %(tied)s are within %(tolerance)s of the "
                "lowest: %(model)s has the smallest tracking error."
            ),
            {
                "tied": tied,
                "tolerance": f"{float(rules.get('mae_tolerance', 0.01)):.0%}",
                "model": chosen,
            },
        )
    if criterion == "holdout_mae":
        return N_("%(model)s has the lowest holdout mean absolute error."), {"model": chosen}
    if criterion == "bic" and tied:
        return (
            N_(
                "The BICs of %(tied)s are within %(tolerance)s of the lowest: %(model)s comes "
                "first in the order of preference MBG/NBD, Pareto/NBD, BG/NBD."
            ),
            {
                "tied": tied,
                "tolerance": f"{float(rules.get('bic_tolerance', 2.0)):g}",
                "model": chosen,
            },
        )
    if criterion == "bic":
        return N_("%(model)s has the lowest BIC among the purchase models."), {"model": chosen}
    return N_("%(reason)s"), {"reason": str(choice.get("reason") or "")}


def tracking_chart(
    tracking: Mapping[str, Any],
    *,
    title: str,
    x_label: str,
    y_label: str,
    actual: str,
    expected: str,
    calibration_end: str,
    width: int = 720,
) -> str | None:
    """Cumulative repeat purchases by week, actual against the model's expectation, with the
    calibration end marked (FHL 2005 Figure 3); the words come translated. None when the run
    has no tracking series."""
    ends = tracking.get("period_end_days")
    if not tracking.get("actual") or not tracking.get("expected") or not ends:
        return None
    weeks = np.asarray(ends, dtype=np.float64) / 7.0
    y_actual = np.asarray(tracking["actual"], dtype=np.float64)
    y_expected = np.asarray(tracking["expected"], dtype=np.float64)
    top = float(np.nanmax(np.concatenate([y_actual, y_expected, [1.0]])))
    series = [
        svg.Series(str(actual), weeks, y_actual),
        svg.Series(str(expected), weeks, y_expected),
    ]
    end = _finite(tracking.get("calibration_end_days"))
    if end is not None and tracking.get("holdout_end_days") is not None:
        series.append(
            svg.Series(
                str(calibration_end), [end / 7.0] * 2, [0.0, top], dashed=True, color="#999999"
            )
        )
    return svg.line_chart(
        series,
        title=str(title),
        x_label=str(x_label),
        y_label=str(y_label),
        x_range=(0.0, float(weeks[-1])),
        width=width,
    )


def histogram_chart(
    histogram: Mapping[str, Any],
    *,
    title: str,
    x_label: str,
    y_label: str,
    actual: str,
    expected: str,
    width: int = 720,
) -> str | None:
    """Customers by number of repeat purchases in calibration, actual against expected
    (FHL 2005 Figure 2); the words come translated. None when the run has no histogram."""
    labels = histogram.get("labels")
    if not labels or not histogram.get("actual") or not histogram.get("expected"):
        return None
    return svg.bar_chart(
        [str(label) for label in labels],
        {
            str(actual): np.asarray(histogram["actual"], dtype=np.float64),
            str(expected): np.asarray(histogram["expected"], dtype=np.float64),
        },
        title=str(title),
        x_label=str(x_label),
        y_label=str(y_label),
        value_format=lambda v: f"{v:,.0f}",
        width=width,
    )
