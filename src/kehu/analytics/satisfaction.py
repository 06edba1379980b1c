"""Satisfaction scores with their uncertainty: NPS, CSAT and CES, never a bare number.

Every function takes the answers to one question as a plain array (one answer per respondent;
``NaN`` or ``None`` is a question left unanswered) and returns a small frozen result with the
estimate, the ends of its interval at ``level``, ``n`` (the answers the estimate is made of),
``n_missing`` (the unanswered ones, left out) and ``small_sample`` (``n < min_n``, default 30: the
reader should not trust the score much, and the interval says how little). Grouping (by segment,
tier, team, channel or month) is :func:`by_group` over a key array of the same length.

Formulas and their sources:

* **NPS** (Reichheld 2003, "The one number you need to grow", *Harvard Business Review*
  81(12)): on the 0-10 likelihood-to-recommend scale, promoters answer 9-10, passives 7-8,
  detractors 0-6; ``NPS = 100 (x_pro - x_det) / n`` points, -100..100. Interval: the adjusted
  Wald interval of Rocks (2016), "Interval estimation for the 'net promoter score'", *The
  American Statistician* 70(4), 365-372 (arXiv:1601.07235), whose coverage study found the
  adjusted Wald variants among the best intervals for the NPS. The variant used: add 3
  pseudo-observations, 0.75 detractors, 1.5 passives and 0.75 promoters, to the counts (the
  default of Rocks's R package ``NPS``, ``nps_test(test = "adjusted.wald")``, and the variant
  Lewis & Sauro evaluated on real NPS data in 2021), then take the Wald interval of the
  adjusted score, ``Ñ ± z sqrt(V(p̃)/ñ)`` with ``ñ = n + 3``, ``p̃`` the adjusted shares and
  ``V(p) = p_pro + p_det - (p_pro - p_det)^2`` the variance of one answer scored -1/0/+1 (a
  trinomial). The estimate shown is the plain NPS; the interval's centre is the
  adjusted one (as Agresti & Coull 1998 do for a proportion), so it is pulled towards 0 in
  small samples, and it is clipped to [-100, 100].
* **Change of NPS between two independent periods** (the same adjusted Wald for a difference,
  as Rocks's package ``nps_test`` does for two samples): each period's counts get their
  pseudo-observations; the difference of the adjusted scores has variance
  ``V(p̃₁)/ñ₁ + V(p̃₂)/ñ₂``; the interval is the difference ± z times its root, and the
  two-sided p-value for no change is ``2 (1 - Φ(|Δ̃| / se))``. It assumes the two periods'
  respondents are different people drawn independently (a panel that answers twice breaks it:
  the two scores are then correlated) and that each period's answers are a simple random
  sample of its customers (no weighting, no clustering by account).
* **CSAT** as the top-2-box share: the share of answers in the top ``top_boxes`` categories of
  the scale (4-5 of 1-5 by default). Interval: Wilson's (1927) score interval, "Probable
  inference, the law of succession, and statistical inference", *JASA* 22(158), 209-212: the
  ``p`` with ``|p̂ - p| = z sqrt(p (1 - p) / n)``, i.e. centre ``(p̂ + z²/2n) / (1 + z²/n)``
  and half-width ``z / (1 + z²/n) · sqrt(p̂(1 - p̂)/n + z²/4n²)`` (Brown, Cai & DasGupta 2001,
  "Interval estimation for a binomial proportion", *Statistical Science* 16(2), §4.1.1). It
  stays within [0, 1] and is not degenerate at 0 or n satisfied answers, unlike the Wald
  interval.
* **CES**: the mean of the 1-7 effort answers (CES 2.0 wording: 7 = strongly agree that the
  company made it easy) with Student's t interval ``x̄ ± t_{n-1} s / sqrt(n)`` (``s`` with
  ``n - 1`` in the denominator). It assumes independent answers; with 1-7 answers the mean is
  close to normal by about 30 answers, which is what ``small_sample`` warns about.

``z`` is the standard normal quantile at ``(1 + level) / 2``. All intervals are two-sided.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from kehu.errors import EmptyInputError, InputError, InvalidRowsError, RowProblem

FloatArray = NDArray[np.float64]

#: Samples below this many answers are flagged ``small_sample`` unless the caller says otherwise.
DEFAULT_MIN_N = 30

#: Rocks's (2016) adjusted Wald: 3 pseudo-observations over (detractors, passives, promoters),
#: the default of his R package NPS (nps_test, test = "adjusted.wald").
NPS_PSEUDO_OBSERVATIONS = (0.75, 1.5, 0.75)

#: The places of an InvalidRowsError message, per problem.
_SHOWN_ROWS = 5


@dataclass(frozen=True)
class NPSScore:
    """A Net Promoter Score in points (-100..100) with its adjusted Wald interval (Rocks 2016).

    ``estimate`` is the plain score ``100 (promoters - detractors) / n``; ``low`` and ``high``
    the interval's ends at ``level``; ``standard_error`` that of the adjusted score, in points;
    ``n`` the answers, ``n_missing`` the unanswered (left out); ``small_sample`` is
    ``n < min_n``."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool
    n_promoters: int
    n_passives: int
    n_detractors: int
    standard_error: float
    n_missing: int = 0
    method: str = "adjusted Wald (Rocks 2016)"


