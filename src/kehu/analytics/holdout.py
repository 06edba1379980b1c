"""Holdout validation of customer-base models, the way Fader & Hardie validate them.

The transaction log is split at a calibration end: the model is fitted on the calibration period and
predicts each customer's number of repeat transactions in the holdout period that follows. The
predictions are then compared with what happened, *conditional on calibration frequency*: customers
are grouped by their number of repeat transactions in calibration (0, 1, ..., 7+) and the mean
predicted and mean actual holdout transactions are compared per group (the "conditional
expectations" figure of Fader, Hardie & Lee 2005, "'Counting Your Customers' the Easy Way: An
Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284; after Schmittlein,
Morrison & Colombo 1987). It tests the model where it matters for CLV -- does it tell light from
heavy buyers -- rather than only in aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from kehu.analytics._base import as_float_array
from kehu.errors import EmptyInputError, InputError

__all__ = ["HoldoutErrors", "holdout_errors", "holdout_table"]

TOTAL_LABEL = "total"


def _inputs(
    frequency_cal: ArrayLike,
    predicted_holdout: ArrayLike,
    actual_holdout: ArrayLike,
    weights: ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    frequency = as_float_array(frequency_cal, "frequency_cal")
    predicted = as_float_array(predicted_holdout, "predicted_holdout")
    actual = as_float_array(actual_holdout, "actual_holdout")
    n = len(frequency)
    if not len(predicted) == len(actual) == n:
        raise InputError(
            "frequency_cal, predicted_holdout and actual_holdout must have the same length, got "
            f"{n}, {len(predicted)} and {len(actual)}"
        )
    w = np.ones(n) if weights is None else as_float_array(weights, "weights")
    if len(w) != n:
        raise InputError(f"weights must have length {n}, got {len(w)}")
    for name, array in (
        ("frequency_cal", frequency),
        ("predicted_holdout", predicted),
        ("actual_holdout", actual),
        ("weights", w),
    ):
        negative = array < 0
        if negative.any():
            i = int(np.flatnonzero(negative)[0])
            raise InputError(f"{name} must not be negative", row=i + 1, column=name, value=array[i])
    fractional = frequency != np.floor(frequency)
    if fractional.any():
        i = int(np.flatnonzero(fractional)[0])
        raise InputError(
            "frequency_cal must be a whole number of repeat transactions",
            row=i + 1,
            column="frequency_cal",
            value=frequency[i],
        )
    if n == 0 or w.sum() <= 0:
        raise EmptyInputError("no customers to validate")
    return frequency, predicted, actual, w


def holdout_table(
    frequency_cal: ArrayLike,
    predicted_holdout: ArrayLike,
    actual_holdout: ArrayLike,
    *,
    max_frequency: int = 7,
    weights: ArrayLike | None = None,
) -> pd.DataFrame:
    """Predicted against actual holdout transactions per calibration frequency group.

    Parameters
    ----------
    frequency_cal:
        Repeat transactions per customer in the calibration period (whole numbers >= 0).
    predicted_holdout:
        The model's expected number of transactions per customer in the holdout period.
    actual_holdout:
        The observed number of transactions per customer in the holdout period.
    max_frequency:
        The last group collects ``max_frequency`` and more (``"7+"`` by default).
    weights:
        Optional number of customers each row stands for (compressed summaries).

    Returns
    -------
    DataFrame indexed by group label ``"0", "1", ..., "7+"`` and a final ``"total"`` row, columns
    ``n_customers`` (int; float when ``weights`` are given), ``mean_actual, mean_predicted,
    sum_actual, sum_predicted``. Every group appears,
    also when empty (count 0, means NaN), so tables of different runs line up.
    """
    if max_frequency < 0:
        raise InputError(f"max_frequency must be >= 0, got {max_frequency}")
    frequency, predicted, actual, w = _inputs(
        frequency_cal, predicted_holdout, actual_holdout, weights
    )
    group = np.minimum(frequency, max_frequency).astype(np.int64)
    size = max_frequency + 1
    counts = np.bincount(group, weights=w, minlength=size)
    sum_actual = np.bincount(group, weights=w * actual, minlength=size)
    sum_predicted = np.bincount(group, weights=w * predicted, minlength=size)
    labels = [str(g) for g in range(max_frequency)] + [f"{max_frequency}+"]
    counts = np.append(counts, counts.sum())
    sum_actual = np.append(sum_actual, sum_actual.sum())
    sum_predicted = np.append(sum_predicted, sum_predicted.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_actual = np.where(counts > 0, sum_actual / counts, np.nan)
        mean_predicted = np.where(counts > 0, sum_predicted / counts, np.nan)
    return pd.DataFrame(
        {
            "n_customers": counts.astype(np.int64) if weights is None else counts,
            "mean_actual": mean_actual,
            "mean_predicted": mean_predicted,
            "sum_actual": sum_actual,
            "sum_predicted": sum_predicted,
        },
        index=pd.Index([*labels, TOTAL_LABEL], name="frequency_cal"),
    )


@dataclass(frozen=True)
class HoldoutErrors:
    """How far the holdout predictions are from what happened."""

    n_customers: float
    #: mean absolute error per customer, in transactions
    mae: float
    #: root mean squared error per customer, in transactions
    rmse: float
    total_actual: float
    total_predicted: float
    #: (total predicted - total actual) / total actual; NaN when nothing was bought in the holdout
    total_relative_error: float


def holdout_errors(
    predicted_holdout: ArrayLike, actual_holdout: ArrayLike, *, weights: ArrayLike | None = None
) -> HoldoutErrors:
    """Per-customer error figures (MAE, RMSE) and the relative error of the total holdout count."""
    predicted = as_float_array(predicted_holdout, "predicted_holdout")
    _, predicted, actual, w = _inputs(np.zeros(len(predicted)), predicted, actual_holdout, weights)
    n = float(w.sum())
    error = predicted - actual
    total_actual = float(w @ actual)
    total_predicted = float(w @ predicted)
    relative = (total_predicted - total_actual) / total_actual if total_actual > 0 else np.nan
    return HoldoutErrors(
        n_customers=n,
        mae=float(w @ np.abs(error)) / n,
        rmse=float(np.sqrt(float(w @ error**2) / n)),
        total_actual=total_actual,
        total_predicted=total_predicted,
        total_relative_error=float(relative),
    )
