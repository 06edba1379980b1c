from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.analytics.holdout import holdout_errors, holdout_table
from kehu.errors import EmptyInputError, InputError

FREQUENCY = [0, 0, 1, 2, 2, 5, 9]
PREDICTED = [0.1, 0.3, 0.8, 1.5, 1.7, 3.0, 6.0]
ACTUAL = [0, 1, 1, 2, 1, 4, 5]


def test_holdout_table_by_hand() -> None:
    table = holdout_table(FREQUENCY, PREDICTED, ACTUAL, max_frequency=3)
    assert table.index.tolist() == ["0", "1", "2", "3+", "total"]
    assert table["n_customers"].tolist() == [2, 1, 2, 2, 7]
    assert table["n_customers"].dtype == np.int64
    assert table["mean_actual"].tolist() == pytest.approx([0.5, 1.0, 1.5, 4.5, 14 / 7])
    assert table["mean_predicted"].tolist() == pytest.approx([0.2, 0.8, 1.6, 4.5, 13.4 / 7])
    assert table["sum_actual"].tolist() == pytest.approx([1, 1, 3, 9, 14])
    assert table["sum_predicted"].tolist() == pytest.approx([0.4, 0.8, 3.2, 9.0, 13.4])


def test_holdout_table_keeps_empty_groups() -> None:
    table = holdout_table(FREQUENCY, PREDICTED, ACTUAL)  # 0..6, 7+
    assert table.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+", "total"]
    assert table.loc["3", "n_customers"] == 0
    assert table["mean_actual"].isna()["3"]
    assert table.loc["7+", "n_customers"] == 1


def test_weights_equal_repeated_rows() -> None:
    weighted = holdout_table([0, 1], [0.2, 1.0], [0, 2], weights=[3, 2])
    repeated = holdout_table([0, 0, 0, 1, 1], [0.2] * 3 + [1.0] * 2, [0, 0, 0, 2, 2])
    assert np.allclose(weighted.to_numpy(), repeated.to_numpy(), equal_nan=True)


def test_holdout_errors_by_hand() -> None:
    errors = holdout_errors(PREDICTED, ACTUAL)
    absolute = [0.1, 0.7, 0.2, 0.5, 0.7, 1.0, 1.0]
    assert errors.n_customers == 7
    assert errors.mae == pytest.approx(sum(absolute) / 7)
    assert errors.rmse == pytest.approx(math.sqrt(sum(a * a for a in absolute) / 7))
    assert errors.total_actual == 14
    assert errors.total_predicted == pytest.approx(13.4)
    assert errors.total_relative_error == pytest.approx(-0.6 / 14)


def test_holdout_errors_nothing_bought() -> None:
    errors = holdout_errors([0.5, 0.5], [0, 0])
    assert errors.mae == pytest.approx(0.5)
    assert math.isnan(errors.total_relative_error)


def test_holdout_input_checks() -> None:
    with pytest.raises(InputError, match="same length"):
        holdout_table([0, 1], [0.1], [0, 1])
    with pytest.raises(InputError, match="whole number"):
        holdout_table([0.5], [0.1], [0])
    with pytest.raises(InputError, match="negative"):
        holdout_table([0], [-0.1], [0])
    with pytest.raises(InputError, match="max_frequency"):
        holdout_table([0], [0.1], [0], max_frequency=-1)
    with pytest.raises(EmptyInputError):
        holdout_table([], [], [])
    with pytest.raises(InputError, match="weights"):
        holdout_errors([0.1], [0], weights=[1, 2])


@given(
    st.lists(
        st.tuples(
            st.integers(0, 12),
            st.floats(0, 20, allow_nan=False),
            st.integers(0, 20),
        ),
        min_size=1,
        max_size=50,
    ),
    st.integers(0, 8),
)
def test_groups_add_up_to_total(rows: list[tuple[int, float, int]], cap: int) -> None:
    frequency, predicted, actual = (list(c) for c in zip(*rows, strict=True))
    table = holdout_table(frequency, predicted, actual, max_frequency=cap)
    groups = table.drop(index="total")
    assert len(groups) == cap + 1
    assert groups["n_customers"].sum() == len(rows) == table.loc["total", "n_customers"]
    assert groups["sum_actual"].sum() == pytest.approx(sum(actual))
    assert groups["sum_predicted"].sum() == pytest.approx(sum(predicted))
    assert table.loc["total", "mean_actual"] == pytest.approx(np.mean(actual))
