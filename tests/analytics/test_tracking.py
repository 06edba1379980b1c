"""The tracking series and the frequency histogram (:mod:`kehu.analytics.tracking`; FHL 2005
Figures 3 and 2), by hand on cohorts and against the models' own expectations."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.analytics import BetaGeoModel, ParetoNBDModel, load_cdnow_summary
from kehu.analytics.tracking import (
    expected_cumulative_repeat_purchases,
    expected_holdout_repeat_purchases,
    frequency_histogram,
)
from kehu.errors import InputError

BGNBD = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})


def test_cumulative_purchases_add_up_the_cohorts_by_hand() -> None:
    # two cohorts: 3 customers acquired at 0 (T = 10), 2 acquired at 4 (T = 6)
    T = [10.0, 10.0, 10.0, 6.0, 6.0]
    times = np.array([0.0, 2.0, 4.0, 7.0, 15.0])
    got = expected_cumulative_repeat_purchases(BGNBD, T, times)
    by_hand = 3 * BGNBD.expected_purchases(times) + 2 * BGNBD.expected_purchases(
        np.maximum(times - 4.0, 0.0)
    )
    np.testing.assert_allclose(got, by_hand, rtol=1e-12)
    assert got[0] == 0.0
    # weights are customers: the same with the rows compressed
    weighted = expected_cumulative_repeat_purchases(BGNBD, [10.0, 6.0], times, weights=[3, 2])
    np.testing.assert_allclose(weighted, got, rtol=1e-12)


def test_holdout_purchases_are_the_increment_of_each_customers_expectation() -> None:
    model = ParetoNBDModel.from_params({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    T = np.array([38.0, 30.0, 12.5])
    got = expected_holdout_repeat_purchases(model, T, 39.0, weights=[2, 1, 1])
    increments = model.expected_purchases(T + 39.0) - model.expected_purchases(T)
    assert got == pytest.approx(float(np.array([2, 1, 1]) @ increments), rel=1e-12)
    # the same number read off the cumulative curve at the calibration end and 39 weeks later
    curve = expected_cumulative_repeat_purchases(model, T, [38.0, 77.0], weights=[2, 1, 1])
    assert curve[1] - curve[0] == pytest.approx(got, rel=1e-12)


def test_the_histogram_counts_every_customer_in_both_columns() -> None:
    x, _, T = load_cdnow_summary()
    histogram = frequency_histogram(BGNBD, x, T)
    assert histogram.labels == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    # CDNOW: 1,411 of the 2,357 customers made no repeat purchase in the 39 weeks (FHL 2005)
    assert histogram.actual[0] == 1411 and histogram.actual.sum() == 2357
    assert histogram.expected.sum() == pytest.approx(2357)
    by_hand = sum(BGNBD.probability_of_purchases(0, t) for t in T)
    assert histogram.expected[0] == pytest.approx(by_hand, rel=1e-9)
    # FHL 2005 Figure 2: the BG/NBD's expected count of zero-repeat customers is close to 1,411
    assert histogram.expected[0] == pytest.approx(1411, rel=0.01)
    record = histogram.as_record()
    assert record["labels"][-1] == "7+" and len(record["expected"]) == 8


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="T must be >= 0"):
        expected_cumulative_repeat_purchases(BGNBD, [-1.0], [1.0])
    with pytest.raises(InputError, match="duration"):
        expected_holdout_repeat_purchases(BGNBD, [1.0], -2.0)
    with pytest.raises(InputError, match="same length"):
        frequency_histogram(BGNBD, [0, 1], [3.0])
    with pytest.raises(InputError, match="max_frequency"):
        frequency_histogram(BGNBD, [0], [3.0], max_frequency=0)
