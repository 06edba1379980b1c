from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.analytics.tiers import (
    TIER_LABELS,
    TIER_NAMES,
    pareto_curve,
    tier_cutoffs,
    tier_table,
    value_tiers,
)
from kehu.errors import EmptyInputError, InputError

values_strategy = st.lists(
    st.floats(min_value=-50, max_value=1000, allow_nan=False).map(lambda v: round(v, 2)),
    min_size=1,
    max_size=60,
)
RANK = {label: i for i, label in enumerate(TIER_LABELS)}


def test_tiers_by_hand() -> None:
    # total 100: 50 + 30 = exactly 80% -> high; 15 takes it to 95% -> middle; rest low
    values = [5.0, 50.0, 15.0, 30.0, 0.0, -3.0]
    assert value_tiers(values).tolist() == ["low", "high", "middle", "high", "low", "low"]


def test_customer_crossing_a_threshold_is_in_the_upper_tier() -> None:
    # share before: 0, 0.6, 0.9, 0.96 -> 30 crosses 80% (60% -> 90%): high; 6 crosses 95%: middle
    values = [60.0, 30.0, 6.0, 4.0]
    assert value_tiers(values).tolist() == ["high", "high", "middle", "low"]


def test_tied_values_share_a_tier() -> None:
    # ten customers of 10 each: every block starts at share 0 -> all high (no concentration)
    assert set(value_tiers([10.0] * 10)) == {"high"}
    # 70, then two tied 10s: the tie starts at 70% < 80% so both are high
    assert value_tiers([70.0, 10.0, 10.0, 5.0, 5.0]).tolist() == [
        "high", "high", "high", "middle", "middle",
    ]  # fmt: skip


def test_no_positive_value_means_all_low() -> None:
    assert value_tiers([0.0, -1.0, 0.0]).tolist() == ["low", "low", "low"]
    assert value_tiers([]).tolist() == []


def test_configurable_thresholds_and_labels() -> None:
    values = [50.0, 30.0, 15.0, 5.0]
    tiers = value_tiers(values, thresholds=(0.5,), labels=("top", "rest"))
    assert tiers.tolist() == ["top", "rest", "rest", "rest"]
    with pytest.raises(InputError, match="increasing"):
        value_tiers(values, thresholds=(0.9, 0.8))
    with pytest.raises(InputError, match="labels"):
        value_tiers(values, thresholds=(0.8,), labels=("a", "b", "c"))
    with pytest.raises(InputError):
        value_tiers([1.0, np.inf])


@given(values_strategy)
def test_tiers_are_monotone_in_value_and_order_free(values: list[float]) -> None:
    array = np.array(values)
    tiers = value_tiers(array)
    ranks = np.array([RANK[t] for t in tiers])
    order = np.argsort(-array, kind="stable")
    assert np.all(np.diff(ranks[order]) >= 0)  # larger value, same or better tier
    for v in set(values):
        assert len(set(tiers[array == v])) == 1
    assert set(tiers[array <= 0]) <= {"low"}
    permutation = np.random.default_rng(7).permutation(len(array))
    assert np.array_equal(value_tiers(array[permutation]), tiers[permutation])


@given(values_strategy)
def test_high_tier_reaches_eighty_percent(values: list[float]) -> None:
    array = np.array(values)
    positive_total = array[array > 0].sum()
    tiers = value_tiers(array)
    if positive_total > 0:
        assert array[tiers == "high"].sum() >= 0.8 * positive_total * (1 - 1e-9)
        assert array[np.isin(tiers, ["high", "middle"])].sum() >= 0.95 * positive_total * (1 - 1e-9)


def test_tier_table_by_hand() -> None:
    values = [5.0, 50.0, 15.0, 30.0, 0.0, -3.0]
    table = tier_table(values, value_tiers(values))
    assert table.index.tolist() == ["high", "middle", "low"]
    assert table["n_customers"].tolist() == [2, 1, 3]
    assert table["customer_share"].tolist() == pytest.approx([2 / 6, 1 / 6, 3 / 6])
    assert table["total_value"].tolist() == pytest.approx([80.0, 15.0, 2.0])
    assert table["value_share"].tolist() == pytest.approx([80 / 97, 15 / 97, 2 / 97])
    assert table["mean_value"].tolist() == pytest.approx([40.0, 15.0, 2 / 3])


def test_tier_table_empty_tier_and_bad_label() -> None:
    table = tier_table([10.0, 10.0], ["high", "high"])
    assert table.loc["middle", "n_customers"] == 0
    assert table["mean_value"].isna()["middle"]
    with pytest.raises(InputError, match="unknown tier"):
        tier_table([1.0], ["gold"])
    with pytest.raises(InputError, match="same length"):
        tier_table([1.0, 2.0], ["high"])
    assert set(TIER_NAMES) == set(TIER_LABELS)


