"""SERVQUAL gaps: perception minus expectation, per item and per dimension, unweighted and
weighted by the respondents' importance points, each with a t interval and its n.

The instrument: Parasuraman, Zeithaml & Berry (1988), "SERVQUAL: a multiple-item scale for
measuring consumer perceptions of service quality", *Journal of Retailing* 64(1), 12-40, revised
in Parasuraman, Berry & Zeithaml (1991), "Refinement and reassessment of the SERVQUAL scale",
*Journal of Retailing* 67(4), 420-450: 22 items, each asked twice on a 1-7 scale (what an
excellent company would do: the expectation E; what this company does: the perception P), in
five dimensions (tangibles, reliability, responsiveness, assurance, empathy), and 100 points
that the respondent splits over the five dimensions by importance.

The scores (Zeithaml, Parasuraman & Berry 1990, *Delivering Quality Service*, Free Press,
appendix "SERVQUAL and its applications", the scoring steps):

* item gap of respondent ``r`` on item ``j``: ``g_rj = P_rj - E_rj`` (negative: below
  expectation); the item's score is its mean over the respondents;
* dimension gap of respondent ``r``: ``G_rd`` = the mean of his item gaps in dimension ``d``;
  the dimension's score is the mean of ``G_rd`` over the respondents;
* unweighted SERVQUAL score of respondent ``r``: the mean of his five ``G_rd``; the overall
  score is its mean over the respondents;
* weighted: ``W_rd = (w_rd / 100) G_rd`` with ``w_rd`` his importance points for ``d``
  (summing to 100); the weighted dimension score is the mean of ``W_rd``, the weighted overall
  score the mean of ``Σ_d W_rd`` (so the weighted dimension scores add up to it when every
  respondent has all of them).

Each score is a mean over respondents with Student's t interval, ``x̄ ± t_{n-1} s / sqrt(n)``
(:func:`kehu.analytics.satisfaction.t_mean`), treating respondents as independent.

Missing answers, the rule: an item gap exists only where both E and P of the item were answered;
a respondent's dimension gap is the mean of the item gaps he has in it, if he has at least
``min_item_share`` of the dimension's items (default one half, rounded up), and is missing
otherwise; his overall score (unweighted or weighted) needs all the dimension gaps, and the
weighted ones his importance points as well. Importance points are given for all dimensions or
for none (a respondent who skipped the question drops out of the weighted scores only). Each
score's ``n`` counts the respondents it is made of and ``n_missing`` the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kehu.analytics.satisfaction import (
    DEFAULT_MIN_N,
    MeanScore,
    check_level,
    check_min_n,
    check_scale,
    check_scale_bounds,
    t_mean,
)
from kehu.errors import EmptyInputError, InputError

FloatArray = NDArray[np.float64]

#: Importance points of a respondent may miss 100 by rounding (33.3 + 33.3 + 33.4) up to this.
IMPORTANCE_TOLERANCE = 0.5


@dataclass(frozen=True)
class ServqualGaps:
    """SERVQUAL gaps (perception minus expectation), each a :class:`MeanScore` with its t
    interval, ``n`` and ``small_sample``.

    ``items`` and ``dimensions`` map names to scores in the order given; ``overall`` is the
    unweighted SERVQUAL score; ``weighted_dimensions`` and ``weighted_overall`` the scores
    weighted by importance points (``None`` when no importance points were given)."""

    items: Mapping[str, MeanScore]
    dimensions: Mapping[str, MeanScore]
    overall: MeanScore
    weighted_dimensions: Mapping[str, MeanScore] | None
    weighted_overall: MeanScore | None
    level: float
    n_respondents: int


def servqual_gaps(
    expectations: ArrayLike,
    perceptions: ArrayLike,
    dimensions: Sequence[str],
    *,
    items: Sequence[str] | None = None,
    importance: ArrayLike | None = None,
    scale: tuple[int, int] = (1, 7),
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    min_item_share: float = 0.5,
) -> ServqualGaps:
    """SERVQUAL gaps per item, per dimension and overall (module docstring: formulas, the rule
    for missing answers).

    ``expectations`` and ``perceptions``: one row per respondent, one column per item, answers
    on ``scale`` (NaN/None unanswered). ``dimensions``: the dimension of each item (its order
    of first appearance is the order of the results and of ``importance``'s columns).
    ``items``: the items' names (default ``item 1``, ``item 2``, ...). ``importance``: one row
    per respondent, one column per dimension, points 0-100 summing to 100 (a row all NaN: not
    answered).

    Raises an :class:`InputError` naming the item or dimension, the row and the value for an
    answer off the scale, importance points outside 0-100 or not summing to 100, or shapes
    that do not match; an :class:`EmptyInputError` when no respondent has a single gap."""
    level, min_n = check_level(level), check_min_n(min_n)
    if not 0.0 < min_item_share <= 1.0:
        raise InputError("min_item_share must be above 0 and at most 1", value=min_item_share)
    low, high = check_scale_bounds(scale)
    expected = _matrix(expectations, "expectations")
    perceived = _matrix(perceptions, "perceptions")
    if expected.shape != perceived.shape:
        raise InputError(
            f"expectations have shape {expected.shape} but perceptions {perceived.shape}: "
            "one row per respondent and one column per item in both",
            column="perceptions",
        )
    n_respondents, n_items = expected.shape
    labels = [str(d) for d in dimensions]
    if len(labels) != n_items:
        raise InputError(
            f"{len(labels)} dimension labels for {n_items} items: give one per item",
            column="dimensions",
        )
    names = [f"item {j + 1}" for j in range(n_items)] if items is None else [str(i) for i in items]
    if len(names) != n_items:
        raise InputError(f"{len(names)} item names for {n_items} items", column="items")
    for j, name in enumerate(names):
        check_scale(expected[:, j], low, high, f"{name} expectation", whole=True)
        check_scale(perceived[:, j], low, high, f"{name} perception", whole=True)

    gaps = perceived - expected  # NaN where either answer is missing
    if n_respondents == 0 or np.isnan(gaps).all():
        raise EmptyInputError(
            "no respondent answered both the expectation and the perception of any item",
            column="perceptions",
        )
    item_scores = {name: _mean(gaps[:, j], level, min_n) for j, name in enumerate(names)}

    dimension_names = list(dict.fromkeys(labels))
    dimension_gaps = np.column_stack(
        [
            _dimension_gap(
                gaps[:, [j for j, label in enumerate(labels) if label == d]], min_item_share
            )
            for d in dimension_names
        ]
    )
    dimension_scores = {
        d: _mean(dimension_gaps[:, k], level, min_n) for k, d in enumerate(dimension_names)
    }
    complete = ~np.isnan(dimension_gaps).any(axis=1)
    overall_rows = np.where(complete, dimension_gaps.mean(axis=1), np.nan)
    overall = _mean(overall_rows, level, min_n)

    weighted_dimensions: Mapping[str, MeanScore] | None = None
    weighted_overall: MeanScore | None = None
    if importance is not None:
        shares = _importance_shares(importance, dimension_names, n_respondents)
        weighted = shares * dimension_gaps
        weighted_dimensions = MappingProxyType(
            {d: _mean(weighted[:, k], level, min_n) for k, d in enumerate(dimension_names)}
        )
        weighted_rows = np.where(complete, weighted.sum(axis=1), np.nan)  # NaN if no weights
        weighted_overall = _mean(weighted_rows, level, min_n)

    return ServqualGaps(
        items=MappingProxyType(item_scores),
        dimensions=MappingProxyType(dimension_scores),
        overall=overall,
        weighted_dimensions=weighted_dimensions,
        weighted_overall=weighted_overall,
        level=level,
        n_respondents=n_respondents,
    )


def _matrix(values: ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("every answer must be a number (or empty)", column=name) from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InputError(
            f"{name} must have one row per respondent and one column per item, got shape "
            f"{array.shape}",
            column=name,
        )
    return array


def _dimension_gap(item_gaps: FloatArray, min_item_share: float) -> FloatArray:
    """Each respondent's mean item gap in one dimension, NaN with too few items answered."""
    answered = ~np.isnan(item_gaps)
    counts = answered.sum(axis=1)
    needed = max(1, math.ceil(min_item_share * item_gaps.shape[1]))
    sums = np.where(answered, item_gaps, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return np.where(counts >= needed, means, np.nan)


def _importance_shares(
    importance: ArrayLike, dimension_names: list[str], n_respondents: int
) -> FloatArray:
    """Importance points as shares (points / 100); a row all NaN stays NaN."""
    points = _matrix(importance, "importance")
    if points.shape != (n_respondents, len(dimension_names)):
        raise InputError(
            f"importance has shape {points.shape}; it needs one row per respondent "
            f"({n_respondents}) and one column per dimension ({len(dimension_names)}: "
            f"{', '.join(dimension_names)})",
            column="importance",
        )
    for k, d in enumerate(dimension_names):
        check_scale(points[:, k], 0, 100, f"{d} importance", whole=False)
    missing = np.isnan(points)
    partial = missing.any(axis=1) & ~missing.all(axis=1)
    if partial.any():
        row = int(np.flatnonzero(partial)[0])
        k = int(np.flatnonzero(missing[row])[0])
        raise InputError(
            "importance points must be given for every dimension or for none",
            row=row + 1,
            column=f"{dimension_names[k]} importance",
        )
    totals = points.sum(axis=1)
    wrong = ~missing.all(axis=1) & (np.abs(totals - 100.0) > IMPORTANCE_TOLERANCE)
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise InputError(
            "a respondent's importance points must add up to 100",
            row=row + 1,
            column="importance",
            value=float(totals[row]),
        )
    return points / 100.0


def _mean(values: FloatArray, level: float, min_n: int) -> MeanScore:
    """:func:`t_mean` of the non-missing values; none at all gives NaN with ``n = 0``."""
    present = values[~np.isnan(values)]
    n_missing = int(values.size - present.size)
    if present.size == 0:
        nan = float("nan")
        return MeanScore(nan, nan, nan, level, 0, True, nan, nan, n_missing)
    return t_mean(present, level=level, min_n=min_n, n_missing=n_missing)
