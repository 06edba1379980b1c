"""Customer value analysis, the value map and customer delivered value, never against kehu itself.

Where each pinned number comes from:

* the published table: Gale (1994, *Managing Customer Value*, Free Press), market-perceived price
  profile of luxury cars, Acura against the average competitor, as reproduced in Kai Yang (2005),
  *Design for Six Sigma for Service*, McGraw-Hill, Table 5.4 (p. 90): weights 60/20/10/10 (purchase
  price, trade-in allowance, resale price, finance rates), price-satisfaction scores 9/6/9/7
  (Acura) and 7/6/8/7 (average competitor), ratios printed 1.29, 1.0, 1.13, 1.00, weight × ratio
  77.4 + 20 + 11.3 + 10.0 = 118.7, relative price 1/1.187 = 84.2 (per 100). The book rounds the
  ratios to two decimals before weighting; unrounded, 60·9/7 + 20 + 10·9/8 + 10 = 118.39.
* the worked example (:data:`IMPORTANCE`, :data:`RATINGS`, :data:`PRICES`): every number written
  below was worked out by hand from the formulas of Gale (1994), as fractions in the comments;
* intervals: the means' t intervals from statsmodels' ``DescrStatsW.tconfint_mean`` on the raw
  ratings; the bootstrap interval against ``scipy.stats.bootstrap`` (percentile, resampling
  respondents) of the ratio written out in this file;
* delivered value: per-respondent totals worked out by hand (in the comments) from the
  definitions of Kotler (*Marketing Management*, 10th ed., 2000, ch. 2), their t intervals from
  statsmodels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import DescrStatsW

from kehu.analytics.value_map import (
    COST_COMPONENTS,
    VALUE_COMPONENTS,
    customer_value_analysis,
    delivered_value,
)
from kehu.errors import InputError, InvalidRowsError, ModelError

ATTRIBUTES = ["quality", "service"]
# Four respondents split 100 points: weights (0.5 + 0.8 + 0.6 + 0.3) / 4 = 0.55 and 0.45.
IMPORTANCE = np.array([[50, 50], [80, 20], [60, 40], [30, 70]], dtype=float)
RATINGS = {
    "us": np.array([[8, 6], [9, 7], [7, 6], [8, 5]], dtype=float),  # means 8, 6
    "A": np.array([[6, 8], [7, 8], [6, 7], [5, 9]], dtype=float),  # means 6, 8
    "B": np.array([[5, 4], [5, 5], [6, 4], [4, 3]], dtype=float),  # means 5, 4
}
PRICES = {"us": 12.0, "A": 10.0, "B": 6.0}


def analysis(**options):
    options.setdefault("prices", PRICES)
    return customer_value_analysis(IMPORTANCE, RATINGS, attributes=ATTRIBUTES, us="us", **options)


def test_the_worked_example_by_hand():
    """Weights, scores and Gale's ratios of the four-respondent example, worked by hand."""
    result = analysis(n_bootstrap=0)
    quality = result.quality
    assert quality.weights == pytest.approx({"quality": 0.55, "service": 0.45}, abs=1e-12)
    # S_b = Σ w_j x̄_bj: 0.55·8 + 0.45·6 = 7.1; 0.55·6 + 0.45·8 = 6.9; 0.55·5 + 0.45·4 = 4.55
    assert {b: s.estimate for b, s in quality.scores.items()} == pytest.approx(
        {"us": 7.1, "A": 6.9, "B": 4.55}, abs=1e-12
    )
    # attribute ratios: 8/6 and 6/8 against A; 8/5 and 6/4 against B; 8/5.5 and 6/6 against the
    # average competitor ((6 + 5)/2, (8 + 4)/2)
    assert quality.attributes["quality"].ratio_to == pytest.approx({"A": 4 / 3, "B": 1.6})
    assert quality.attributes["service"].ratio_to == pytest.approx({"A": 0.75, "B": 1.5})
    assert quality.attributes["quality"].ratio_to_competitors == pytest.approx(16 / 11)
    assert quality.attributes["service"].ratio_to_competitors == pytest.approx(1.0)
    # Gale: Σ w_j r_j = 0.55·4/3 + 0.45·0.75 = 257/240; 0.55·1.6 + 0.45·1.5 = 1.555;
    # against the average competitor 0.55·16/11 + 0.45·1 = 1.25
    assert quality.ratio_to["A"].estimate == pytest.approx(257 / 240)
    assert quality.ratio_to["B"].estimate == pytest.approx(1.555)
    assert quality.ratio_to_competitors.estimate == pytest.approx(1.25)
    # the ratio of the weighted scores: 7.1/6.9, 7.1/4.55 and 7.1/((6.9 + 4.55)/2)
    assert quality.score_ratio_to["A"].estimate == pytest.approx(7.1 / 6.9)
    assert quality.score_ratio_to["B"].estimate == pytest.approx(7.1 / 4.55)
    assert quality.score_ratio_to_competitors.estimate == pytest.approx(7.1 / 5.725)
    assert result.competitors == ("A", "B")
    assert result.n_respondents == 4 and result.small_sample
    assert result.n_bootstrap_used == 0 and np.isnan(quality.ratio_to_competitors.low)


