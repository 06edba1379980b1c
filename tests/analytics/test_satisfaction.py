"""NPS, CSAT and CES with their intervals, pinned to other tools' output computed here.

Oracles (never kehu's own code):

* NPS: statsmodels' ``DescrStatsW`` gives the weighted mean and variance (denominator the sum of
  weights) of the answers scored -1/0/+1 with the counts plus Rocks's (2016) pseudo-observations
  (0.75 detractors, 1.5 passives, 0.75 promoters, the default of his R package ``NPS``,
  ``nps_test(test = "adjusted.wald")``) as weights; the Wald interval of that mean is
  ``mean ± z sqrt(var / sum of weights)`` with ``z`` from ``scipy.stats.norm``. That is how his
  package builds the interval (``se.hat <- sqrt(var.x / n.x)`` on the adjusted counts), so the
  numbers below are those his ``nps_test`` gives. The exact coverage of the interval is computed
  by enumerating every trinomial outcome with ``scipy.stats.multinomial``.
* CSAT: ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
* CES: ``statsmodels.stats.weightstats.DescrStatsW(x).tconfint_mean`` (Student t with n - 1
  degrees of freedom), cross-checked with ``scipy.stats.t.interval``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from kehu.analytics.satisfaction import (
    NPSScore,
    by_group,
    ces,
    csat,
    mean_score,
    nps,
    nps_change,
    nps_from_counts,
)
from kehu.errors import EmptyInputError, InputError, InvalidRowsError

ROCKS_PSEUDO = np.array([0.75, 1.5, 0.75])


def answers_from_counts(detractors: int, passives: int, promoters: int) -> list[int]:
    """0-10 answers with these category counts (detractors spread over 0-6, and so on)."""
    return (
        [i % 7 for i in range(detractors)]
        + [7 + i % 2 for i in range(passives)]
        + [9 + i % 2 for i in range(promoters)]
    )


def statsmodels_adjusted_wald(counts: tuple[int, int, int], level: float) -> tuple[float, float]:
    """Rocks's adjusted Wald interval, in points, from statsmodels' weighted moments."""
    weighted = DescrStatsW(np.array([-1.0, 0.0, 1.0]), weights=np.array(counts) + ROCKS_PSEUDO)
    se = np.sqrt(weighted.var / weighted.sum_weights)
    z = stats.norm.ppf(0.5 + level / 2)
    return 100 * max(-1.0, weighted.mean - z * se), 100 * min(1.0, weighted.mean + z * se)


@pytest.mark.parametrize(
    ("counts", "level"),
    [
        ((30, 30, 40), 0.95),
        ((2, 5, 13), 0.95),
        ((12, 3, 1), 0.90),
        ((150, 420, 630), 0.99),
        ((0, 4, 6), 0.95),
    ],
)
def test_nps_interval_is_rockss_adjusted_wald(counts: tuple[int, int, int], level: float) -> None:
    """The interval is the Wald interval of the pseudo-observation-adjusted score (oracle:
    statsmodels' weighted moments, module docstring); the estimate is the plain NPS."""
    det, pas, pro = counts
    result = nps(answers_from_counts(*counts), level=level)
    low, high = statsmodels_adjusted_wald(counts, level)
    assert result.low == pytest.approx(low, abs=1e-9)
    assert result.high == pytest.approx(high, abs=1e-9)
    assert result.estimate == pytest.approx(100 * (pro - det) / (det + pas + pro))
    assert (result.n_detractors, result.n_passives, result.n_promoters) == counts
    assert result.n == sum(counts)
    assert result.level == level


def test_nps_categories_follow_reichheld() -> None:
    """0-6 detract, 7-8 are passive, 9-10 promote (Reichheld 2003): one answer of each point."""
    result = nps(list(range(11)))
    assert (result.n_detractors, result.n_passives, result.n_promoters) == (7, 2, 2)
    assert result.estimate == pytest.approx(100 * (2 - 7) / 11)


def test_all_promoters_interval_is_not_degenerate() -> None:
    """Ten promoters out of ten: the plain Wald interval would be [100, 100]; the adjusted one
    is centred on (10.75 - 0.75) / 13 and has width (Rocks 2016: the point of the pseudo-
    observations)."""
    result = nps([10] * 10)
    assert result.estimate == 100.0
    low, high = statsmodels_adjusted_wald((0, 0, 10), 0.95)
    assert result.low == pytest.approx(low)
    assert result.high == 100.0 == high  # clipped at the top of the scale
    assert result.low < 75


@pytest.mark.parametrize(
    ("p_det", "p_pro", "n"), [(0.3, 0.4, 30), (0.05, 0.8, 20), (0.2, 0.2, 50), (0.02, 0.9, 15)]
)
def test_nps_interval_exact_coverage_is_near_nominal(p_det: float, p_pro: float, n: int) -> None:
    """Rocks (2016) found the adjusted Wald interval's coverage close to its nominal level on
    trinomial samples. Here the exact coverage of nominal 95 % intervals, every outcome of
    ``n`` answers weighed by its trinomial probability (scipy.stats.multinomial), is within
    1.5 points of 95 % (94.2-95.6 % in these cases); the plain Wald interval (no
    pseudo-observations) covers below 90 % in the skewed ones (86 % and 79 %)."""
    truth = 100 * (p_pro - p_det)
    probabilities = [p_det, 1 - p_det - p_pro, p_pro]
    coverage = plain_wald_coverage = 0.0
    for det in range(n + 1):
        for pro in range(n + 1 - det):
            counts = (det, n - det - pro, pro)
            mass = stats.multinomial.pmf(counts, n, probabilities)
            result = nps_from_counts(*counts)
            coverage += mass * (result.low <= truth <= result.high)
            share_det, share_pro = det / n, pro / n
            se = np.sqrt((share_pro + share_det - (share_pro - share_det) ** 2) / n)
            centre = share_pro - share_det
            plain_wald_coverage += mass * (centre - 1.96 * se <= truth / 100 <= centre + 1.96 * se)
    assert abs(coverage - 0.95) < 0.015
    if p_pro >= 0.8:
        assert plain_wald_coverage < 0.9


def test_nps_change_is_the_adjusted_wald_difference() -> None:
    """Two independent periods: the difference of the adjusted scores ± z times the root of
    the sum of their variances, and the two-sided normal p-value (oracle: statsmodels'
    weighted moments per period and scipy's normal distribution)."""
    earlier_counts, later_counts = (40, 35, 45), (25, 30, 60)
    change = nps_change(answers_from_counts(*earlier_counts), answers_from_counts(*later_counts))
    moments = [
        DescrStatsW(np.array([-1.0, 0.0, 1.0]), weights=np.array(c) + ROCKS_PSEUDO)
        for c in (earlier_counts, later_counts)
    ]
    difference = moments[1].mean - moments[0].mean
    se = np.sqrt(sum(m.var / m.sum_weights for m in moments))
    z = stats.norm.ppf(0.975)
    assert change.low == pytest.approx(100 * (difference - z * se))
    assert change.high == pytest.approx(100 * (difference + z * se))
    assert change.p_value == pytest.approx(2 * stats.norm.sf(abs(difference) / se))
    assert change.estimate == pytest.approx(
        100 * (60 / 115 - 25 / 115) - 100 * (45 / 120 - 40 / 120)
    )
    assert change.earlier.n == 120 and change.later.n == 115
    assert change.p_value < 0.05 and change.low > 0  # a real rise: the interval excludes 0


def test_nps_change_of_identical_periods_is_not_significant() -> None:
    answers = answers_from_counts(10, 10, 10)
    change = nps_change(answers, answers)
    assert change.estimate == 0.0
    assert change.p_value == pytest.approx(1.0)
    assert change.low == pytest.approx(-change.high)


def test_nps_change_accepts_scores_and_flags_either_small_period() -> None:
    big = nps(answers_from_counts(30, 30, 40))
    small = nps(answers_from_counts(3, 3, 4))
    change = nps_change(big, small, level=0.9)
    assert change.small_sample and change.n == 10
    assert change.later.level == 0.9  # rescored at the change's level
    direct = nps_change(answers_from_counts(30, 30, 40), answers_from_counts(3, 3, 4), level=0.9)
    assert (change.low, change.high, change.p_value) == (direct.low, direct.high, direct.p_value)


@pytest.mark.parametrize(("count", "n"), [(0, 12), (12, 12), (7, 12), (81, 120), (1, 3)])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_csat_wilson_interval_matches_statsmodels(count: int, n: int, level: float) -> None:
    """Oracle: statsmodels.stats.proportion.proportion_confint(method="wilson")."""
    answers = [5 if i % 2 else 4 for i in range(count)] + [
        3 if i % 3 else 1 for i in range(n - count)
    ]
    result = csat(answers, level=level)
    low, high = proportion_confint(count, n, alpha=1 - level, method="wilson")
    assert result.low == pytest.approx(low, abs=1e-12)
    assert result.high == pytest.approx(high, abs=1e-12)
    assert result.estimate == count / n and result.count == count and result.n == n


def test_csat_top_boxes_and_scale_are_configurable() -> None:
    """Top-2-box of a 1-7 scale counts 6 and 7; top-3-box of 1-5 counts 3, 4 and 5."""
    answers = [7, 6, 5, 4, 3, 2, 1, 6]
    result = csat(answers, scale=(1, 7))
    assert result.count == 3
    low, high = proportion_confint(3, 8, alpha=0.05, method="wilson")
    assert (result.low, result.high) == pytest.approx((low, high))
    assert csat([5, 4, 3, 2, 1], top_boxes=3).count == 3


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_ces_t_interval_matches_statsmodels_and_scipy(level: float) -> None:
    """Oracle: statsmodels DescrStatsW.tconfint_mean; scipy.stats.t.interval agrees."""
    answers = np.array([7, 6, 6, 5, 7, 2, 4, 6, 5, 7, 3, 6, 6, 5, 7, 1, 6, 5])
    result = ces(answers, level=level)
    low, high = DescrStatsW(answers.astype(float)).tconfint_mean(alpha=1 - level)
    assert result.low == pytest.approx(low, abs=1e-12)
    assert result.high == pytest.approx(high, abs=1e-12)
    scipy_low, scipy_high = stats.t.interval(
        level, len(answers) - 1, loc=answers.mean(), scale=stats.sem(answers)
    )
    assert (result.low, result.high) == pytest.approx((scipy_low, scipy_high))
    assert result.estimate == pytest.approx(answers.mean())
    assert result.standard_deviation == pytest.approx(np.std(answers, ddof=1))


def test_one_answer_has_no_t_interval() -> None:
    result = ces([4])
    assert result.estimate == 4.0 and result.n == 1
    assert np.isnan(result.low) and np.isnan(result.high)


def test_missing_answers_are_left_out_and_counted() -> None:
    """NaN and None are unanswered: not in n, counted in n_missing."""
    result = nps([10, None, 3, np.nan, 8])
    assert result.n == 3 and result.n_missing == 2
    assert result.estimate == pytest.approx(0.0)
    assert csat([5, None, 1]).n_missing == 1
    mean = ces([1.0, np.nan, 7.0])
    assert (mean.n, mean.n_missing, mean.estimate) == (2, 1, 4.0)


@pytest.mark.parametrize(
    ("n", "min_n", "flag"), [(29, 30, True), (30, 30, False), (10, 10, False), (9, 10, True)]
)
def test_small_sample_flag(n: int, min_n: int, flag: bool) -> None:
    answers = [9] * n
    assert nps(answers, min_n=min_n).small_sample is flag
    assert csat([5] * n, min_n=min_n).small_sample is flag
    assert ces([3] * n, min_n=min_n).small_sample is flag


def test_out_of_range_answer_names_question_row_and_value() -> None:
    with pytest.raises(InputError) as error:
        nps([10, 9, 11, 0], name="q_recommend")
    assert error.value.row == 3 and error.value.value == 11
    assert error.value.column == "q_recommend"
    assert "outside the scale 0..10" in str(error.value)


def test_every_bad_answer_is_listed() -> None:
    with pytest.raises(InvalidRowsError) as error:
        csat([6, 5, 0, 2.5, -1])
    message = str(error.value)
    assert "row 1 (6)" in message and "row 3 (0)" in message and "row 5 (-1)" in message
    assert "row 4 (2.5)" in message and "not a whole scale point" in message
    assert error.value.n_rows == 4


def test_text_answer_is_an_input_error() -> None:
    with pytest.raises(InputError) as error:
        ces([3, "very easy"])
    assert error.value.row == 2 and error.value.value == "very easy"


@pytest.mark.parametrize("statistic", [nps, csat, ces])
def test_empty_input_is_a_clear_error(statistic: object) -> None:
    with pytest.raises(EmptyInputError, match="no answers at all"):
        statistic([])  # type: ignore[operator]
    with pytest.raises(EmptyInputError, match="every answer is missing"):
        statistic([None, np.nan])  # type: ignore[operator]


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1, 95])
@pytest.mark.parametrize("statistic", [nps, csat, ces])
def test_level_outside_zero_one_is_an_error(statistic: object, level: float) -> None:
    with pytest.raises(InputError, match="level"):
        statistic([5, 5], level=level)  # type: ignore[operator]