@dataclass(frozen=True)
class NPSChange:
    """The change of NPS from an earlier to a later independent period, in points.

    ``estimate`` is ``later.estimate - earlier.estimate`` (plain scores); ``low``/``high`` the
    adjusted Wald interval of the difference (Rocks 2016) at ``level``, clipped to
    [-200, 200]; ``p_value`` the two-sided p-value for no change; ``n`` the answers of the
    smaller period and ``small_sample`` true when either period has fewer than ``min_n``."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool
    p_value: float
    standard_error: float
    earlier: NPSScore
    later: NPSScore
    method: str = "adjusted Wald difference (Rocks 2016)"


@dataclass(frozen=True)
class ProportionScore:
    """A share (0..1) with its Wilson score interval, e.g. CSAT as the top-2-box share.

    ``count`` of the ``n`` answers are in the top boxes; ``estimate = count / n``."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool
    count: int
    n_missing: int = 0
    method: str = "Wilson score (Wilson 1927)"


@dataclass(frozen=True)
class MeanScore:
    """A mean with its Student t interval, e.g. CES or a SERVQUAL gap.

    ``standard_deviation`` has ``n - 1`` in the denominator; ``standard_error`` is
    ``standard_deviation / sqrt(n)``. With one answer there is no interval: ``low``, ``high``,
    the standard deviation and error are NaN."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool
    standard_deviation: float
    standard_error: float
    n_missing: int = 0
    method: str = "Student t"


# --- input checks ---------------------------------------------------------------------------


def check_level(level: float) -> float:
    """``level`` as a float strictly between 0 and 1, else an :class:`InputError`."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise InputError("level must be a number between 0 and 1", value=level) from None
    if not 0.0 < value < 1.0:
        raise InputError("level must be strictly between 0 and 1 (e.g. 0.95)", value=level)
    return value


def check_min_n(min_n: int) -> int:
    """``min_n`` as a whole number >= 1, else an :class:`InputError`."""
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 1:
        raise InputError("min_n must be a whole number of at least 1", value=min_n)
    return int(min_n)


def answers_array(answers: ArrayLike, name: str) -> FloatArray:
    """The answers as a 1-d float array, unanswered (``None``) as NaN; text that is not a
    number is an :class:`InputError` naming ``name`` and the 1-based row."""
    try:
        array = np.asarray(answers, dtype=np.float64)
    except (TypeError, ValueError):
        raw = np.asarray(answers, dtype=object).ravel()
        for index, value in enumerate(raw):
            try:
                float(value if value is not None else np.nan)
            except (TypeError, ValueError):
                raise InputError(
                    "an answer must be a number", row=index + 1, column=name, value=value
                ) from None
        raise InputError("the answers must be a flat list of numbers", column=name) from None
    array = np.atleast_1d(array)
    if array.ndim != 1:
        raise InputError(
            f"the answers must be one-dimensional, got shape {array.shape}", column=name
        )
    return array


def check_scale(values: FloatArray, low: float, high: float, name: str, *, whole: bool) -> None:
    """Raise an :class:`InvalidRowsError` (an :class:`InputError`) listing the answered values
    outside ``low..high`` (or not whole numbers when ``whole``), with their 1-based rows."""
    answered = ~np.isnan(values)
    outside = answered & ((values < low) | (values > high) | ~np.isfinite(values))
    problems = []
    if outside.any():
        problems.append(_problem(values, outside, name, f"outside the scale {low:g}..{high:g}"))
    if whole:
        fractional = answered & ~outside & (values != np.round(values))
        if fractional.any():
            problems.append(_problem(values, fractional, name, "not a whole scale point"))
    if problems:
        raise InvalidRowsError(problems)