def test_the_value_map_by_hand():
    """Each brand against the average of its own competitors; fair-value line slope 1."""
    points = analysis(n_bootstrap=0).points
    assert list(points) == ["us", "A", "B"]
    # relative quality: us 1.25 (above); A against us and B: 0.55·6/6.5 + 0.45·8/5;
    # B against us and A: 0.55·5/7 + 0.45·4/7 = 0.65
    quality = {"us": 1.25, "A": 0.55 * 12 / 13 + 0.45 * 1.6, "B": 0.65}
    # relative price: 12/((10 + 6)/2), 10/((12 + 6)/2), 6/((12 + 10)/2)
    price = {"us": 1.5, "A": 10 / 9, "B": 6 / 11}
    for brand, point in points.items():
        assert point.relative_quality.estimate == pytest.approx(quality[brand])
        assert point.relative_price.estimate == pytest.approx(price[brand])
        assert point.relative_value.estimate == pytest.approx(quality[brand] / price[brand])
        assert point.fair_price == pytest.approx(quality[brand])  # 1 + 1·(Q - 1)
        assert point.value_advantage == pytest.approx(quality[brand] - price[brand])
    # us against each competitor: prices 12/10 and 12/6; value Gale's ratio over the price ratio
    result = analysis(n_bootstrap=0)
    assert {c: e.estimate for c, e in result.relative_price_to.items()} == pytest.approx(
        {"A": 1.2, "B": 2.0}
    )
    assert {c: e.estimate for c, e in result.relative_value_to.items()} == pytest.approx(
        {"A": 257 / 240 / 1.2, "B": 1.555 / 2.0}
    )
    # us: a 25 % quality premium at a 50 % price premium is worse value; A and B better value
    assert {b: p.position for b, p in points.items()} == {
        "us": "worse value",
        "A": "better value",
        "B": "better value",
    }


def test_a_steeper_fair_value_line_moves_us_onto_it():
    """With slope 2 the fair price of quality 1.25 is 1 + 2·0.25 = 1.5, our relative price."""
    point = analysis(n_bootstrap=0, fair_value_slope=2.0, fair_value_tolerance=1e-9).points["us"]
    assert point.fair_price == pytest.approx(1.5)
    assert point.position == "fair value"
    brand_b = analysis(n_bootstrap=0, fair_value_slope=2.0).points["B"]
    # B: fair price 1 + 2·(0.65 - 1) = 0.3 < 6/11: worse value on the steeper line
    assert brand_b.fair_price == pytest.approx(0.3)
    assert brand_b.position == "worse value"


