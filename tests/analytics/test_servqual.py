"""SERVQUAL gaps on a worked example small enough to do by hand.

Six respondents answer four items (two of reliability, two of empathy) twice on 1-7 and split
100 importance points over the two dimensions. The gaps P - E, the dimension gaps and the
weighted scores below were worked out by hand from the scoring steps of Zeithaml, Parasuraman &
Berry (1990, *Delivering Quality Service*, appendix): written out per respondent in the tests,
then the intervals come from ``scipy.stats.t.interval`` on those hand-written numbers (never
from kehu's own code). No published SERVQUAL data set with its scores was found to pin to.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kehu.analytics.satisfaction import MeanScore, by_group
from kehu.analytics.servqual import ServqualGaps, servqual_gaps
from kehu.errors import EmptyInputError, InputError

EXPECTATIONS = np.array(
    [[7, 6, 5, 6], [6, 6, 7, 5], [7, 7, 6, 6], [5, 6, 6, 7], [6, 5, 5, 6], [7, 6, 6, 5]],
    dtype=float,
)
PERCEPTIONS = np.array(
    [[5, 6, 4, 5], [6, 5, 6, 6], [4, 5, 5, 5], [5, 4, 6, 7], [6, 6, 3, 4], [5, 5, 6, 6]],
    dtype=float,
)
DIMENSIONS = ["reliability", "reliability", "empathy", "empathy"]
ITEMS = ["promised time", "dependable", "individual attention", "best interests"]
IMPORTANCE = np.array([[60, 40], [50, 50], [80, 20], [30, 70], [50, 50], [100, 0]], dtype=float)

# By hand, respondent by respondent (P - E per item; dimension = mean of its two items).
ITEM_GAPS = {
    "promised time": [-2, 0, -3, 0, 0, -2],
    "dependable": [0, -1, -2, -2, 1, -1],
    "individual attention": [-1, -1, -1, 0, -2, 0],
    "best interests": [-1, 1, -1, 0, -2, 1],
}
RELIABILITY = [-1.0, -0.5, -2.5, -1.0, 0.5, -1.5]  # mean -1.0
EMPATHY = [-1.0, 0.0, -1.0, 0.0, -2.0, 0.5]  # mean -0.5833
OVERALL = [-1.0, -0.25, -1.75, -0.5, -0.75, -0.5]  # mean of the two: -0.7917
WEIGHTED_RELIABILITY = [-0.6, -0.25, -2.0, -0.3, 0.25, -1.5]  # 0.6·-1, 0.5·-0.5, ...: -0.7333
WEIGHTED_EMPATHY = [-0.4, 0.0, -0.2, 0.0, -1.0, 0.0]  # -0.2667
WEIGHTED_OVERALL = [-1.0, -0.25, -2.2, -0.3, -0.75, -1.5]  # -1.0 = -0.7333 + -0.2667


def assert_t_score(score: MeanScore, values: list[float], level: float = 0.95) -> None:
    """``score`` is the mean of ``values`` with scipy's Student t interval."""
    array = np.array(values, dtype=float)
    low, high = stats.t.interval(level, len(array) - 1, loc=array.mean(), scale=stats.sem(array))
    assert score.estimate == pytest.approx(array.mean(), abs=1e-12)
    assert (score.low, score.high) == pytest.approx((low, high), abs=1e-12)
    assert score.n == len(array)


def test_worked_example_items_dimensions_and_overall() -> None:
    result = servqual_gaps(EXPECTATIONS, PERCEPTIONS, DIMENSIONS, items=ITEMS)
    assert list(result.items) == ITEMS
    for name, gaps in ITEM_GAPS.items():
        assert_t_score(result.items[name], gaps)
    assert list(result.dimensions) == ["reliability", "empathy"]
    assert_t_score(result.dimensions["reliability"], RELIABILITY)
    assert_t_score(result.dimensions["empathy"], EMPATHY)
    assert_t_score(result.overall, OVERALL)
    assert result.dimensions["reliability"].estimate == pytest.approx(-1.0)
    assert result.overall.estimate == pytest.approx(-0.791666666667)
    assert result.weighted_overall is None and result.weighted_dimensions is None
    assert result.n_respondents == 6
    assert result.overall.small_sample  # 6 < 30


def test_worked_example_weighted_by_importance_points() -> None:
    result = servqual_gaps(EXPECTATIONS, PERCEPTIONS, DIMENSIONS, importance=IMPORTANCE, level=0.9)
    assert result.weighted_dimensions is not None and result.weighted_overall is not None
    assert_t_score(result.weighted_dimensions["reliability"], WEIGHTED_RELIABILITY, 0.9)
    assert_t_score(result.weighted_dimensions["empathy"], WEIGHTED_EMPATHY, 0.9)
    assert_t_score(result.weighted_overall, WEIGHTED_OVERALL, 0.9)
    assert result.weighted_overall.estimate == pytest.approx(-1.0)
    # the weighted dimension scores add up to the weighted overall score
    total = sum(score.estimate for score in result.weighted_dimensions.values())
    assert total == pytest.approx(result.weighted_overall.estimate)