def _problem(values: FloatArray, bad: NDArray[np.bool_], name: str, reason: str) -> RowProblem:
    rows = np.flatnonzero(bad)
    places = tuple((int(i) + 1, _plain(values[i])) for i in rows[:_SHOWN_ROWS])
    return RowProblem(column=name, reason=reason, places=places, n_rows=len(rows), unit="row")


def _plain(value: float) -> float | int:
    return int(value) if np.isfinite(value) and value == int(value) else float(value)


def _answered(values: FloatArray, name: str) -> tuple[FloatArray, int]:
    """The answered values and the number left unanswered; no answer at all is an
    :class:`EmptyInputError`."""
    missing = np.isnan(values)
    answered = values[~missing]
    if answered.size == 0:
        what = "no answers at all" if values.size == 0 else "every answer is missing"
        raise EmptyInputError(f"{what}: there is nothing to estimate", column=name)
    return answered, int(missing.sum())


def normal_quantile(level: float) -> float:
    """``z`` at ``(1 + level) / 2``: the two-sided normal critical value."""
    return float(stats.norm.ppf(0.5 + level / 2.0))


# --- NPS ------------------------------------------------------------------------------------


def _trinomial_variance(detractors: float, passives: float, promoters: float) -> float:
    """``V(p) = p_pro + p_det - (p_pro - p_det)^2``: the variance of one answer scored -1/0/+1."""
    n = detractors + passives + promoters
    p_det, p_pro = detractors / n, promoters / n
    return p_pro + p_det - (p_pro - p_det) ** 2


def _adjusted(counts: tuple[int, int, int]) -> tuple[float, float, float]:
    """Adjusted score (on -1..1), its variance per answer and the adjusted n."""
    det, pas, pro = (c + t for c, t in zip(counts, NPS_PSEUDO_OBSERVATIONS, strict=True))
    n = det + pas + pro
    return (pro - det) / n, _trinomial_variance(det, pas, pro), n


def nps_from_counts(
    detractors: int,
    passives: int,
    promoters: int,
    *,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    n_missing: int = 0,
) -> NPSScore:
    """NPS and its adjusted Wald interval from the three counts (Rocks 2016; module docstring).

    Raises an :class:`InputError` for a negative or fractional count and an
    :class:`EmptyInputError` when all three are zero."""
    level, min_n = check_level(level), check_min_n(min_n)
    counts = []
    for name, count in (
        ("detractors", detractors),
        ("passives", passives),
        ("promoters", promoters),
    ):
        if isinstance(count, bool) or not float(count).is_integer() or count < 0:
            raise InputError("a count must be a whole number >= 0", column=name, value=count)
        counts.append(int(count))
    det, pas, pro = counts
    n = det + pas + pro
    if n == 0:
        raise EmptyInputError("no answers at all: there is nothing to estimate", column="nps")
    centre, variance, n_adjusted = _adjusted((det, pas, pro))
    standard_error = float(np.sqrt(variance / n_adjusted))
    half = normal_quantile(level) * standard_error
    return NPSScore(
        estimate=100.0 * (pro - det) / n,
        low=100.0 * max(-1.0, centre - half),
        high=100.0 * min(1.0, centre + half),
        level=level,
        n=n,
        small_sample=n < min_n,
        n_promoters=pro,
        n_passives=pas,
        n_detractors=det,
        standard_error=100.0 * standard_error,
        n_missing=n_missing,
    )


def nps(
    answers: ArrayLike,
    *,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    name: str = "likelihood to recommend",
) -> NPSScore:
    """NPS in points of 0-10 likelihood-to-recommend answers, with Rocks's (2016) adjusted
    Wald interval at ``level`` (module docstring).

    Unanswered (NaN/None) answers are left out and counted in ``n_missing``. An answer outside
    0..10 or not a whole number is an :class:`InputError` naming ``name``, the row and value;
    no answer at all an :class:`EmptyInputError`; ``level`` outside (0, 1) an
    :class:`InputError`."""
    values = answers_array(answers, name)
    check_scale(values, 0, 10, name, whole=True)
    answered, n_missing = _answered(values, name)
    return nps_from_counts(
        int((answered <= 6).sum()),
        int(((answered >= 7) & (answered <= 8)).sum()),
        int((answered >= 9).sum()),
        level=level,
        min_n=min_n,
        n_missing=n_missing,
    )