def test_the_means_have_statsmodels_t_intervals():
    result = analysis(n_bootstrap=0, level=0.9)
    for column, attribute in enumerate(ATTRIBUTES):
        for brand, ratings in RATINGS.items():
            mean = result.quality.attributes[attribute].means[brand]
            low, high = DescrStatsW(ratings[:, column]).tconfint_mean(alpha=0.1)
            assert (mean.estimate, mean.low, mean.high) == pytest.approx(
                (ratings[:, column].mean(), low, high)
            )
            assert mean.n == 4


def test_gale_acura_price_profile():
    """Gale's (1994) luxury-car price profile (Yang 2005, Table 5.4): two respondents per brand
    whose price-satisfaction scores average to the published ones, fixed weights 60/20/10/10."""
    attributes = ["purchase price", "trade-in allowance", "resale price", "finance rates"]
    acura = np.array([[8, 5, 9, 6], [10, 7, 9, 8]], dtype=float)  # means 9, 6, 9, 7
    competitor = np.array([[7, 6, 7, 7], [7, 6, 9, 7]], dtype=float)  # means 7, 6, 8, 7
    ratings = {"Acura": acura, "average competitor": competitor}
    result = customer_value_analysis(
        [60, 20, 10, 10],
        ratings,
        attributes=attributes,
        us="Acura",
        price_importance=[60, 20, 10, 10],
        price_ratings=ratings,
        price_attributes=attributes,
        n_bootstrap=0,
    )
    price = result.price
    assert price is not None
    ratios = [price.attributes[a].ratio_to_competitors for a in attributes]
    printed = [math.floor(100 * r + 0.5) / 100 for r in ratios]  # the book rounds half up
    assert printed == [1.29, 1.0, 1.13, 1.0]
    # the book's arithmetic on its rounded ratios gives 118.7; unrounded it is 118.39
    assert sum(w * r for w, r in zip([60, 20, 10, 10], printed, strict=True)) == (
        pytest.approx(118.7)
    )
    assert 100 * price.ratio_to_competitors.estimate == pytest.approx(60 * 9 / 7 + 20 + 11.25 + 10)
    # relative price 1/1.1839 = 0.845, the published 84.2 (= 1/1.187) up to that rounding
    relative_price = result.points["Acura"].relative_price.estimate
    assert relative_price == pytest.approx(1 / 1.18392857)
    assert abs(relative_price - 0.842) < 0.005
    assert result.relative_price_to["average competitor"].estimate == pytest.approx(relative_price)


def _simulated(n: int, seed: int):
    rng = np.random.default_rng(seed)
    importance = rng.integers(0, 40, size=(n, 3)).astype(float) + 1.0
    # a lenient respondent rates every brand higher: the brands' ratings are correlated, so a
    # bootstrap that did not keep each respondent's answers together would be too wide
    leniency = rng.normal(0.0, 1.5, size=(n, 1))
    centres = {"us": [7, 5, 6], "A": [6, 6, 5], "B": [5, 4, 6]}
    ratings = {
        brand: np.clip((rng.normal(centre, 0.8, size=(n, 3)) + leniency).round(), 1, 10)
        for brand, centre in centres.items()
    }
    return importance, ratings


