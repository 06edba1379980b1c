"""The competitor customer-value map and customer delivered value (issue 10, item 7), pure
numpy/scipy.

**Customer value analysis** (Gale 1994, *Managing Customer Value*, Free Press, ch. 2-4; the
steps of Kotler, *Marketing Management*, 10th (Millennium) ed., Prentice Hall 2000, ch. 2,
"customer value analysis"): respondents weigh the attributes that make up quality, rate us and
each named competitor on every attribute, and (optionally) rate each brand's price on the
attributes that make up price satisfaction. With ``x̄_bj`` the mean rating of brand ``b`` on
attribute ``j`` (each with its Student t interval and ``n``) and ``w_j`` the importance weights:

* weights (eq. 1): each respondent's importance points are divided by his total, so his shares
  sum to 1; ``w_j`` is the mean share over the respondents who answered (the weights sum to
  1, not 100: multiply by 100 for Gale's "total = 100" tables). Fixed weights (a management
  panel, Gale's other source) are normalised the same way;
* attribute performance ratio (eq. 2): ``r_bcj = x̄_bj / x̄_cj`` (us against one competitor)
  and ``r_bj = x̄_bj / x̄_-bj`` against the *average competitor*, ``x̄_-bj`` the unweighted mean
  of the other brands' mean ratings (every competitor counts equally; no market shares);
* importance-weighted performance score of a brand (eq. 3): ``S_b = Σ_j w_j x̄_bj``, on the
  rating scale;
* Gale's **market-perceived quality ratio** (eq. 4): ``Q_b = Σ_j w_j r_bj``, the weighted sum
  of the attribute ratios (Gale's "weight × ratio" column summed, divided by 100), against the
  average competitor, or ``Σ_j w_j r_bcj`` against one competitor; above 1 the customers rate
  us better. The alternative offered beside it is the **ratio of the weighted scores** (eq.
  5), ``S_b / S_c`` or ``S_b / mean_{c≠b} S_c``; the two differ when the attribute ratios
  differ from one another (a strength on one attribute and a weakness on another);
* **relative price** (eq. 6): our price over a competitor's (or over the mean of the other
  brands' prices), ``P_b / mean_{c≠b} P_c``, from prices given in money; or, from the
  price-satisfaction profile (higher rating = more satisfied with the price), Gale's
  ``1 / Σ_k v_k (y_bk / y_-bk)``, the inverse of the weighted price-satisfaction ratio (Gale's
  "market-perceived price profile");
* **relative value** (eq. 7): ``V_b = Q_b / P_b`` (quality per unit of price, above 1 better
  value than the average competitor at the fair-value slope 1).

**The value map** plots every brand at (relative quality ``Q_b``, relative price ``P_b``), each
against the average of its own competitors. The **fair-value line** (Gale's, where customers
get equal value) passes through the average competitor at (1, 1) with slope ``m`` (eq. 8):
``P_fair(Q) = 1 + m (Q - 1)``; ``m = 1`` by default (a price premium in proportion to the
quality premium), and the caller may give the slope the market shows. A brand's **value
advantage** is ``P_fair(Q_b) - P_b``: positive (below and to the right of the line) is *better
value*, negative *worse value*, within ``fair_value_tolerance`` *fair value*.

**Intervals** for the weighted scores, the ratios (eq. 3-5), the relative price from ratings and
the relative value: the percentile bootstrap over respondents (Efron & Tibshirani 1993, *An
Introduction to the Bootstrap*, Chapman & Hall, §13.3), seeded: each resample draws ``n``
respondents with replacement, keeping all their answers together (weights, every brand's
ratings, price ratings), and recomputes the weights and means from them, so the correlation of
one respondent's ratings of us and of a competitor is kept. Prices given in money have no
interval. The per-attribute means have Student's t interval
(:func:`kehu.analytics.satisfaction.t_mean`).

**Customer delivered value** (顾客让渡价值; Kotler, *Marketing Management*, 10th ed. 2000,
ch. 2, fig. "Determinants of customer delivered value"): per respondent and brand, total customer
value ``TCV = Σ_k a_k v_k`` over product, service, personnel and image value ratings and total
customer cost ``TCC = Σ_k b_k c_k`` over money, time, energy and psychic cost ratings, the
weights ``a`` and ``b`` each normalised to sum to 1 (equal by default), so both totals are on
the rating scale (eq. 9); delivered value as the difference ``TCV - TCC`` (eq. 10, scale points)
and the ratio ``TCV / TCC`` (eq. 11, what Kotler calls the value-price ratio, used to compare
offers). Each is a mean
over the respondents with Student's t interval. All eight ratings share one scale (1-7 by
default): a difference of a 1-10 value and a 1-7 cost means nothing, so there is one ``scale``
and every rating off it is refused. The ratio needs a scale that starts above 0.

The equation numbers are this module's: Gale and Kotler give their steps as tables and prose,
not as numbered equations.

Missing answers (NaN/None): a mean rating uses the respondents who rated that brand on that
attribute (its ``n``); a respondent who skipped the importance question (a row all NaN) is left
out of the weights; a delivered value needs all eight ratings of the brand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
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
from kehu.errors import InputError, ModelError

FloatArray = NDArray[np.float64]

#: The four parts of total customer value and of total customer cost (Kotler 2000, ch. 2).
VALUE_COMPONENTS = ("product", "service", "personnel", "image")
COST_COMPONENTS = ("money", "time", "energy", "psychic")

#: Resamples drawn at a time, to bound the memory of the resample-count matrix.
_CHUNK = 256

#: A bootstrap whose resamples leave some brand unrated on some attribute more often than this
#: share of the time says nothing honest: too few respondents rated it.
_MAX_DROPPED_SHARE = 0.05


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap percentile interval at ``level`` (NaN ends without a
    bootstrap, or for a statistic with no sampling uncertainty such as given prices); ``n`` the
    respondents it is made of."""

    estimate: float
    low: float
    high: float
    level: float
    n: int
    method: str = "percentile bootstrap over respondents"


