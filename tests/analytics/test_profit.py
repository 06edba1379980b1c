from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.analytics.profit import customer_profit, profit_of
from kehu.errors import InputError


def test_profit_from_cost_by_hand() -> None:
    table = customer_profit(
        [1000.0, 400.0, 50.0],
        cost=[600.0, 250.0, 30.0],
        cost_to_serve=[450.0, 20.0, np.nan],
        index=["big", "mid", "small"],
    )
    assert table["margin"].to_dict() == {"big": 400.0, "mid": 150.0, "small": 20.0}
    assert table["cost_to_serve"].to_dict() == {"big": 450.0, "mid": 20.0, "small": 0.0}
    assert table["profit"].to_dict() == {"big": -50.0, "mid": 130.0, "small": 20.0}
    # the largest customer is not the most profitable one
    assert table["profitable"].to_dict() == {"big": False, "mid": True, "small": True}


def test_profit_from_margin_rate() -> None:
    table = customer_profit([200.0, 100.0], margin_rate=0.25, cost_to_serve=60.0)
    assert table["margin"].tolist() == [50.0, 25.0]
    assert table["profit"].tolist() == [-10.0, -35.0]
    per_customer = customer_profit([200.0, 100.0], margin_rate=[0.5, 0.1])
    assert per_customer["profit"].tolist() == [100.0, 10.0]
    assert per_customer["cost_to_serve"].tolist() == [0.0, 0.0]


def test_zero_profit_is_not_profitable() -> None:
    assert customer_profit([10.0], cost=[10.0])["profitable"].tolist() == [False]


def test_profit_input_checks() -> None:
    with pytest.raises(InputError, match="exactly one"):
        customer_profit([1.0])
    with pytest.raises(InputError, match="exactly one"):
        customer_profit([1.0], cost=[0.5], margin_rate=0.5)
    with pytest.raises(InputError, match="at most 1"):
        customer_profit([1.0], margin_rate=1.5)
    with pytest.raises(InputError, match="length"):
        customer_profit([1.0, 2.0], cost=[1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="cost"):
        customer_profit([1.0], cost=[np.nan])


def test_profit_of_is_exact_decimal() -> None:
    assert profit_of(Decimal("0.30"), cost=Decimal("0.10"), cost_to_serve=Decimal("0.10")) == (
        Decimal("0.10")
    )
    assert profit_of(Decimal("19.99"), margin_rate=Decimal("0.3")) == Decimal("5.997")
    assert profit_of(Decimal("5"), cost=Decimal("7")) == Decimal("-2")
    with pytest.raises(InputError, match="Decimal"):
        profit_of(0.3, cost=Decimal("0.1"))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="exactly one"):
        profit_of(Decimal("1"))
    with pytest.raises(InputError, match="at most 1"):
        profit_of(Decimal("1"), margin_rate=Decimal("1.01"))
    with pytest.raises(InputError, match="finite"):
        profit_of(Decimal("NaN"), cost=Decimal("1"))


money = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False)


@given(st.lists(st.tuples(money, money, money), min_size=1, max_size=30))
def test_float_and_decimal_paths_agree(rows: list[tuple[Decimal, Decimal, Decimal]]) -> None:
    amount, cost, serve = (list(c) for c in zip(*rows, strict=True))
    table = customer_profit(
        [float(a) for a in amount],
        cost=[float(c) for c in cost],
        cost_to_serve=[float(s) for s in serve],
    )
    exact = [profit_of(a, cost=c, cost_to_serve=s) for a, c, s in rows]
    assert table["profit"].to_numpy() == pytest.approx([float(e) for e in exact], abs=1e-6)
    assert table["profitable"].tolist() == [e > 0 for e in exact]
