"""Row compression (``kehu.analytics._base.compress_rows`` / ``group_rows``): identical rows are
merged with their weights summed, on every path (whole numbers, regular grids such as days in
weeks, arbitrary floats), and the result is exactly the brute-force grouping."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics._base import compress_rows, group_rows


def brute_force(columns: list[np.ndarray], weights: np.ndarray) -> dict[tuple[float, ...], float]:
    totals: dict[tuple[float, ...], float] = defaultdict(float)
    for row, weight in zip(zip(*columns, strict=True), weights, strict=True):
        totals[tuple(float(v) for v in row)] += float(weight)
    return dict(totals)


def assert_compressed_correctly(columns: list[np.ndarray], weights: np.ndarray) -> None:
    unique, summed = compress_rows(columns, weights)
    expected = brute_force(columns, weights)
    got = {tuple(float(c[i]) for c in unique): float(summed[i]) for i in range(len(summed))}
    assert len(got) == len(summed) == len(expected)
    assert got.keys() == expected.keys()
    for key, total in expected.items():
        assert got[key] == pytest.approx(total, rel=1e-12, abs=1e-12)
    # lexicographic order of the distinct rows
    order = np.lexsort(tuple(reversed(unique)))
    assert np.array_equal(order, np.arange(len(summed)))
    # group_rows maps every row to its distinct row
    distinct, group_of_row = group_rows(columns)
    for d, c in zip(distinct, columns, strict=True):
        assert np.array_equal(d[group_of_row], c)


def test_whole_numbers_are_merged_and_weights_summed() -> None:
    frequency = np.array([0, 1, 0, 1, 2, 0], dtype=float)
    recency = np.array([0, 3, 0, 3, 5, 0], dtype=float)
    age = np.array([10, 10, 10, 10, 10, 12], dtype=float)
    unique, summed = compress_rows([frequency, recency, age])
    assert [list(c) for c in unique] == [[0, 0, 1, 2], [0, 0, 3, 5], [10, 12, 10, 10]]
    assert list(summed) == [2, 1, 2, 1]


def test_days_expressed_in_weeks_take_the_grid_path_exactly() -> None:
    rng = np.random.default_rng(3)
    days = rng.integers(0, 546, 5000)
    columns = [rng.integers(0, 5, 5000).astype(float), days / 7.0, (days + 3) / 7.0]
    assert_compressed_correctly(columns, rng.uniform(0, 2, 5000))


def test_values_closer_than_the_grid_step_are_not_merged() -> None:
    # 1/7 and 1/7 + 1e-12 round to the same grid point: they must still stay distinct rows.
    values = np.array([1 / 7, 1 / 7 + 1e-12, 2 / 7, 1 / 7, 3 / 7])
    columns = [np.zeros(5), values]
    assert_compressed_correctly(columns, np.ones(5))
    _, summed = compress_rows(columns)
    assert len(summed) == 4


def test_arbitrary_floats_and_negative_values() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(size=50)
    columns = [rng.choice(base, 2000), rng.choice(base[:5], 2000), rng.integers(-3, 3, 2000) * 1.0]
    assert_compressed_correctly(columns, rng.uniform(0, 1, 2000))


def test_empty_input() -> None:
    unique, summed = compress_rows([np.array([]), np.array([])])
    assert [len(c) for c in unique] == [0, 0]
    assert len(summed) == 0


def test_huge_key_range_falls_back_to_sorting() -> None:
    rng = np.random.default_rng(11)
    columns = [rng.integers(0, 2**40, 300).astype(float) for _ in range(3)]
    columns[0][:100] = columns[0][100:200]
    columns[1][:100] = columns[1][100:200]
    columns[2][:100] = columns[2][100:200]
    assert_compressed_correctly(columns, np.ones(300))


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.sampled_from([0.0, 1 / 7, 2 / 7, 0.5, 3.25, 1e-9, 1e6]),
            st.integers(0, 3).map(lambda d: d / 7.0),
        ),
        min_size=1,
        max_size=60,
    ),
    weight_seed=st.integers(0, 2**16),
)
def test_compression_matches_brute_force(
    rows: list[tuple[int, float, float]], weight_seed: int
) -> None:
    columns = [np.array([float(r[i]) for r in rows]) for i in range(3)]
    weights = np.random.default_rng(weight_seed).uniform(0, 3, len(rows))
    assert_compressed_correctly(columns, weights)