@dataclass(frozen=True)
class AttributeComparison:
    """One attribute of a profile: its weight (a share, the weights sum to 1), each brand's mean
    rating (a :class:`MeanScore` with its t interval and ``n``), our ratio to each competitor
    (eq. 2, ``ratio_to``) and to the average competitor (``ratio_to_competitors``)."""

    attribute: str
    weight: float
    means: Mapping[str, MeanScore]
    ratio_to: Mapping[str, float]
    ratio_to_competitors: float


@dataclass(frozen=True)
class Profile:
    """A quality (or price-satisfaction) profile of us against the competitors.

    ``attributes`` per attribute (:class:`AttributeComparison`); ``scores`` each brand's
    importance-weighted score ``S_b`` (eq. 3); ``ratio_to`` Gale's weighted ratio of us to each
    competitor and ``ratio_to_competitors`` to the average competitor (eq. 4, Gale's
    market-perceived quality ratio); ``score_ratio_to`` and ``score_ratio_to_competitors`` the
    ratios of the weighted scores (eq. 5). Every ratio is ours over theirs."""

    attributes: Mapping[str, AttributeComparison]
    weights: Mapping[str, float]
    scores: Mapping[str, Estimate]
    ratio_to: Mapping[str, Estimate]
    ratio_to_competitors: Estimate
    score_ratio_to: Mapping[str, Estimate]
    score_ratio_to_competitors: Estimate


@dataclass(frozen=True)
class ValueMapPoint:
    """One brand on the value map, against the average of its competitors: relative quality
    (eq. 4), relative price (eq. 6), relative value (eq. 7), the fair price at its quality
    (eq. 8), its value advantage ``fair_price - relative_price.estimate`` and its ``position``,
    ``"better value"``, ``"worse value"`` or ``"fair value"``."""

    brand: str
    relative_quality: Estimate
    relative_price: Estimate
    relative_value: Estimate
    fair_price: float
    value_advantage: float
    position: str


@dataclass(frozen=True)
class CustomerValueAnalysis:
    """Gale's customer value analysis of ``us`` against ``competitors`` (module docstring).

    ``quality`` is the quality profile; ``price`` the price-satisfaction profile when price
    ratings were given (else ``None``) and ``prices`` the prices when given in money; ``points``
    the value map, one :class:`ValueMapPoint` per brand (us first), each against the average of
    its competitors; ``relative_price_to`` and ``relative_value_to`` our relative price (eq. 6)
    and value (eq. 7, with Gale's ratio to that competitor) against each competitor (empty
    without a price); ``fair_value_slope`` the slope ``m`` of the fair-value line through
    (1, 1). ``n_bootstrap_used`` resamples made the intervals (0: none); ``small_sample`` is
    true when fewer than ``min_n`` respondents gave importance weights or rated some brand on
    some attribute."""

    us: str
    competitors: tuple[str, ...]
    quality: Profile
    price: Profile | None
    prices: Mapping[str, float] | None
    points: Mapping[str, ValueMapPoint]
    relative_price_to: Mapping[str, Estimate]
    relative_value_to: Mapping[str, Estimate]
    fair_value_slope: float
    level: float
    n_respondents: int
    n_bootstrap_used: int
    seed: int
    small_sample: bool