def test_the_bootstrap_interval_agrees_with_scipy():
    """Gale's ratio against the average competitor, written out here, bootstrapped by
    ``scipy.stats.bootstrap`` over respondents (percentile): the ends agree to Monte Carlo error
    (they differ by about 0.002 with 4000 resamples each; the tolerance is 0.006, a
    tenth of the interval's width)."""
    importance, ratings = _simulated(60, seed=3)
    shares = importance / importance.sum(axis=1, keepdims=True)

    def gale_ratio(rows):
        rows = rows.astype(int)
        weights = shares[rows].mean(axis=0)
        ours = ratings["us"][rows].mean(axis=0)
        average = (ratings["A"][rows].mean(axis=0) + ratings["B"][rows].mean(axis=0)) / 2
        return float(weights @ (ours / average))

    result = customer_value_analysis(
        importance, ratings, attributes=["a", "b", "c"], us="us", n_bootstrap=4000, seed=11
    )
    oracle = stats.bootstrap(
        (np.arange(60.0),),
        gale_ratio,
        vectorized=False,
        n_resamples=4000,
        method="percentile",
        confidence_level=0.95,
        rng=np.random.default_rng(5),
    )
    ratio = result.quality.ratio_to_competitors
    assert ratio.estimate == pytest.approx(gale_ratio(np.arange(60)))
    assert ratio.low == pytest.approx(oracle.confidence_interval.low, abs=0.006)
    assert ratio.high == pytest.approx(oracle.confidence_interval.high, abs=0.006)
    assert ratio.low < ratio.estimate < ratio.high
    assert result.n_bootstrap_used == 4000 and not result.small_sample


def test_the_bootstrap_is_seeded():
    importance, ratings = _simulated(30, seed=4)
    options = {"attributes": ["a", "b", "c"], "us": "us", "n_bootstrap": 300}
    first = customer_value_analysis(importance, ratings, seed=1, **options)
    again = customer_value_analysis(importance, ratings, seed=1, **options)
    other = customer_value_analysis(importance, ratings, seed=2, **options)
    assert first.quality.ratio_to["A"] == again.quality.ratio_to["A"]
    assert first.quality.ratio_to["A"].low != other.quality.ratio_to["A"].low
    assert not first.points  # no price given: no map


def test_relative_value_interval_with_prices_is_the_quality_interval_over_the_price():
    importance, ratings = _simulated(40, seed=6)
    result = customer_value_analysis(
        importance,
        ratings,
        attributes=["a", "b", "c"],
        us="us",
        prices={"us": 11, "A": 10, "B": 9},
        n_bootstrap=500,
    )
    point = result.points["us"]
    assert point.relative_price.estimate == pytest.approx(11 / 9.5)
    assert point.relative_value.low == pytest.approx(point.relative_quality.low * 9.5 / 11)
    assert point.relative_value.high == pytest.approx(point.relative_quality.high * 9.5 / 11)


def test_price_ratings_give_a_relative_price_with_its_interval():
    """Relative price from price-satisfaction ratings, Gale's 1 / Σ v_k (y_us,k / y_-us,k),
    written out here on the sample; its bootstrap interval brackets it and moves with the seed
    only."""
    importance, ratings = _simulated(50, seed=9)
    price_importance, price_ratings = _simulated(50, seed=10)
    result = customer_value_analysis(
        importance,
        ratings,
        attributes=["a", "b", "c"],
        us="us",
        price_importance=price_importance,
        price_ratings=price_ratings,
        price_attributes=["list price", "discounts", "running cost"],
        n_bootstrap=500,
    )
    shares = price_importance / price_importance.sum(axis=1, keepdims=True)
    average = (price_ratings["A"].mean(axis=0) + price_ratings["B"].mean(axis=0)) / 2
    expected = 1.0 / (shares.mean(axis=0) @ (price_ratings["us"].mean(axis=0) / average))
    point = result.points["us"]
    assert point.relative_price.estimate == pytest.approx(expected)
    assert point.relative_price.low < expected < point.relative_price.high
    assert point.relative_value.estimate == pytest.approx(
        result.quality.ratio_to_competitors.estimate / expected
    )
    assert point.relative_value.low < point.relative_value.estimate < point.relative_value.high
    to_a = result.relative_price_to["A"]
    assert to_a.estimate == pytest.approx(
        1.0
        / (
            shares.mean(axis=0)
            @ (price_ratings["us"].mean(axis=0) / price_ratings["A"].mean(axis=0))
        )
    )
    assert to_a.low < to_a.estimate < to_a.high


