"""How well a fitted purchase model describes the data it saw and the period after: the two
figures Fader, Hardie & Lee draw for every model.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting Your Customers' the Easy
Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284 ("FHL 2005"):

* Figure 2 -- the calibration-period histogram: how many customers made 0, 1, ..., 7+ repeat
  purchases, against the model's expectation ``sum_i P(X(T_i) = n)`` (eq. 8 for the BG/NBD; the
  model's own ``probability_of_purchases`` for the others), each customer with her own time
  ``T_i`` since the first purchase;
* Figure 3 -- cumulative repeat purchases by week over the calibration and holdout periods,
  against ``sum_i E[X(t - s_i)]`` (eq. 9 for the BG/NBD): the unconditional expectation of a
  customer acquired at ``s_i``, summed over the customers. Every customer's acquisition time
  follows from her ``T``: ``s_i = max(T) - T_i``, measured from the earliest first purchase, so
  the customers who first bought on one day form one cohort.

The model only needs ``expected_purchases(t)`` and ``probability_of_purchases(n, t)`` (every
purchase model of :mod:`kehu.analytics` has both). Work grows with the distinct values of ``T``
(days of first purchase), not with customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from kehu.analytics._base import FloatArray, as_float_array, check_weights, compress_rows
from kehu.errors import InputError

__all__ = [
    "FrequencyHistogram",
    "expected_cumulative_repeat_purchases",
    "expected_holdout_repeat_purchases",
    "frequency_histogram",
]


def _cohorts(T: ArrayLike, weights: ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    """Distinct ``T`` values with their number of customers."""
    age = as_float_array(T, "T")
    w = check_weights(weights, len(age))
    if np.any(age < 0):
        index = int(np.flatnonzero(age < 0)[0])
        raise InputError("T must be >= 0", row=index + 1, column="T", value=float(age[index]))
    (distinct,), counts = compress_rows([age], w)
    return distinct, counts


def expected_cumulative_repeat_purchases(
    model: Any, T: ArrayLike, times: ArrayLike, *, weights: ArrayLike | None = None
) -> FloatArray:
    """Expected cumulative repeat purchases of all customers at each of ``times``
    (FHL 2005 Figure 3): ``sum_i w_i E[X(t - s_i)]`` with ``s_i = max(T) - T_i`` and
    ``E[X(u)] = 0`` for ``u <= 0``. ``times`` count from the earliest first purchase, in the
    model's time unit; the calibration period ends at ``max(T)``."""
    age, counts = _cohorts(T, weights)
    grid = as_float_array(times, "times")
    if age.size == 0:
        return np.zeros(len(grid))
    start = float(age.max()) - age  # each cohort's acquisition time
    elapsed = np.maximum(grid[None, :] - start[:, None], 0.0)
    expected = np.asarray(model.expected_purchases(elapsed), dtype=np.float64)
    return np.asarray(counts @ expected, dtype=np.float64)


def expected_holdout_repeat_purchases(
    model: Any, T: ArrayLike, duration: float, *, weights: ArrayLike | None = None
) -> float:
    """Expected repeat purchases of all customers in a holdout of ``duration`` after the
    calibration end, unconditionally (what FHL 2005 Figure 3 adds up over the holdout weeks):
    ``sum_i w_i (E[X(T_i + d)] - E[X(T_i)])``."""
    age, counts = _cohorts(T, weights)
    if duration < 0:
        raise InputError(f"duration must be >= 0, got {duration}", column="duration")
    before = np.asarray(model.expected_purchases(age), dtype=np.float64)
    after = np.asarray(model.expected_purchases(age + duration), dtype=np.float64)
    return float(counts @ (after - before))


@dataclass(frozen=True)
class FrequencyHistogram:
    """Customers by number of repeat purchases in calibration, ``labels`` ``0 .. 6, 7+``."""

    labels: list[str]
    actual: FloatArray
    expected: FloatArray

    def as_record(self) -> dict[str, list[Any]]:
        return {
            "labels": list(self.labels),
            "actual": [float(v) for v in self.actual],
            "expected": [float(v) for v in self.expected],
        }


def frequency_histogram(
    model: Any,
    frequency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    max_frequency: int = 7,
) -> FrequencyHistogram:
    """Actual against expected numbers of customers with 0, 1, ..., ``max_frequency``+ repeat
    purchases in calibration (FHL 2005 Figure 2): ``sum_i w_i P(X(T_i) = n)``; the last bin
    holds the rest, so both columns sum to the number of customers."""
    if max_frequency < 1:
        raise InputError(f"max_frequency must be >= 1, got {max_frequency}")
    x = as_float_array(frequency, "frequency")
    w = check_weights(weights, len(x))
    if len(as_float_array(T, "T")) != len(x):
        raise InputError("frequency and T must have the same length")
    group = np.minimum(x, max_frequency).astype(np.int64)
    actual = np.bincount(group, weights=w, minlength=max_frequency + 1)[: max_frequency + 1]
    age, counts = _cohorts(T, w)
    n = np.arange(max_frequency, dtype=np.float64)
    probabilities = np.asarray(
        model.probability_of_purchases(n[:, None], age[None, :]), dtype=np.float64
    )
    expected_low = probabilities @ counts
    expected = np.append(expected_low, float(counts.sum()) - float(expected_low.sum()))
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    return FrequencyHistogram(labels, actual.astype(np.float64), expected)