@dataclass(frozen=True)
class DeliveredValue:
    """Customer delivered value of one brand (module docstring, eq. 9-11): the respondents'
    total customer value, total customer cost, their difference and their ratio, each a
    :class:`MeanScore` (Student t interval, ``n``, ``small_sample``); ``ratio_of_means`` is
    ``mean TCV / mean TCC`` (not the mean of the ratios); the normalised weights and the
    scale. ``advantage_of_us`` (a competitor's, when ``us`` was named): the mean of our delivered
    value minus this brand's (``TCV - TCC``, eq. 10) over the respondents who rated both, with
    the paired t interval; ``None`` for us and without ``us``."""

    brand: str
    total_value: MeanScore
    total_cost: MeanScore
    difference: MeanScore
    ratio: MeanScore
    ratio_of_means: float
    value_weights: Mapping[str, float]
    cost_weights: Mapping[str, float]
    scale: tuple[int, int]
    advantage_of_us: MeanScore | None = None


# --- customer value analysis ----------------------------------------------------------------


@dataclass(frozen=True)
class _ProfileData:
    """A profile's answers: weights source, ratings as (n, brands * attributes) with NaN."""

    attributes: tuple[str, ...]
    importance: FloatArray  # (n, J) shares summing to 1 per answering row, or (1, J) fixed
    fixed_weights: bool
    ratings: FloatArray  # (n, K * J), brand-major


