from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.analytics.rfm import (
    SEGMENT_MAP,
    SEGMENT_NAMES,
    SEGMENTS,
    fm_score,
    quantile_scores,
    rfm_from_transactions,
    rfm_segments,
    rfm_table,
)
from kehu.errors import ColumnsError, EmptyInputError, InputError


def test_quantile_scores_without_ties_are_even_quintiles() -> None:
    values = np.array([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
    scores = quantile_scores(values)
    # sorted 1..10 -> 1,1,2,2,3,3,4,4,5,5
    expected = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5}
    assert scores.tolist() == [expected[v] for v in values]


def test_quantile_scores_seven_values_by_hand() -> None:
    # 1 + floor(5 * b / 7) for b = 0..6
    assert quantile_scores(np.arange(7)).tolist() == [1, 1, 2, 3, 3, 4, 5]


def test_heavy_ties_share_a_score() -> None:
    # 6 of 10 customers bought on one day only: all score 1; the next value has 6 below -> 4
    frequency = [1, 1, 1, 1, 1, 1, 2, 2, 3, 7]
    assert quantile_scores(frequency).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_all_equal_values_score_one() -> None:
    assert quantile_scores([3.0] * 8).tolist() == [1] * 8


def test_recency_fewer_days_is_better() -> None:
    days = [0, 10, 20, 30, 40]
    assert quantile_scores(days, higher_is_better=False).tolist() == [5, 4, 3, 2, 1]


def test_quantile_scores_edge_cases() -> None:
    assert quantile_scores([]).tolist() == []
    assert quantile_scores([42.0]).tolist() == [1]
    with pytest.raises(InputError, match="values"):
        quantile_scores([1.0, np.nan])
    with pytest.raises(InputError):
        quantile_scores([1.0], n_scores=0)


@given(
    st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=60),
    st.booleans(),
)
def test_scores_properties(values: list[int], higher_is_better: bool) -> None:
    scores = quantile_scores(values, higher_is_better=higher_is_better)
    array = np.array(values)
    assert scores.min() >= 1 and scores.max() <= 5
    # identical values, identical score
    for v in set(values):
        assert len(set(scores[array == v])) == 1
    # better value, at least as good a score; worst value scores 1
    keys = array if higher_is_better else -array
    order = np.argsort(keys, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)
    assert set(scores[keys == keys.min()]) == {1}
    # independent of row order
    permutation = np.random.default_rng(len(values)).permutation(len(values))
    assert np.array_equal(
        quantile_scores(array[permutation], higher_is_better=higher_is_better),
        scores[permutation],
    )


def test_fm_score_rounds_halves_up() -> None:
    assert fm_score([1, 1, 2, 5, 4], [1, 2, 3, 5, 1]).tolist() == [1, 2, 3, 5, 3]


def test_segment_map_covers_every_cell_once() -> None:
    assert set(SEGMENT_MAP) == {(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert set(SEGMENT_MAP.values()) == set(SEGMENTS)
    assert set(SEGMENT_NAMES) == set(SEGMENTS)
    for names in SEGMENT_NAMES.values():
        assert names["en"] and names["zh"]


@pytest.mark.parametrize(
    ("r", "fm", "segment"),
    [
        (5, 5, "champions"),
        (5, 4, "champions"),
        (4, 5, "loyal_customers"),
        (3, 4, "loyal_customers"),
        (5, 2, "potential_loyalists"),
        (4, 3, "potential_loyalists"),
        (5, 1, "new_customers"),
        (4, 1, "promising"),
        (3, 3, "need_attention"),
        (3, 1, "about_to_sleep"),
        (3, 2, "about_to_sleep"),
        (2, 3, "at_risk"),
        (1, 4, "at_risk"),
        (1, 5, "cannot_lose_them"),
        (2, 5, "cannot_lose_them"),
        (2, 1, "hibernating"),
        (2, 2, "hibernating"),
        (1, 1, "lost"),
        (1, 2, "lost"),
    ],
)
def test_segment_rules(r: int, fm: int, segment: str) -> None:
    assert rfm_segments([r], [fm]).tolist() == [segment]


def test_segments_reject_scores_out_of_range() -> None:
    with pytest.raises(InputError, match="r_score"):
        rfm_segments([6], [1])
    with pytest.raises(InputError, match="fm"):
        rfm_segments([1], [0])


def test_rfm_table_by_hand() -> None:
    table = rfm_table(
        recency_days=[5, 100, 30, 5, 300],
        frequency=[10, 1, 3, 6, 1],
        monetary=[500.0, 20.0, 90.0, 250.0, 15.0],
        index=["a", "b", "c", "d", "e"],
    )
    # recency: 5,5 best (3 worse -> 1 + 15//5 = 4), 30 -> 3, 100 -> 2, 300 -> 1
    assert table["r_score"].to_dict() == {"a": 4, "b": 2, "c": 3, "d": 4, "e": 1}
    assert table["f_score"].to_dict() == {"a": 5, "b": 1, "c": 3, "d": 4, "e": 1}
    assert table["m_score"].to_dict() == {"a": 5, "b": 2, "c": 3, "d": 4, "e": 1}
    assert table["fm_score"].to_dict() == {"a": 5, "b": 2, "c": 3, "d": 4, "e": 1}
    assert table["rfm_code"].to_dict() == {"a": "455", "b": "212", "c": "333", "d": "444",
                                           "e": "111"}  # fmt: skip
    assert table["segment"].to_dict() == {
        "a": "loyal_customers",
        "b": "hibernating",
        "c": "need_attention",
        "d": "loyal_customers",
        "e": "lost",
    }


def test_rfm_table_checks_inputs() -> None:
    with pytest.raises(InputError, match="same length"):
        rfm_table([1, 2], [1], [1, 2])
    with pytest.raises(InputError, match="recency_days"):
        rfm_table([-1, 2], [1, 1], [1, 2])
    assert rfm_table([], [], []).empty


def test_rfm_from_transactions() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["x", "x", "x", "y", "z", "z"],
            "date": [
                pd.Timestamp(d)
                for d in (
                    "2024-01-01",
                    "2024-01-01 15:00",
                    "2024-01-20",
                    "2024-01-10",
                    "2024-01-05",
                    "2024-02-05",
                )
            ],
            "amount": [10.0, 5.0, 20.0, 7.0, 3.0, 1000.0],
        }
    )
    table = rfm_from_transactions(log, "2024-01-31")
    assert table.index.tolist() == ["x", "y", "z"]
    assert table["recency_days"].tolist() == [11, 21, 26]
    assert table["frequency"].tolist() == [2, 1, 1]  # same day counts once; after end ignored
    assert table["monetary"].tolist() == [35.0, 7.0, 3.0]
    with pytest.raises(ColumnsError, match="amount"):
        rfm_from_transactions(log.drop(columns="amount"), "2024-01-31")
    with pytest.raises(EmptyInputError):
        rfm_from_transactions(log, "2023-01-01")