def test_missing_ratings_use_the_respondents_who_rated():
    ratings = {b: r.copy() for b, r in RATINGS.items()}
    ratings["B"][0, 0] = np.nan  # B's quality mean becomes (5 + 6 + 4)/3 = 5
    importance = IMPORTANCE.copy()
    importance[3] = np.nan  # weights from three respondents: (0.5 + 0.8 + 0.6)/3
    result = customer_value_analysis(
        importance, ratings, attributes=ATTRIBUTES, us="us", n_bootstrap=0
    )
    mean = result.quality.attributes["quality"].means["B"]
    assert (mean.estimate, mean.n, mean.n_missing) == (5.0, 3, 1)
    assert result.quality.weights["quality"] == pytest.approx(1.9 / 3)


# --- bad input ------------------------------------------------------------------------------


def test_bad_brands_are_named():
    with pytest.raises(InputError, match="'ours'"):
        customer_value_analysis(IMPORTANCE, RATINGS, attributes=ATTRIBUTES, us="ours")
    with pytest.raises(InputError, match="competitor"):
        customer_value_analysis(IMPORTANCE, {"us": RATINGS["us"]}, attributes=ATTRIBUTES, us="us")
    with pytest.raises(InputError, match="unknown brand") as error:
        analysis(prices={**PRICES, "C": 5.0})
    assert error.value.value == "C"
    with pytest.raises(InputError, match="no price") as error:
        analysis(prices={"us": 12.0, "A": 10.0})
    assert error.value.value == "B"
    with pytest.raises(InputError, match="above 0"):
        analysis(prices={**PRICES, "A": 0.0})


def test_a_missing_attribute_is_refused():
    ratings = {**RATINGS, "A": RATINGS["A"][:, :1]}
    with pytest.raises(InputError, match="missing or extra attribute") as error:
        customer_value_analysis(IMPORTANCE, ratings, attributes=ATTRIBUTES, us="us")
    assert error.value.column == "ratings of A"
    with pytest.raises(InputError, match="one column per attribute"):
        customer_value_analysis(IMPORTANCE[:, :1], RATINGS, attributes=ATTRIBUTES, us="us")


def test_weights_that_are_not_positive_are_refused():
    with pytest.raises(InputError, match="above 0") as error:
        customer_value_analysis([1.0, 0.0], RATINGS, attributes=ATTRIBUTES, us="us")
    assert error.value.column == "service importance"
    nobody = IMPORTANCE.copy()
    nobody[:, 1] = 0.0
    with pytest.raises(InputError, match="weight is 0") as error:
        customer_value_analysis(nobody, RATINGS, attributes=ATTRIBUTES, us="us")
    assert error.value.column == "service importance"
    negative = IMPORTANCE.copy()
    negative[2, 0] = -10
    with pytest.raises(InvalidRowsError, match="row 3"):
        customer_value_analysis(negative, RATINGS, attributes=ATTRIBUTES, us="us")
    zero_row = IMPORTANCE.copy()
    zero_row[1] = 0.0
    with pytest.raises(InputError, match="all 0") as error:
        customer_value_analysis(zero_row, RATINGS, attributes=ATTRIBUTES, us="us")
    assert error.value.row == 2


def test_ratings_off_the_scale_are_listed_by_row():
    ratings = {**RATINGS, "A": RATINGS["A"].copy()}
    ratings["A"][2, 1] = 11
    with pytest.raises(InvalidRowsError, match=r"outside the scale 1\.\.10") as error:
        customer_value_analysis(IMPORTANCE, ratings, attributes=ATTRIBUTES, us="us")
    assert (error.value.column, error.value.row, error.value.value) == ("A: service", 3, 11)
    with pytest.raises(InputError, match="starts above 0"):
        analysis(scale=(0, 10))