def customer_value_analysis(
    importance: ArrayLike,
    ratings: Mapping[str, ArrayLike],
    *,
    attributes: Sequence[str],
    us: str,
    prices: Mapping[str, float] | None = None,
    price_importance: ArrayLike | None = None,
    price_ratings: Mapping[str, ArrayLike] | None = None,
    price_attributes: Sequence[str] | None = None,
    scale: tuple[int, int] = (1, 10),
    fair_value_slope: float = 1.0,
    fair_value_tolerance: float = 0.0,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> CustomerValueAnalysis:
    """Gale's customer value analysis and value map (module docstring: formulas, intervals).

    ``importance``: one row per respondent and one column per attribute of importance points
    (e.g. 100 split over the attributes; any non-negative points, each row is normalised; a row
    all NaN: not answered), or one fixed weight per attribute (a 1-d array). ``ratings``: brand
    -> one row per respondent (the same respondents, in the same order, as ``importance``), one
    column per attribute, ratings on ``scale`` (default 1-10, Gale's). ``us`` names our brand;
    the others are the competitors. Price: ``prices`` (brand -> price in money, every brand),
    or ``price_importance``/``price_ratings``/``price_attributes`` for a price-satisfaction
    profile of the same form (higher = more satisfied with the price); without either the
    value map is not drawn (``points`` is empty).

    Raises an :class:`InputError` naming the brand, attribute, row or value for an unknown or
    missing brand, a shape that does not match, weights that are not positive, ratings off the
    scale, or fewer than 2 ratings of a brand on an attribute; a :class:`ModelError` when the
    bootstrap's resamples too often leave a brand unrated on an attribute."""
    level, min_n = check_level(level), check_min_n(min_n)
    low, high = check_scale_bounds(scale)
    if low <= 0:
        raise InputError(
            "the ratios need a rating scale that starts above 0 (e.g. 1-10)", value=scale
        )
    slope = _finite(fair_value_slope, "fair_value_slope")
    tolerance = _finite(fair_value_tolerance, "fair_value_tolerance")
    if tolerance < 0:
        raise InputError("fair_value_tolerance must be at least 0", value=fair_value_tolerance)
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer):
        raise InputError("n_bootstrap must be a whole number", value=n_bootstrap)
    if n_bootstrap < 0 or 0 < n_bootstrap < 100:
        raise InputError("n_bootstrap must be 0 (no intervals) or at least 100", value=n_bootstrap)
    brands = _brands(ratings, us, "ratings")
    quality_data = _profile_data(importance, ratings, brands, attributes, (low, high), "")
    n = quality_data.ratings.shape[0]
    price_data: _ProfileData | None = None
    given_prices: Mapping[str, float] | None = None
    if prices is not None and price_ratings is not None:
        raise InputError(
            "give the price either in money (prices) or as price ratings, not both",
            column="prices",
        )
    if prices is not None:
        given_prices = _prices(prices, brands)
    elif price_ratings is not None:
        if price_importance is None or price_attributes is None:
            raise InputError(
                "price ratings need price_importance and price_attributes as well",
                column="price_importance",
            )
        _brands_match(price_ratings, brands)
        price_data = _profile_data(
            price_importance, price_ratings, brands, price_attributes, (low, high), "price "
        )
        if price_data.ratings.shape[0] != n:
            raise InputError(
                f"price ratings have {price_data.ratings.shape[0]} respondents but ratings {n}:"
                " the same respondents in the same order",
                column="price_ratings",
            )

    k = len(brands)
    quality_point = _profile_statistics(quality_data, k, np.ones((1, n)))
    price_point = (
        None if price_data is None else _profile_statistics(price_data, k, np.ones((1, n)))
    )
    price_money = None if given_prices is None else np.array([given_prices[b] for b in brands])

    draws: dict[str, FloatArray] = {}
    n_used = 0
    if n_bootstrap:
        draws, n_used = _bootstrap(quality_data, price_data, k, n, n_bootstrap, seed)

    def estimate(name: str, index: int, value: float) -> Estimate:
        if not n_used:
            return Estimate(value, float("nan"), float("nan"), level, n)
        sample = draws[name][:, index]
        ends = np.quantile(sample, [0.5 - level / 2.0, 0.5 + level / 2.0])
        return Estimate(value, float(ends[0]), float(ends[1]), level, n)

    quality = _profile(quality_data, brands, quality_point, estimate, "q", level, min_n)
    price = (
        None
        if price_data is None or price_point is None
        else _profile(price_data, brands, price_point, estimate, "p", level, min_n)
    )

    nan = float("nan")

    def interval(value: float, sample: FloatArray | None) -> Estimate:
        """``value`` with the percentile interval of its resamples (NaN ends without)."""
        if sample is None or not n_used:
            return Estimate(value, nan, nan, level, n)
        ends = np.quantile(sample, [0.5 - level / 2.0, 0.5 + level / 2.0])
        return Estimate(value, float(ends[0]), float(ends[1]), level, n)

    def resampled(name: str) -> FloatArray | None:
        return draws.get(name) if n_used else None

    points: dict[str, ValueMapPoint] = {}
    price_to: dict[str, Estimate] = {}
    value_to: dict[str, Estimate] = {}
    if price_money is not None or price_point is not None:
        q_against = quality_point["against_others"][0]
        q_us = quality_point["ratio_us"][0]
        q_against_draws, q_us_draws = resampled("q_against_others"), resampled("q_ratio_us")
        p_against_draws, p_us_draws = resampled("p_against_others"), resampled("p_ratio_us")
        for b, brand in enumerate(brands):
            relative_quality = estimate("q_against_others", b, float(q_against[b]))
            if price_money is not None:
                price_ratio = float(price_money[b] / np.delete(price_money, b).mean())
                relative_price = Estimate(price_ratio, nan, nan, level, n, "prices given")
                value_draws = (
                    None if q_against_draws is None else q_against_draws[:, b] / price_ratio
                )
            else:
                assert price_point is not None
                price_ratio = float(1.0 / price_point["against_others"][0][b])
                relative_price = estimate("p_relative_price", b, price_ratio)
                value_draws = (
                    None
                    if q_against_draws is None or p_against_draws is None
                    else q_against_draws[:, b] * p_against_draws[:, b]
                )
            relative_value = interval(float(q_against[b]) / price_ratio, value_draws)
            fair_price = 1.0 + slope * (relative_quality.estimate - 1.0)
            advantage = fair_price - relative_price.estimate
            position = (
                "fair value"
                if abs(advantage) <= tolerance
                else ("better value" if advantage > 0 else "worse value")
            )
            points[brand] = ValueMapPoint(
                brand,
                relative_quality,
                relative_price,
                relative_value,
                float(fair_price),
                float(advantage),
                position,
            )
            if b == 0:
                continue
            # us against this one competitor (eq. 6 and 7 with c in place of the average)
            if price_money is not None:
                ratio = float(price_money[0] / price_money[b])
                price_to[brand] = Estimate(ratio, nan, nan, level, n, "prices given")
                value_draws = None if q_us_draws is None else q_us_draws[:, b] / ratio
            else:
                assert price_point is not None
                ratio = float(1.0 / price_point["ratio_us"][0][b])
                price_to[brand] = interval(
                    ratio, None if p_us_draws is None else 1.0 / p_us_draws[:, b]
                )
                value_draws = (
                    None
                    if q_us_draws is None or p_us_draws is None
                    else q_us_draws[:, b] * p_us_draws[:, b]
                )
            value_to[brand] = interval(float(q_us[b]) / ratio, value_draws)

    small = _small_sample(quality_data, min_n) or (
        price_data is not None and _small_sample(price_data, min_n)
    )
    return CustomerValueAnalysis(
        us=us,
        competitors=tuple(brands[1:]),
        quality=quality,
        price=price,
        prices=None if given_prices is None else MappingProxyType(dict(given_prices)),
        points=MappingProxyType(points),
        relative_price_to=MappingProxyType(price_to),
        relative_value_to=MappingProxyType(value_to),
        fair_value_slope=slope,
        level=level,
        n_respondents=n,
        n_bootstrap_used=n_used,
        seed=seed,
        small_sample=small,
    )