def nps_change(
    earlier: ArrayLike | NPSScore,
    later: ArrayLike | NPSScore,
    *,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    name: str = "likelihood to recommend",
) -> NPSChange:
    """The change of NPS from ``earlier`` to ``later`` (two independent periods' 0-10 answers,
    or their :class:`NPSScore`), with the adjusted Wald interval of the difference and the
    two-sided p-value for no change (Rocks 2016; module docstring, which says what it
    assumes). The scores of given :class:`NPSScore` are recomputed at this ``level``."""
    level, min_n = check_level(level), check_min_n(min_n)
    before, after = (
        _rescore(period, level, min_n)
        if isinstance(period, NPSScore)
        else nps(period, level=level, min_n=min_n, name=name)
        for period in (earlier, later)
    )
    centre_before, variance_before, n_before = _adjusted(_counts(before))
    centre_after, variance_after, n_after = _adjusted(_counts(after))
    difference = centre_after - centre_before
    standard_error = float(np.sqrt(variance_before / n_before + variance_after / n_after))
    half = normal_quantile(level) * standard_error
    if standard_error > 0:
        p_value = float(2.0 * stats.norm.sf(abs(difference) / standard_error))
    else:  # both periods all promoters (or all detractors) even after the pseudo-observations
        p_value = 1.0 if difference == 0 else 0.0
    return NPSChange(
        estimate=after.estimate - before.estimate,
        low=100.0 * max(-2.0, difference - half),
        high=100.0 * min(2.0, difference + half),
        level=level,
        n=min(before.n, after.n),
        small_sample=before.small_sample or after.small_sample,
        p_value=p_value,
        standard_error=100.0 * standard_error,
        earlier=before,
        later=after,
    )


def _counts(score: NPSScore) -> tuple[int, int, int]:
    return score.n_detractors, score.n_passives, score.n_promoters


def _rescore(score: NPSScore, level: float, min_n: int) -> NPSScore:
    return nps_from_counts(*_counts(score), level=level, min_n=min_n, n_missing=score.n_missing)


# --- CSAT -----------------------------------------------------------------------------------


def wilson_interval(count: int, n: int, level: float) -> tuple[float, float]:
    """Wilson's (1927) score interval for ``count`` successes in ``n`` (module docstring)."""
    z = normal_quantile(level)
    share = count / n
    z2_n = z * z / n
    centre = (share + z2_n / 2.0) / (1.0 + z2_n)
    half = z / (1.0 + z2_n) * np.sqrt(share * (1.0 - share) / n + z2_n / (4.0 * n))
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def csat(
    answers: ArrayLike,
    *,
    scale: tuple[int, int] = (1, 5),
    top_boxes: int = 2,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    name: str = "satisfaction",
) -> ProportionScore:
    """CSAT: the share (0..1) of answers in the top ``top_boxes`` points of ``scale`` (4-5 of
    1-5 by default), with Wilson's score interval at ``level`` (module docstring).

    Unanswered answers are left out (``n_missing``); an answer off the scale or not a whole
    point is an :class:`InputError` naming ``name``, the row and value."""
    level, min_n = check_level(level), check_min_n(min_n)
    low_point, high_point = check_scale_bounds(scale)
    if isinstance(top_boxes, bool) or not 1 <= top_boxes <= high_point - low_point:
        raise InputError(
            f"top_boxes must be between 1 and {high_point - low_point} on a "
            f"{low_point}-{high_point} scale",
            value=top_boxes,
        )
    values = answers_array(answers, name)
    check_scale(values, low_point, high_point, name, whole=True)
    answered, n_missing = _answered(values, name)
    n = int(answered.size)
    count = int((answered > high_point - top_boxes).sum())
    low, high = wilson_interval(count, n, level)
    return ProportionScore(
        estimate=count / n,
        low=low,
        high=high,
        level=level,
        n=n,
        small_sample=n < min_n,
        count=count,
        n_missing=n_missing,
    )


def check_scale_bounds(scale: tuple[int, int]) -> tuple[int, int]:
    try:
        low, high = (int(point) for point in scale)
    except (TypeError, ValueError):
        raise InputError("scale must be two whole numbers (lowest, highest)", value=scale) from None
    if low >= high:
        raise InputError("the scale's lowest point must be below its highest", value=scale)
    return low, high