def test_missing_answers_follow_the_stated_rule() -> None:
    """Respondent 2 skipped the expectation of 'promised time': that item has 5 gaps, and his
    reliability gap is his other item's (-1) under the default half rule, missing when every
    item is required. Respondent 3 skipped both empathy perceptions: no empathy gap, so no
    overall score either. Respondent 6 skipped the importance question: out of the weighted
    scores only."""
    expectations = EXPECTATIONS.copy()
    perceptions = PERCEPTIONS.copy()
    importance = IMPORTANCE.copy()
    expectations[1, 0] = np.nan
    perceptions[2, 2:] = np.nan
    importance[5] = np.nan
    result = servqual_gaps(
        expectations, perceptions, DIMENSIONS, items=ITEMS, importance=importance
    )
    assert_t_score(result.items["promised time"], [-2, -3, 0, 0, -2])
    assert result.items["promised time"].n_missing == 1
    reliability = [-1.0, -1.0, -2.5, -1.0, 0.5, -1.5]
    assert_t_score(result.dimensions["reliability"], reliability)
    assert_t_score(result.dimensions["empathy"], [-1.0, 0.0, 0.0, -2.0, 0.5])
    overall = [(-1.0 - 1.0) / 2, (-1.0 + 0.0) / 2, (-1.0 + 0.0) / 2, (0.5 - 2.0) / 2, -0.5]
    assert_t_score(result.overall, overall)
    assert result.overall.n_missing == 1
    assert result.weighted_overall is not None
    # respondents 1, 2, 4, 5 (3 has no empathy gap, 6 no importance points)
    assert_t_score(result.weighted_overall, [-1.0, 0.5 * -1.0 + 0.5 * 0.0, -0.3, -0.75])

    strict = servqual_gaps(expectations, perceptions, DIMENSIONS, min_item_share=1.0)
    assert strict.dimensions["reliability"].n == 5


def test_a_dimension_nobody_answered_has_no_estimate() -> None:
    perceptions = PERCEPTIONS.copy()
    perceptions[:, 2:] = np.nan
    result = servqual_gaps(EXPECTATIONS, perceptions, DIMENSIONS)
    empathy = result.dimensions["empathy"]
    assert empathy.n == 0 and np.isnan(empathy.estimate) and empathy.small_sample
    assert result.overall.n == 0


def test_off_scale_answer_names_item_row_and_value() -> None:
    expectations = EXPECTATIONS.copy()
    expectations[1, 1] = 8
    with pytest.raises(InputError) as error:
        servqual_gaps(expectations, PERCEPTIONS, DIMENSIONS, items=ITEMS)
    assert error.value.column == "dependable expectation"
    assert error.value.row == 2 and error.value.value == 8


def test_importance_points_must_add_up_to_100_or_be_all_missing() -> None:
    importance = IMPORTANCE.copy()
    importance[3] = [30, 60]
    with pytest.raises(InputError, match="add up to 100") as error:
        servqual_gaps(EXPECTATIONS, PERCEPTIONS, DIMENSIONS, importance=importance)
    assert error.value.row == 4 and error.value.value == 90
    importance[3] = [30, np.nan]
    with pytest.raises(InputError, match="every dimension or for none") as error:
        servqual_gaps(EXPECTATIONS, PERCEPTIONS, DIMENSIONS, importance=importance)
    assert error.value.row == 4 and error.value.column == "empathy importance"
    with pytest.raises(InputError, match="one column per dimension"):
        servqual_gaps(EXPECTATIONS, PERCEPTIONS, DIMENSIONS, importance=IMPORTANCE[:, :1])


def test_shapes_must_match_and_something_must_be_answered() -> None:
    with pytest.raises(InputError, match="shape"):
        servqual_gaps(EXPECTATIONS, PERCEPTIONS[:, :3], DIMENSIONS)
    with pytest.raises(InputError, match="dimension labels"):
        servqual_gaps(EXPECTATIONS, PERCEPTIONS, DIMENSIONS[:3])
    with pytest.raises(EmptyInputError):
        servqual_gaps(np.full((3, 4), np.nan), PERCEPTIONS[:3], DIMENSIONS)
    with pytest.raises(InputError, match="level"):
        servqual_gaps(EXPECTATIONS, PERCEPTIONS, DIMENSIONS, level=1.0)


def test_by_group_splits_respondents_for_servqual() -> None:
    """Per team: each group's gaps are those of its respondents alone (rows of the 2-d
    answers), the dimension labels passed as an option."""
    teams = ["north", "south", "north", "south", "north", "south"]
    results = by_group(servqual_gaps, teams, EXPECTATIONS, PERCEPTIONS, dimensions=DIMENSIONS)
    assert list(results) == ["north", "south"]
    north = results["north"]
    assert isinstance(north, ServqualGaps)
    assert_t_score(north.dimensions["reliability"], [RELIABILITY[i] for i in (0, 2, 4)])
    assert_t_score(north.overall, [OVERALL[i] for i in (0, 2, 4)])
    assert_t_score(results["south"].dimensions["empathy"], [EMPATHY[i] for i in (1, 3, 5)])