def _finite(value: float, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number", value=value) from None
    if not np.isfinite(number):
        raise InputError(f"{name} must be a finite number", value=value)
    return number


def _brands(ratings: Mapping[str, ArrayLike], us: str, name: str) -> list[str]:
    """Our brand first, then the competitors in the order given."""
    if not isinstance(ratings, Mapping):
        raise InputError("ratings must map each brand's name to its ratings", column=name)
    for brand in ratings:
        if not isinstance(brand, str):
            raise InputError("a brand's name must be text", column=name, value=brand)
    names = list(ratings)
    if us not in names:
        raise InputError(
            f"our brand {us!r} is not among the rated brands ({', '.join(names) or 'none'})",
            column=name,
            value=us,
        )
    if len(names) < 2:
        raise InputError("at least one competitor must be rated besides us", column=name)
    return [us, *(brand for brand in names if brand != us)]


def _brands_match(given: Mapping[str, object], brands: list[str]) -> None:
    if not isinstance(given, Mapping):
        raise InputError("price ratings must map each brand's name to its ratings")
    names = [str(brand) for brand in given]
    for brand in names:
        if brand not in brands:
            raise InputError(
                f"unknown brand: not among the rated brands ({', '.join(brands)})",
                column="price_ratings",
                value=brand,
            )
    for brand in brands:
        if brand not in names:
            raise InputError("the brand has no price ratings", column="price_ratings", value=brand)


def _prices(prices: Mapping[str, float], brands: list[str]) -> dict[str, float]:
    if not isinstance(prices, Mapping):
        raise InputError("prices must map each brand's name to its price", column="prices")
    for brand in prices:
        if str(brand) not in brands:
            raise InputError(
                f"unknown brand: not among the rated brands ({', '.join(brands)})",
                column="prices",
                value=brand,
            )
    checked = {}
    for brand in brands:
        if brand not in prices:
            raise InputError("the brand has no price", column="prices", value=brand)
        price = prices[brand]
        try:
            number = float(price)
        except (TypeError, ValueError):
            raise InputError(
                f"the price of {brand!r} must be a number", column="prices", value=price
            ) from None
        if not np.isfinite(number) or number <= 0:
            raise InputError(
                f"the price of {brand!r} must be above 0", column="prices", value=price
            )
        checked[brand] = number
    return checked


def _matrix(values: ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("every answer must be a number (or empty)", column=name) from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InputError(
            f"{name} must have one row per respondent and one column per attribute, got shape "
            f"{array.shape}",
            column=name,
        )
    return array


def _profile_data(
    importance: ArrayLike,
    ratings: Mapping[str, ArrayLike],
    brands: list[str],
    attributes: Sequence[str],
    scale: tuple[int, int],
    prefix: str,
) -> _ProfileData:
    """Check one profile's answers (module docstring) and put them in the shapes used."""
    names = tuple(str(a) for a in attributes)
    if not names:
        raise InputError("at least one attribute is needed", column=f"{prefix}attributes")
    if len(set(names)) != len(names):
        raise InputError("attribute names must be distinct", column=f"{prefix}attributes")
    j = len(names)
    blocks = []
    n: int | None = None
    for brand in brands:
        block = _matrix(ratings[brand], f"{prefix}ratings of {brand}")
        if block.shape[1] != j:
            raise InputError(
                f"{block.shape[1]} rating columns for {j} attributes ({', '.join(names)}): a "
                "missing or extra attribute",
                column=f"{prefix}ratings of {brand}",
            )
        if n is None:
            n = block.shape[0]
        elif block.shape[0] != n:
            raise InputError(
                f"{block.shape[0]} respondents but {brands[0]!r} has {n}: every brand needs "
                "one row per respondent, in the same order",
                column=f"{prefix}ratings of {brand}",
            )
        for column, attribute in enumerate(names):
            check_scale(block[:, column], scale[0], scale[1], f"{brand}: {attribute}", whole=True)
            rated = int(np.count_nonzero(~np.isnan(block[:, column])))
            if rated < 2:
                raise InputError(
                    f"too few respondents: {rated} rated {brand!r} on {attribute!r}, at least 2 "
                    "are needed for a mean and its interval",
                    column=f"{brand}: {attribute}",
                )
        blocks.append(block)
    assert n is not None
    shares, fixed = _importance(importance, names, n, prefix)
    return _ProfileData(names, shares, fixed, np.hstack(blocks))


def _importance(
    importance: ArrayLike, names: tuple[str, ...], n: int, prefix: str
) -> tuple[FloatArray, bool]:
    """Importance as shares summing to 1 per row: (n, J) from respondents, NaN rows left
    unanswered, or (1, J) fixed weights."""
    column = f"{prefix}importance"
    try:
        points = np.asarray(importance, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("importance points must be numbers", column=column) from None
    j = len(names)
    if points.ndim == 1:
        if points.shape != (j,):
            raise InputError(
                f"{points.size} fixed weights for {j} attributes ({', '.join(names)})",
                column=column,
            )
        for k, attribute in enumerate(names):
            if not np.isfinite(points[k]) or points[k] <= 0:
                raise InputError(
                    "a weight must be above 0 (leave an attribute nobody values out)",
                    column=f"{attribute} {column}",
                    value=float(points[k]),
                )
        return (points / points.sum())[None, :], True
    if points.ndim != 2 or points.shape != (n, j):
        raise InputError(
            f"importance has shape {points.shape}; it needs one row per respondent ({n}) and "
            f"one column per attribute ({j}: {', '.join(names)})",
            column=column,
        )
    for k, attribute in enumerate(names):
        check_scale(points[:, k], 0, np.inf, f"{attribute} {column}", whole=False)
    missing = np.isnan(points)
    partial = missing.any(axis=1) & ~missing.all(axis=1)
    if partial.any():
        row = int(np.flatnonzero(partial)[0])
        k = int(np.flatnonzero(missing[row])[0])
        raise InputError(
            "importance points must be given for every attribute or for none",
            row=row + 1,
            column=f"{names[k]} {column}",
        )
    answered = ~missing.all(axis=1)
    totals = np.where(answered, np.nansum(points, axis=1), np.nan)
    zero = answered & (totals <= 0)
    if zero.any():
        row = int(np.flatnonzero(zero)[0])
        raise InputError(
            "a respondent's importance points are all 0: they say nothing",
            row=row + 1,
            column=column,
        )
    if int(answered.sum()) < 2:
        raise InputError(
            f"too few respondents: {int(answered.sum())} gave importance points, at least 2 are "
            "needed",
            column=column,
        )
    shares = points / totals[:, None]
    mean_shares = np.nanmean(shares, axis=0)
    for k, attribute in enumerate(names):
        if mean_shares[k] <= 0:
            raise InputError(
                "no respondent gave the attribute any importance: its weight is 0 (leave it out)",
                column=f"{attribute} {column}",
            )
    return shares, False


def _profile_statistics(data: _ProfileData, k: int, counts: FloatArray) -> dict[str, FloatArray]:
    """The statistics of eq. 1-5 for each row of ``counts`` (how often each respondent is in a
    resample; a row of ones is the sample itself), each with a leading axis of resamples."""
    j = len(data.attributes)
    if data.fixed_weights:
        weights = np.broadcast_to(data.importance, (counts.shape[0], j))
    else:
        answered = ~np.isnan(data.importance[:, 0])
        weights = (counts @ np.where(answered[:, None], data.importance, 0.0)) / (
            counts @ answered.astype(np.float64)
        )[:, None]
    rated = ~np.isnan(data.ratings)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (counts @ np.where(rated, data.ratings, 0.0)) / (counts @ rated.astype(np.float64))
    means = means.reshape(counts.shape[0], k, j)  # (draws, brands, attributes)
    scores = np.einsum("dj,dbj->db", weights, means)
    # r_bcj = x̄_bj / x̄_cj for us (b = 0) against each brand c, and each brand against the others
    ratio_us = means[:, :1, :] / means  # (draws, brands, J); column 0 is us against us
    others = (means.sum(axis=1, keepdims=True) - means) / (k - 1)
    ratio_others = means / others
    return {
        "weights": weights,
        "means": means,
        "scores": scores,
        "ratio_us": np.einsum("dj,dbj->db", weights, ratio_us),
        "against_others": np.einsum("dj,dbj->db", weights, ratio_others),
        "score_ratio_us": scores[:, :1] / scores,
        "score_against_others": scores / ((scores.sum(axis=1, keepdims=True) - scores) / (k - 1)),
        "attribute_ratio_us": ratio_us,
        "attribute_against_others": ratio_others,
    }


def _bootstrap(
    quality: _ProfileData,
    price: _ProfileData | None,
    k: int,
    n: int,
    n_bootstrap: int,
    seed: int,
) -> tuple[dict[str, FloatArray], int]:
    """The resampled statistics (respondents drawn with replacement, all their answers
    together) and how many resamples were kept (those with every brand rated on every
    attribute)."""
    rng = np.random.default_rng(seed)
    kept: dict[str, list[FloatArray]] = {}
    drawn = 0
    while drawn < n_bootstrap:
        size = min(_CHUNK, n_bootstrap - drawn)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(np.float64)
        drawn += size
        q = _profile_statistics(quality, k, counts)
        stats = {
            "q_scores": q["scores"],
            "q_ratio_us": q["ratio_us"],
            "q_against_others": q["against_others"],
            "q_score_ratio_us": q["score_ratio_us"],
            "q_score_against_others": q["score_against_others"],
        }
        if price is not None:
            p = _profile_statistics(price, k, counts)
            stats.update(
                {
                    "p_scores": p["scores"],
                    "p_ratio_us": p["ratio_us"],
                    "p_against_others": p["against_others"],
                    "p_score_ratio_us": p["score_ratio_us"],
                    "p_score_against_others": p["score_against_others"],
                    "p_relative_price": 1.0 / p["against_others"],
                }
            )
        finite = np.all(
            [np.isfinite(values).reshape(size, -1).all(axis=1) for values in stats.values()],
            axis=0,
        )
        for name, values in stats.items():
            kept.setdefault(name, []).append(values[finite])
    result = {name: np.concatenate(parts) for name, parts in kept.items()}
    n_used = int(result["q_scores"].shape[0])
    if n_used < (1.0 - _MAX_DROPPED_SHARE) * n_bootstrap:
        raise ModelError(
            f"only {n_used} of {n_bootstrap} bootstrap resamples of the {n} respondents had "
            "every brand rated on every attribute",
            advice="collect more ratings of the brands few respondents know, or leave them out",
        )
    return result, n_used


def _profile(
    data: _ProfileData,
    brands: list[str],
    point: dict[str, FloatArray],
    estimate: Callable[[str, int, float], Estimate],
    key: str,
    level: float,
    min_n: int,
) -> Profile:
    """The :class:`Profile` of the sample's statistics with their bootstrap intervals."""
    j = len(data.attributes)
    k = len(brands)
    attributes = {}
    for column, attribute in enumerate(data.attributes):
        means = {}
        for b, brand in enumerate(brands):
            values = data.ratings[:, b * j + column]
            present = values[~np.isnan(values)]
            means[brand] = t_mean(
                present, level=level, min_n=min_n, n_missing=int(values.size - present.size)
            )
        attributes[attribute] = AttributeComparison(
            attribute=attribute,
            weight=float(point["weights"][0, column]),
            means=MappingProxyType(means),
            ratio_to=MappingProxyType(
                {brands[b]: float(point["attribute_ratio_us"][0, b, column]) for b in range(1, k)}
            ),
            ratio_to_competitors=float(point["attribute_against_others"][0, 0, column]),
        )
    weights = {a: float(point["weights"][0, c]) for c, a in enumerate(data.attributes)}
    return Profile(
        attributes=MappingProxyType(attributes),
        weights=MappingProxyType(weights),
        scores=MappingProxyType(
            {
                brand: estimate(f"{key}_scores", b, float(point["scores"][0, b]))
                for b, brand in enumerate(brands)
            }
        ),
        ratio_to=MappingProxyType(
            {
                brands[b]: estimate(f"{key}_ratio_us", b, float(point["ratio_us"][0, b]))
                for b in range(1, k)
            }
        ),
        ratio_to_competitors=estimate(
            f"{key}_against_others", 0, float(point["against_others"][0, 0])
        ),
        score_ratio_to=MappingProxyType(
            {
                brands[b]: estimate(
                    f"{key}_score_ratio_us", b, float(point["score_ratio_us"][0, b])
                )
                for b in range(1, k)
            }
        ),
        score_ratio_to_competitors=estimate(
            f"{key}_score_against_others", 0, float(point["score_against_others"][0, 0])
        ),
    )


def _small_sample(data: _ProfileData, min_n: int) -> bool:
    rated = int(np.count_nonzero(~np.isnan(data.ratings), axis=0).min())
    if data.fixed_weights:
        return rated < min_n
    weighted = int(np.count_nonzero(~np.isnan(data.importance[:, 0])))
    return min(rated, weighted) < min_n


# --- customer delivered value ---------------------------------------------------------------


def delivered_value(
    values: Mapping[str, ArrayLike],
    costs: Mapping[str, ArrayLike],
    *,
    value_weights: ArrayLike | None = None,
    cost_weights: ArrayLike | None = None,
    scale: tuple[int, int] = (1, 7),
    us: str | None = None,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> Mapping[str, DeliveredValue]:
    """Customer delivered value per brand (module docstring, eq. 9-11).

    ``values``: brand -> one row per respondent and four columns, the product, service,
    personnel and image value ratings (:data:`VALUE_COMPONENTS`); ``costs``: brand -> the same
    respondents' money, time, energy and psychic cost ratings (:data:`COST_COMPONENTS`), a
    higher rating a higher cost. All on ``scale`` (default 1-7). ``value_weights`` and
    ``cost_weights``: four positive weights each (default equal), normalised to sum to 1. The
    result maps each brand, in the order given, to its :class:`DeliveredValue`; with ``us``
    (our brand's name) each competitor's has ``advantage_of_us``, the paired difference of the
    delivered values (the brands' rows must then be the same respondents in the same order).

    Raises an :class:`InputError` naming the brand, component, row or value for a brand with
    values but no costs (or the reverse), a shape that does not match, a rating off the scale,
    a weight not above 0, a scale that starts at 0 or below, or fewer than 2 respondents with
    all eight ratings of a brand."""
    level, min_n = check_level(level), check_min_n(min_n)
    low, high = check_scale_bounds(scale)
    if low <= 0:
        raise InputError(
            "the value-cost ratio needs a rating scale that starts above 0 (e.g. 1-7)",
            value=scale,
        )
    if not isinstance(values, Mapping) or not isinstance(costs, Mapping):
        raise InputError("values and costs must map each brand's name to its ratings")
    if not values:
        raise InputError("no brand's values were given", column="values")
    for brand in costs:
        if brand not in values:
            raise InputError(
                "unknown brand: it has costs but no values", column="costs", value=brand
            )
    a = _component_weights(value_weights, VALUE_COMPONENTS, "value_weights")
    b = _component_weights(cost_weights, COST_COMPONENTS, "cost_weights")
    if us is not None and us not in values:
        raise InputError(
            f"our brand {us!r} is not among the brands with values ({', '.join(map(str, values))})",
            column="values",
            value=us,
        )
    results = {}
    delivered: dict[str, FloatArray] = {}  # each respondent's TCV - TCC, NaN if incomplete
    for brand in values:
        if brand not in costs:
            raise InputError("the brand has values but no costs", column="costs", value=brand)
        value_rows = _components(values[brand], VALUE_COMPONENTS, str(brand), (low, high))
        cost_rows = _components(costs[brand], COST_COMPONENTS, str(brand), (low, high))
        if value_rows.shape[0] != cost_rows.shape[0]:
            raise InputError(
                f"{value_rows.shape[0]} rows of values but {cost_rows.shape[0]} of costs: the "
                "same respondents in the same order",
                column=f"costs of {brand}",
            )
        complete = ~(np.isnan(value_rows).any(axis=1) | np.isnan(cost_rows).any(axis=1))
        n_complete = int(complete.sum())
        if n_complete < 2:
            raise InputError(
                f"too few respondents: {n_complete} gave all eight ratings of {brand!r}, at "
                "least 2 are needed",
                column=f"values of {brand}",
            )
        n_missing = int(complete.size - n_complete)
        total_value = value_rows[complete] @ a
        total_cost = cost_rows[complete] @ b
        delivered[brand] = np.full(complete.size, np.nan)
        delivered[brand][complete] = total_value - total_cost

        def mean(rows: FloatArray, missing: int = n_missing) -> MeanScore:
            return t_mean(rows, level=level, min_n=min_n, n_missing=missing)

        results[brand] = DeliveredValue(
            brand=str(brand),
            total_value=mean(total_value),
            total_cost=mean(total_cost),
            difference=mean(total_value - total_cost),
            ratio=mean(total_value / total_cost),
            ratio_of_means=float(total_value.mean() / total_cost.mean()),
            value_weights=MappingProxyType(dict(zip(VALUE_COMPONENTS, a.tolist(), strict=True))),
            cost_weights=MappingProxyType(dict(zip(COST_COMPONENTS, b.tolist(), strict=True))),
            scale=(low, high),
        )
    if us is not None:
        ours = delivered[us]
        for brand, result in results.items():
            if brand == us:
                continue
            if delivered[brand].size != ours.size:
                raise InputError(
                    f"{delivered[brand].size} respondents but {us!r} has {ours.size}: comparing "
                    "with us needs the same respondents in the same order",
                    column=f"values of {brand}",
                )
            paired = ours - delivered[brand]
            both = paired[~np.isnan(paired)]
            if both.size < 2:
                raise InputError(
                    f"too few respondents: {both.size} rated both {us!r} and {brand!r} fully, "
                    "at least 2 are needed to compare them",
                    column=f"values of {brand}",
                )
            results[brand] = replace(
                result,
                advantage_of_us=t_mean(
                    both, level=level, min_n=min_n, n_missing=int(paired.size - both.size)
                ),
            )
    return MappingProxyType(results)


def _component_weights(
    weights: ArrayLike | None, components: tuple[str, ...], name: str
) -> FloatArray:
    if weights is None:
        return np.full(len(components), 1.0 / len(components))
    try:
        array = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("weights must be numbers", column=name) from None
    if array.shape != (len(components),):
        raise InputError(
            f"{array.size} weights for the {len(components)} components ({', '.join(components)})",
            column=name,
        )
    for k, component in enumerate(components):
        if not np.isfinite(array[k]) or array[k] <= 0:
            raise InputError(
                f"the weight of {component!r} must be above 0", column=name, value=float(array[k])
            )
    return array / array.sum()


def _components(
    ratings: ArrayLike, components: tuple[str, ...], brand: str, scale: tuple[int, int]
) -> FloatArray:
    kind = "values" if components == VALUE_COMPONENTS else "costs"
    rows = _matrix(ratings, f"{kind} of {brand}")
    if rows.shape[1] != len(components):
        raise InputError(
            f"{rows.shape[1]} columns for the {len(components)} {kind} "
            f"({', '.join(components)}): a missing or extra component",
            column=f"{kind} of {brand}",
        )
    for k, component in enumerate(components):
        check_scale(rows[:, k], scale[0], scale[1], f"{brand}: {component} {kind[:-1]}", whole=True)
    return rows