# --- CES and means ----------------------------------------------------------------------------


def t_mean(values: FloatArray, *, level: float, min_n: int, n_missing: int = 0) -> MeanScore:
    """The mean of ``values`` (all answered) with Student's t interval at ``level``."""
    n = int(values.size)
    mean = float(values.mean())
    if n < 2:
        nan = float("nan")
        return MeanScore(mean, nan, nan, level, n, n < min_n, nan, nan, n_missing)
    deviation = float(values.std(ddof=1))
    standard_error = deviation / np.sqrt(n)
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * standard_error
    return MeanScore(
        estimate=mean,
        low=float(mean - half),
        high=float(mean + half),
        level=level,
        n=n,
        small_sample=n < min_n,
        standard_deviation=deviation,
        standard_error=float(standard_error),
        n_missing=n_missing,
    )


def mean_score(
    answers: ArrayLike,
    *,
    scale: tuple[float, float] | None = None,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    name: str = "answer",
) -> MeanScore:
    """The mean of the answered values with Student's t interval at ``level``; values outside
    ``scale`` (when given) are an :class:`InputError` naming ``name``, the row and value."""
    level, min_n = check_level(level), check_min_n(min_n)
    values = answers_array(answers, name)
    if scale is not None:
        check_scale(values, scale[0], scale[1], name, whole=False)
    else:
        check_scale(values, -np.inf, np.inf, name, whole=False)
    answered, n_missing = _answered(values, name)
    return t_mean(answered, level=level, min_n=min_n, n_missing=n_missing)


def ces(
    answers: ArrayLike,
    *,
    scale: tuple[int, int] = (1, 7),
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    name: str = "customer effort",
) -> MeanScore:
    """CES: the mean effort answer (1-7 by default) with Student's t interval at ``level``.

    Unanswered answers are left out (``n_missing``); an answer off the scale or not a whole
    point is an :class:`InputError` naming ``name``, the row and value."""
    level, min_n = check_level(level), check_min_n(min_n)
    low_point, high_point = check_scale_bounds(scale)
    values = answers_array(answers, name)
    check_scale(values, low_point, high_point, name, whole=True)
    answered, n_missing = _answered(values, name)
    return t_mean(answered, level=level, min_n=min_n, n_missing=n_missing)


# --- grouping -------------------------------------------------------------------------------

R = TypeVar("R")


def by_group(
    statistic: Callable[..., R], groups: ArrayLike, *columns: ArrayLike, **options: Any
) -> dict[Hashable, R]:
    """``statistic`` (e.g. :func:`nps`, :func:`csat`, :func:`ces`) of the rows of each group.

    ``groups`` holds one key per row (a segment, tier, team, channel, month); each of
    ``columns`` one value (or one row of a 2-d array) per row, in the same order; ``options``
    go to ``statistic`` unchanged (``level=``, ``min_n=``, ...). The result maps each key to its
    result, keys in sorted order (in order of first appearance when they cannot be sorted). A
    group whose rows left the question unanswered has no estimate and is absent; a missing key
    (``None`` or NaN) is a group of its own only if the caller gives it a name."""
    keys = np.asarray(groups, dtype=object)
    if keys.ndim != 1:
        raise InputError(f"groups must be one-dimensional, got shape {keys.shape}", column="groups")
    arrays = [np.asarray(column, dtype=object) for column in columns]
    for position, array in enumerate(arrays):
        if array.shape[:1] != keys.shape:
            raise InputError(
                f"column {position + 1} has {array.shape[0] if array.ndim else 1} rows but "
                f"groups has {keys.size}",
                column="groups",
            )
    rows_of: dict[Hashable, list[int]] = {}
    for row, key in enumerate(keys.tolist()):
        if not _is_missing_key(key):
            rows_of.setdefault(key, []).append(row)
    order = list(rows_of)
    with contextlib.suppress(TypeError):  # mixed key types: keep the order of appearance
        order = sorted(order)  # type: ignore[type-var]
    results: dict[Hashable, R] = {}
    for key in order:
        rows = np.asarray(rows_of[key], dtype=np.intp)
        try:
            results[key] = statistic(*(array[rows] for array in arrays), **options)
        except EmptyInputError:
            continue
    return results


def _is_missing_key(key: object) -> bool:
    return key is None or (isinstance(key, float) and np.isnan(key))