def test_too_few_respondents_are_refused():
    ratings = {**RATINGS, "B": RATINGS["B"].copy()}
    ratings["B"][1:, 0] = np.nan
    with pytest.raises(InputError, match="too few respondents") as error:
        customer_value_analysis(IMPORTANCE, ratings, attributes=ATTRIBUTES, us="us")
    assert error.value.column == "B: quality"


def test_a_bootstrap_that_cannot_resample_a_rarely_rated_brand_says_so():
    """B is rated by 2 of 30 respondents: a resample misses both about (28/30)^30 = 13 % of the
    time, too often for an honest interval."""
    importance, ratings = _simulated(30, seed=8)
    ratings["B"][2:] = np.nan
    with pytest.raises(ModelError, match="bootstrap"):
        customer_value_analysis(
            importance, ratings, attributes=["a", "b", "c"], us="us", n_bootstrap=500
        )


# --- customer delivered value ---------------------------------------------------------------

VALUES = np.array([[7, 6, 5, 4], [5, 5, 5, 5], [6, 4, 7, 3], [4, 3, 2, 1]], dtype=float)
COSTS = np.array([[4, 2, 2, 4], [3, 3, 3, 3], [5, 4, 6, 5], [6, 6, 6, 6]], dtype=float)
# value weights 4:3:2:1 -> 0.4, 0.3, 0.2, 0.1; cost weights equal.
# TCV: 2.8 + 1.8 + 1.0 + 0.4 = 6.0; 5.0; 2.4 + 1.2 + 1.4 + 0.3 = 5.3; 1.6 + 0.9 + 0.4 + 0.1 = 3.0
TOTAL_VALUE = np.array([6.0, 5.0, 5.3, 3.0])
TOTAL_COST = np.array([3.0, 3.0, 5.0, 6.0])  # the means of each row


def test_delivered_value_by_hand():
    result = delivered_value(
        {"us": VALUES, "rival": VALUES[::-1]},
        {"us": COSTS, "rival": COSTS[::-1]},
        value_weights=[4, 3, 2, 1],
    )
    ours = result["us"]
    assert list(result) == ["us", "rival"]
    assert ours.value_weights == pytest.approx(
        dict(zip(VALUE_COMPONENTS, [0.4, 0.3, 0.2, 0.1], strict=True))
    )
    assert ours.cost_weights == pytest.approx(dict.fromkeys(COST_COMPONENTS, 0.25))
    # means: TCV 19.3/4 = 4.825, TCC 17/4 = 4.25, TCV - TCC (3 + 2 + 0.3 - 3)/4 = 0.575,
    # TCV/TCC (2 + 5/3 + 1.06 + 0.5)/4, ratio of the means 4.825/4.25
    expected = {
        "total_value": TOTAL_VALUE,
        "total_cost": TOTAL_COST,
        "difference": np.array([3.0, 2.0, 0.3, -3.0]),
        "ratio": np.array([2.0, 5 / 3, 1.06, 0.5]),
    }
    for name, rows in expected.items():
        score = getattr(ours, name)
        low, high = DescrStatsW(rows).tconfint_mean(alpha=0.05)
        assert (score.estimate, score.low, score.high) == pytest.approx((rows.mean(), low, high)), (
            name
        )
        assert score.n == 4 and score.small_sample
    assert ours.difference.estimate == pytest.approx(0.575)
    assert ours.ratio_of_means == pytest.approx(4.825 / 4.25)
    assert result["rival"].difference.estimate == pytest.approx(0.575)  # same rows reversed


def test_difference_and_ratio_of_constant_totals():
    """Two respondents whose weighted value is 5 and weighted cost 4 (equal weights): delivered
    value 1 scale point as a difference, 5/4 as a ratio, with no spread."""
    values = np.array([[5, 5, 5, 5], [6, 4, 5, 5]], dtype=float)  # TCV 5 for both
    costs = np.array([[4, 4, 4, 4], [3, 5, 4, 4]], dtype=float)  # TCC 4 for both
    result = delivered_value({"us": values}, {"us": costs})["us"]
    assert result.difference.estimate == pytest.approx(1.0)
    assert result.ratio.estimate == pytest.approx(1.25)
    assert result.ratio.standard_deviation == 0.0