@given(values_strategy)
def test_tier_table_shares_sum_to_one(values: list[float]) -> None:
    table = tier_table(values, value_tiers(values))
    assert table["n_customers"].sum() == len(values)
    assert table["customer_share"].sum() == pytest.approx(1.0)
    if abs(sum(values)) > 1e-6:
        assert table["value_share"].sum() == pytest.approx(1.0)


def test_pareto_curve_by_hand() -> None:
    curve = pareto_curve([10.0, 40.0, 20.0, 30.0, 0.0])
    assert curve.customer_share.tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert curve.value_share.tolist() == pytest.approx([0, 0.4, 0.7, 0.9, 1.0, 1.0])
    # 80% is reached between 0.4 (70%) and 0.6 (90%) customers, halfway
    assert curve.customers_for_target == pytest.approx(0.5)
    assert curve.n_customers_for_target == 3
    assert curve.value_of_top == pytest.approx(0.4)  # top 20% = the customer with 40
    assert curve.n_customers == 5


def test_pareto_curve_classic_80_20() -> None:
    values = np.array([80.0, 80.0] + [40.0 / 8] * 8)  # 2 of 10 customers make 160 of 200
    curve = pareto_curve(values)
    assert curve.customers_for_target == pytest.approx(0.2)
    assert curve.value_of_top == pytest.approx(0.8)


def test_pareto_curve_interpolates_fractional_customers() -> None:
    curve = pareto_curve([40.0, 30.0, 10.0, 10.0, 5.0, 3.0, 2.0])
    # 20% of 7 customers = 1.4 customers: 40 + 0.4 * 30 = 52 of 100
    assert curve.value_of_top == pytest.approx(0.52)


def test_pareto_curve_refuses_non_positive_total() -> None:
    with pytest.raises(InputError, match="positive total"):
        pareto_curve([0.0, 0.0])
    with pytest.raises(InputError, match="positive total"):
        pareto_curve([5.0, -10.0])
    with pytest.raises(EmptyInputError):
        pareto_curve([])


def test_pareto_whale_curve_with_losses() -> None:
    curve = pareto_curve([100.0, 50.0, -50.0])
    assert curve.value_share.tolist() == pytest.approx([0, 1.0, 1.5, 1.0])
    assert curve.customers_for_target == pytest.approx(0.8 / 3)


@given(values_strategy.filter(lambda vs: sum(vs) > 1))
def test_pareto_properties(values: list[float]) -> None:
    array = np.array(values)
    curve = pareto_curve(array)
    assert curve.value_share[0] == 0 and curve.value_share[-1] == 1
    assert 0 < curve.customers_for_target <= 1
    steps = np.diff(curve.value_share)
    scale = 1e-9 * max(1.0, float(np.abs(curve.value_share).max()))
    assert np.all(np.diff(steps) <= scale)  # sorted descending: the curve is concave
    if np.all(array >= 0) and len(set(values)) == len(values):
        # whole customers needed for 80% equals the high tier (no ties)
        assert curve.n_customers_for_target == int((value_tiers(array) == "high").sum())


def test_thinned_keeps_end_points() -> None:
    curve = pareto_curve(np.arange(1, 1001, dtype=float))
    x, y = curve.thinned(50)
    assert len(x) <= 50 and x[0] == 0 and x[-1] == 1 and y[-1] == 1


def _tiers_by_sorting(values: np.ndarray, thresholds: tuple[float, ...]) -> np.ndarray:
    """The module docstring's rule, literally: positive value strictly above each value."""
    positive = np.where(values > 0, values, 0.0)
    total = positive.sum()
    index = np.full(len(values), len(thresholds))
    for i, v in enumerate(values):
        if v > 0:
            above = positive[positive > v].sum()
            index[i] = int(np.sum(np.asarray(thresholds) * total * (1 - 1e-12) <= above))
    return np.asarray(TIER_LABELS, dtype=object)[index]


@given(
    st.lists(
        st.one_of(
            st.sampled_from([0.0, 1.0, 2.5, -3.0, 10.0]),
            st.floats(-100, 1000, allow_nan=False, allow_infinity=False),
        ),
        max_size=60,
    )
)
def test_tier_cutoffs_agree_with_value_tiers(values: list[float]) -> None:
    array = np.asarray(values, dtype=float)
    tiers = value_tiers(array)
    assert list(tiers) == list(_tiers_by_sorting(array, (0.80, 0.95)))
    high, middle = tier_cutoffs(array)
    by_cutoffs = np.where(
        (array > 0) & (array >= high),
        "high",
        np.where((array > 0) & (array >= middle), "middle", "low"),
    )
    assert list(by_cutoffs) == list(tiers)
    assert high >= middle