def test_bad_min_n_and_scale_are_errors() -> None:
    with pytest.raises(InputError, match="min_n"):
        nps([5], min_n=0)
    with pytest.raises(InputError, match="scale"):
        ces([3], scale=(7, 1))
    with pytest.raises(InputError, match="top_boxes"):
        csat([3], top_boxes=5)
    with pytest.raises(InputError, match="count"):
        nps_from_counts(-1, 2, 3)


def test_mean_score_of_any_range() -> None:
    """A mean of non-scale values (e.g. transfers per ticket) with its t interval."""
    values = np.array([0.0, 1.0, 3.0, 0.0, 2.0])
    result = mean_score(values)
    low, high = DescrStatsW(values).tconfint_mean()
    assert (result.low, result.high) == pytest.approx((low, high))
    with pytest.raises(InputError):
        mean_score([0.0, np.inf])


def test_by_group_gives_each_groups_statistic_in_sorted_order() -> None:
    """Each group's result is the statistic of its rows alone; keys sorted (months sort as
    text); a missing key is no group; a group whose rows are all unanswered is absent."""
    months = ["2026-02", "2026-01", "2026-02", "2026-01", None, "2026-03", "2026-02"]
    answers = [10, 3, 9, 8, 10, None, 0]
    results = by_group(nps, months, answers, level=0.9)
    assert list(results) == ["2026-01", "2026-02"]
    january = results["2026-01"]
    assert isinstance(january, NPSScore)
    assert january == nps([3, 8], level=0.9)
    assert results["2026-02"] == nps([10, 9, 0], level=0.9)


def test_by_group_mixed_keys_keep_their_order_and_lengths_must_match() -> None:
    results = by_group(csat, ["b", 1, "b"], [5, 1, 4])
    assert list(results) == ["b", 1]
    with pytest.raises(InputError, match="rows"):
        by_group(csat, ["a", "b"], [5, 4, 3])


def test_nested_answers_are_an_input_error() -> None:
    with pytest.raises(InputError, match="must be a number") as error:
        nps([[1, 2], [3]])
    assert error.value.row == 1
