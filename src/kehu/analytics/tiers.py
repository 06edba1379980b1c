"""Value tiers and the Pareto (80/20) curve of customer value.

The 80/20 rule -- a small share of customers brings most of the value -- goes back to Juran's
"vital few and trivial many" (Juran 1951, *Quality Control Handbook*) after Pareto's income data,
and was popularised for business by Koch (1998), *The 80/20 Principle*. Fader, Hardie & Lee (2005),
"RFM and CLV", *Journal of Marketing Research* 42(4), show the same concentration in CLV.

Value tiers
-----------
Customers are sorted by value (usually CLV), largest first. With the default thresholds
``(0.80, 0.95)``, the customers that make the first 80% of the total positive value are ``"high"``,
those that make the next 15% are ``"middle"``, the rest are ``"low"``. Precisely: let ``before`` be
the sum of the values *strictly larger* than a customer's value, as a share of the total positive
value. The customer's tier is the first tier whose upper threshold is above ``before``. Hence

- the customer whose value crosses a threshold belongs to the upper tier (it is needed to reach it);
- tied values always share a tier (a group of tied customers is placed as one block, and a block
  crossing a threshold goes to the upper tier) -- the result never depends on row order;
- customers with value <= 0 are always in the lowest tier; when no value is positive, all are;
- if every value is equal, every positive customer is ``"high"``: no concentration, no split.

Shares are compared with a relative tolerance of 1e-12 so that floating-point rounding of a sum that
lands exactly on a threshold does not change a tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from kehu.analytics._base import FloatArray, as_float_array
from kehu.errors import EmptyInputError, InputError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "TIER_LABELS",
    "TIER_NAMES",
    "ParetoCurve",
    "pareto_curve",
    "tier_cutoffs",
    "tier_indices",
    "tier_table",
    "value_tiers",
]

DEFAULT_THRESHOLDS: tuple[float, ...] = (0.80, 0.95)
TIER_LABELS: tuple[str, ...] = ("high", "middle", "low")
#: Display names of the default tiers.
TIER_NAMES: dict[str, dict[str, str]] = {
    "high": {"en": "High value", "zh": "高价值客户"},
    "middle": {"en": "Middle value", "zh": "中价值客户"},
    "low": {"en": "Low value", "zh": "低价值客户"},
}

_TOLERANCE = 1e-12


def _check_thresholds(thresholds: Sequence[float], labels: Sequence[str]) -> FloatArray:
    limits = np.asarray(thresholds, dtype=np.float64)
    if limits.ndim != 1 or len(limits) == 0:
        raise InputError("thresholds must be a non-empty sequence of shares")
    if not (np.all(limits > 0) and np.all(limits <= 1) and np.all(np.diff(limits) > 0)):
        raise InputError(
            f"thresholds must be strictly increasing shares in (0, 1], got {list(thresholds)}"
        )
    if len(labels) != len(limits) + 1:
        raise InputError(
            f"{len(limits)} thresholds need {len(limits) + 1} labels, got {len(labels)}"
        )
    if len(set(labels)) != len(labels):
        raise InputError(f"tier labels must be distinct, got {list(labels)}")
    return limits


def tier_cutoffs(
    values: ArrayLike, *, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> FloatArray:
    """The smallest value of each tier above the lowest (``inf`` for an empty tier), so that a
    customer is in tier ``i`` when ``value > 0`` and ``value >= cutoffs[i]`` (the first such
    ``i``), else in the lowest tier -- the rule of :func:`value_tiers` as value ranges.

    The tier of a value depends on it only through the positive value strictly above it, which
    falls as the value rises, so each tier is a range of values. One sort and a cumulative sum:
    an engine can then assign tiers with a CASE expression over two numbers.
    """
    limits = np.asarray(thresholds, dtype=np.float64)
    array = as_float_array(values, "values")
    cutoffs = np.full(len(limits), np.inf)
    positive = np.sort(array[array > 0])[::-1]
    if positive.size == 0:
        return cutoffs
    total = float(positive.sum())
    before = np.empty(positive.size)
    before[0] = 0.0
    np.cumsum(positive[:-1], out=before[1:])
    # positive value strictly above each value: ties share the sum before their first member
    group_start = np.ones(positive.size, dtype=bool)
    group_start[1:] = positive[1:] != positive[:-1]
    first_of_group = np.maximum.accumulate(np.where(group_start, np.arange(positive.size), 0))
    above = before[first_of_group]  # non-decreasing along the (descending) values
    for i, limit in enumerate(limits):
        # customers in tier <= i: above < limit (with tolerance) -- a prefix of the values
        inside = int(np.searchsorted(above, limit * total * (1 - _TOLERANCE), side="left"))
        if inside:
            cutoffs[i] = positive[inside - 1]
    return cutoffs


def value_tiers(
    values: ArrayLike,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    labels: Sequence[str] = TIER_LABELS,
) -> NDArray[np.object_]:
    """Value tier of each customer by cumulative share of value (see the module docstring).

    ``thresholds`` are increasing cumulative shares in (0, 1]; ``labels`` has one more entry, upper
    tier first. Returns an object array of labels in input order. NaN/inf values are an
    :class:`~kehu.errors.InputError`. Computed from :func:`tier_cutoffs`.
    """
    index = tier_indices(values, thresholds=thresholds, labels=labels)
    lookup = np.asarray(list(labels), dtype=object)
    result: NDArray[np.object_] = lookup[index]
    return result


def tier_indices(
    values: ArrayLike,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    labels: Sequence[str] = TIER_LABELS,
) -> NDArray[np.intp]:
    """The tier of each customer as an index into ``labels`` (0 is the upper tier): the rule of
    :func:`value_tiers` without building a label per customer."""
    limits = _check_thresholds(thresholds, labels)
    array = as_float_array(values, "values")
    cutoffs = tier_cutoffs(array, thresholds=tuple(float(v) for v in limits))
    # tier index: number of cutoffs above the value (the cutoffs decrease), lowest when <= 0
    index = np.zeros(len(array), dtype=np.intp)
    for cutoff in cutoffs:
        index += array < cutoff
    index[~(array > 0)] = len(limits)
    return index


def tier_table(
    values: ArrayLike, tiers: ArrayLike, *, labels: Sequence[str] = TIER_LABELS
) -> pd.DataFrame:
    """Summary per tier, in ``labels`` order (tiers without customers have count 0).

    Columns: ``n_customers``, ``customer_share``, ``total_value``, ``value_share`` (of the net total
    of all values, so the shares sum to 1; NaN when the net total is 0), ``mean_value`` (NaN for an
    empty tier). A ``tiers`` entry not in ``labels`` is an :class:`~kehu.errors.InputError`.
    """
    array = as_float_array(values, "values")
    names = np.atleast_1d(np.asarray(tiers, dtype=object))
    if names.shape != array.shape:
        raise InputError(
            f"values and tiers must have the same length, got {len(array)} and {len(names)}"
        )
    codes = np.full(len(names), -1, dtype=np.intp)
    for code, label in enumerate(labels):
        codes[names == label] = code
    unknown = np.flatnonzero(codes < 0)
    if unknown.size:
        i = int(unknown[0])
        raise InputError(
            f"unknown tier, expected one of {list(labels)}", row=i + 1, column="tier",
            value=names[i],
        )  # fmt: skip
    n = len(array)
    net_total = float(array.sum())
    counts = np.bincount(codes, minlength=len(labels))
    totals = np.bincount(codes, weights=array, minlength=len(labels))
    rows = []
    for code in range(len(labels)):
        count = int(counts[code])
        total = float(totals[code])
        rows.append(
            {
                "n_customers": count,
                "customer_share": count / n if n else np.nan,
                "total_value": total,
                "value_share": total / net_total if net_total != 0 else np.nan,
                "mean_value": total / count if count else np.nan,
            }
        )
    frame = pd.DataFrame(rows, index=pd.Index(list(labels), name="tier"))
    return frame


@dataclass(frozen=True)
class ParetoCurve:
    """Cumulative share of value against cumulative share of customers, largest values first.

    ``customer_share`` and ``value_share`` have ``n + 1`` points each, starting at ``(0, 0)`` and
    ending at ``(1, 1)``; the curve between points is linear. With negative values the curve can
    rise above 1 before it comes back to 1 (the "whale curve" of profitability).
    """

    customer_share: FloatArray
    value_share: FloatArray
    #: the value share asked about (default 0.80) ...
    target_value_share: float
    #: ... and the smallest share of customers whose values reach it (on the linear curve)
    customers_for_target: float
    #: number of (largest) customers needed to reach the target value share
    n_customers_for_target: int
    #: the customer share asked about (default 0.20) ...
    top_customer_share: float
    #: ... and the share of value those top customers bring (on the linear curve)
    value_of_top: float

    @property
    def n_customers(self) -> int:
        return len(self.customer_share) - 1

    def thinned(self, max_points: int = 201) -> tuple[FloatArray, FloatArray]:
        """At most ``max_points`` points of the curve (first and last kept), for charts."""
        n = len(self.customer_share)
        if n <= max_points:
            return self.customer_share.copy(), self.value_share.copy()
        picks = np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))
        return self.customer_share[picks], self.value_share[picks]


def pareto_curve(
    values: ArrayLike, *, value_share: float = 0.80, customer_share: float = 0.20
) -> ParetoCurve:
    """The Pareto curve of ``values`` and its "80/20 figures" (Juran; Koch 1998).

    - ``customers_for_target``: share of customers (largest first) that makes ``value_share`` of
      the total value, read on the piecewise-linear curve; ``n_customers_for_target`` is the whole
      number of customers needed (the customer crossing the target counts, as in
      :func:`value_tiers`).
    - ``value_of_top``: share of the total value brought by the top ``customer_share`` of customers.

    The total of ``values`` must be positive: with a zero or negative total, "share of value" means
    nothing and :class:`~kehu.errors.InputError` is raised. An empty input is an
    :class:`~kehu.errors.EmptyInputError`.
    """
    if not 0 < value_share <= 1:
        raise InputError(f"value_share must be in (0, 1], got {value_share}")
    if not 0 <= customer_share <= 1:
        raise InputError(f"customer_share must be in [0, 1], got {customer_share}")
    array = as_float_array(values, "values")
    n = len(array)
    if n == 0:
        raise EmptyInputError("no customers: the Pareto curve needs at least one value")
    total = float(array.sum())
    if not total > 0:
        raise InputError(
            f"the total value is {total:.6g}; a Pareto curve needs a positive total value"
        )
    ordered = np.sort(array)[::-1]
    cumulative = np.concatenate([[0.0], np.cumsum(ordered)]) / total
    cumulative[-1] = 1.0  # exact end point despite rounding
    x = np.arange(n + 1, dtype=np.float64) / n
    # first point at or above the target (tolerance as in value_tiers)
    reached = np.flatnonzero(cumulative >= value_share * (1 - _TOLERANCE))
    k = int(reached[0])  # k >= 1 because cumulative[0] == 0 < value_share; k <= n since end is 1
    lower, upper = cumulative[k - 1], cumulative[k]
    fraction = 1.0 if upper <= lower else min(1.0, (value_share - lower) / (upper - lower))
    customers_for_target = (k - 1 + max(0.0, fraction)) / n
    value_of_top = float(np.interp(customer_share, x, cumulative))
    return ParetoCurve(
        customer_share=x,
        value_share=cumulative,
        target_value_share=value_share,
        customers_for_target=float(customers_for_target),
        n_customers_for_target=k,
        top_customer_share=customer_share,
        value_of_top=value_of_top,
    )
