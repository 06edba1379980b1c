"""``compute_value`` computes expected spend and CLV in the engine (an Ibis expression); they must
equal what the analytics library gives for the same fitted models."""

from __future__ import annotations

from datetime import date
from importlib import resources

import numpy as np
import pytest

from kehu.analytics import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from kehu.analytics.rfm import rfm_segments
from kehu.value.schemas import ValueOptions
from kehu.value.service import compute_value
from kehu.warehouse import read_cdnow


def test_engine_spend_and_clv_equal_the_analytics_library() -> None:
    with resources.as_file(resources.files("kehu") / "data" / "CDNOW_sample.txt") as path:
        result = compute_value(
            read_cdnow(path),
            ValueOptions(observation_end=date(1997, 9, 30), unit="week", horizon=52, model="bgnbd"),
        )
    scores = result.scores
    transaction_params, spend_params = (m["params"] for m in result.models)
    transactions = BetaGeoModel.from_params(transaction_params)
    spend = GammaGammaModel.from_params(spend_params)
    x = scores["frequency"].to_numpy(float)
    monetary = scores["monetary_value"].astype("float64").fillna(0).to_numpy()
    expected_spend = spend.conditional_expected_spend(x, monetary)
    np.testing.assert_allclose(scores["expected_spend"], expected_spend, rtol=1e-9)
    clv = customer_lifetime_value(
        transactions,
        expected_spend,
        x,
        scores["recency"].to_numpy(float),
        scores["T"].to_numpy(float),
        horizon=52,
        discount_rate_per_period=result.options.discount_rate_per_unit,
    )
    # no cost or margin given: CLV is on revenue (margin rate 1)
    np.testing.assert_allclose(scores["clv"], clv, rtol=1e-9)
    segments = rfm_segments(scores["r_score"], (scores["f_score"] + scores["m_score"] + 1) // 2)
    assert list(scores["rfm_segment"]) == list(segments)
    assert scores["clv"].sum() == pytest.approx(float(np.sum(clv)))
