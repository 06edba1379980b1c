"""The published CDNOW estimates, reproduced from the raw transaction log through the warehouse.

The model tests in ``tests/analytics`` pin the same figures from the published summary file; here
the whole production path is exercised: ``CDNOW_sample.txt`` -> Ibis/DuckDB summary (39 weeks,
1997-01-01..1997-09-30, elapsed days / 7) -> compressed rows -> fit.

References
----------
- BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
  Pareto/NBD Model", Marketing Science 24(2), 275-284: r = 0.243, alpha = 4.414, a = 0.793,
  b = 2.426, LL = -9582.4.
- Pareto/NBD: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
  Analysis", JMR 42(4), 415-430: r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669,
  LL = -9595.0.
- Gamma-Gamma on the 946 repeat buyers: Fader, Hardie & Lee (2005, JMR) and Fader & Hardie (2013),
  "The Gamma-Gamma Model of Monetary Value": p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

from datetime import date
from importlib import resources

import numpy as np
import pytest

from kehu.analytics import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from kehu.warehouse import compress, customer_summary, read_cdnow, to_arrow


@pytest.fixture(scope="module")
def summary():  # type: ignore[no-untyped-def]
    with resources.as_file(resources.files("kehu") / "data" / "CDNOW_sample.txt") as path:
        transactions = read_cdnow(path)
        result = customer_summary(transactions, date(1997, 9, 30), unit="week")
        table = to_arrow(result.table).to_pandas()
        compressed = to_arrow(compress(result)).to_pandas()
    return table, compressed


def _fit(model, compressed):  # type: ignore[no-untyped-def]
    return model.fit(
        compressed["frequency"].to_numpy(float),
        compressed["recency"].to_numpy(float),
        compressed["T"].to_numpy(float),
        weights=compressed["weight"].to_numpy(float),
    )


def test_the_sample_has_2357_customers_and_946_repeat_buyers(summary) -> None:  # type: ignore[no-untyped-def]
    table, compressed = summary
    assert len(table) == 2357
    assert int((table["frequency"] > 0).sum()) == 946
    assert compressed["weight"].sum() == 2357


def test_bgnbd_from_raw_log_matches_fader_hardie_lee_2005(summary) -> None:  # type: ignore[no-untyped-def]
    _, compressed = summary
    model = _fit(BetaGeoModel(), compressed)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, abs=0.001), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)


def test_pareto_nbd_from_raw_log_matches_fader_hardie_lee_2005(summary) -> None:  # type: ignore[no-untyped-def]
    _, compressed = summary
    model = _fit(ParetoNBDModel(), compressed)
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, abs=0.001), name
    assert model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_gamma_gamma_from_raw_log_matches_fader_hardie_2013(summary) -> None:  # type: ignore[no-untyped-def]
    table, _ = summary
    repeat = table[table["frequency"] > 0]
    model = GammaGammaModel().fit(
        repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy(float)
    )
    published = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, abs=0.01), name
    assert np.all(np.isfinite(model.conditional_expected_spend(repeat["frequency"], 0.0)))