def test_delivered_value_refuses_mixed_scales_and_bad_input():
    costs_on_ten = COSTS.copy()
    costs_on_ten[1, 2] = 9  # a 1-10 answer among 1-7 ones
    with pytest.raises(InvalidRowsError, match=r"outside the scale 1\.\.7") as error:
        delivered_value({"us": VALUES}, {"us": costs_on_ten})
    assert (error.value.column, error.value.row) == ("us: energy cost", 2)
    with pytest.raises(InputError, match="starts above 0"):
        delivered_value({"us": VALUES}, {"us": COSTS}, scale=(0, 10))
    with pytest.raises(InputError, match="no costs") as error:
        delivered_value({"us": VALUES, "rival": VALUES}, {"us": COSTS})
    assert error.value.value == "rival"
    with pytest.raises(InputError, match="no values") as error:
        delivered_value({"us": VALUES}, {"us": COSTS, "ghost": COSTS})
    assert error.value.value == "ghost"
    with pytest.raises(InputError, match="missing or extra component"):
        delivered_value({"us": VALUES[:, :3]}, {"us": COSTS})
    with pytest.raises(InputError, match="'image' must be above 0"):
        delivered_value({"us": VALUES}, {"us": COSTS}, value_weights=[1, 1, 1, 0])
    one_complete = VALUES.copy()
    one_complete[1:, 0] = np.nan
    with pytest.raises(InputError, match="too few respondents"):
        delivered_value({"us": one_complete}, {"us": COSTS})


def test_delivered_value_leaves_out_incomplete_respondents():
    values = VALUES.copy()
    values[3, 1] = np.nan
    result = delivered_value({"us": values}, {"us": COSTS}, value_weights=[4, 3, 2, 1])["us"]
    assert (result.total_value.n, result.total_value.n_missing) == (3, 1)
    assert result.total_value.estimate == pytest.approx(TOTAL_VALUE[:3].mean())


def test_our_advantage_in_delivered_value_is_a_paired_t():
    """Our TCV - TCC minus the rival's, per respondent who rated both, against statsmodels'
    t interval and scipy's paired t-test on the same hand-made differences."""
    rival_values = np.array([[6, 6, 5, 4], [4, 4, 4, 4], [6, 5, 6, 3], [5, 4, 4, 3]], dtype=float)
    rival_costs = np.array([[4, 4, 4, 4], [3, 3, 3, 3], [4, 4, 4, 4], [4, 4, 4, 4]], dtype=float)
    result = delivered_value(
        {"us": VALUES, "rival": rival_values},
        {"us": COSTS, "rival": rival_costs},
        us="us",
    )
    # equal weights: ours (5.5 - 3, 5 - 3, 5 - 5, 2.5 - 6), the rival's (5.25 - 4, 4 - 3,
    # 5 - 4, 4 - 4)
    ours = np.array([2.5, 2.0, 0.0, -3.5])
    rival = np.array([1.25, 1.0, 1.0, 0.0])
    advantage = result["rival"].advantage_of_us
    assert advantage is not None and result["us"].advantage_of_us is None
    low, high = DescrStatsW(ours - rival).tconfint_mean(alpha=0.05)
    assert (advantage.estimate, advantage.low, advantage.high) == pytest.approx(
        ((ours - rival).mean(), low, high)
    )
    t_test = stats.ttest_rel(ours, rival)
    assert advantage.estimate / advantage.standard_error == pytest.approx(t_test.statistic)
    with pytest.raises(InputError, match="'ours'"):
        delivered_value({"us": VALUES}, {"us": COSTS}, us="ours")
