"""``compute_value`` computes expected spend and CLV in the engine (an Ibis expression); they must
equal what the analytics library gives for the same fitted models."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kehu.analytics import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from kehu.analytics.rfm import rfm_segments
from kehu.analytics.uncertainty import ParameterUncertainty
from kehu.value.schemas import ValueOptions
from kehu.value.service import INTERVAL_SCORES, compute_value, write_scores
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


def test_the_run_gives_every_customer_intervals_around_the_scores(tmp_path: Path) -> None:
    """The run's interval columns are kehu.analytics.uncertainty's for the run's fitted models,
    seed and margin rate; they hold the point scores; the scores file has them; a run asked for
    no draws has none (the columns stay, empty)."""
    with resources.as_file(resources.files("kehu") / "data" / "CDNOW_sample.txt") as path:
        transactions = read_cdnow(path)
        # BG/NBD, as the check below refits it (auto would choose by BIC)
        options = ValueOptions(
            observation_end=date(1997, 9, 30), unit="week", horizon=52, model="bgnbd"
        )
        result = compute_value(transactions, options)
        no_intervals = compute_value(transactions, options.model_copy(update={"interval_draws": 0}))
    scores = result.scores
    assert result.diagnostics["intervals"]["draws"] == 200
    assert result.diagnostics["intervals"]["level"] == 0.9
    for name in INTERVAL_SCORES:
        low, high = scores[f"{name}_low"], scores[f"{name}_high"]
        assert low.notna().all() and high.notna().all(), name
        # the point estimate lies inside (up to rounding at the ends for certain values)
        assert (low <= scores[name] * (1 + 1e-9) + 1e-12).all(), name
        assert (scores[name] <= high * (1 + 1e-9) + 1e-12).all(), name
        assert no_intervals.scores[f"{name}_low"].isna().all(), name
    assert (scores["clv_low"] < scores["clv_high"]).all()

    transaction_model = BetaGeoModel().fit(scores["frequency"], scores["recency"], scores["T"])
    repeat = scores["frequency"] > 0
    spend_model = GammaGammaModel().fit(
        scores["frequency"][repeat], scores["monetary_value"][repeat].astype(float)
    )
    expected = (
        ParameterUncertainty(seed=0)
        .fit(
            transaction_model,
            spend_model,
            frequency=scores["frequency"],
            recency=scores["recency"],
            T=scores["T"],
        )
        .predict(
            scores["frequency"],
            scores["recency"],
            scores["T"],
            horizon=52,
            discount_rate_per_period=options.discount_rate_per_unit,
            monetary_value=scores["monetary_value"].astype(float),
        )
    )
    np.testing.assert_allclose(
        scores["expected_purchases_low"], expected.expected_purchases.low, rtol=1e-6
    )
    assert expected.clv is not None
    np.testing.assert_allclose(scores["clv_high"], expected.clv.high, rtol=1e-6)

    written = pd.read_csv(write_scores(result, tmp_path / "scores.csv"))
    assert [f"{name}_{end}" for name in INTERVAL_SCORES for end in ("low", "high")] == [
        c for c in written.columns if c.endswith(("_low", "_high"))
    ]
    np.testing.assert_allclose(written["clv_low"], scores["clv_low"], rtol=1e-12)
