"""Gamma-Gamma spend model (``kehu.analytics.GammaGammaModel``) on CDNOW computed from the raw
transactions, recovery, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics import GammaGammaModel, load_cdnow_sample_transactions, load_cdnow_summary
from kehu.analytics.simulate import simulate_gamma_gamma
from kehu.errors import IdentificationError, InputError

CALIBRATION_END = np.datetime64("1997-09-30")


def cdnow_repeat_spend() -> tuple[np.ndarray, np.ndarray]:
    """Per CDNOW sample customer (ids 1..2357): the number of repeat purchase days in the
    calibration period 1997-01-01..1997-09-30 and the mean value of those days' purchases.
    Purchases on the same day are merged (summed) first; the first purchase day is excluded."""
    transactions = load_cdnow_sample_transactions()
    in_calibration = transactions.date <= CALIBRATION_END
    customer = transactions.sample_id[in_calibration]
    day = (transactions.date[in_calibration] - np.datetime64("1997-01-01")).astype(np.int64)
    value = transactions.dollar_value[in_calibration]
    day_key, row_to_day = np.unique(customer * 1000 + day, return_inverse=True)
    day_value = np.bincount(row_to_day, weights=value)
    day_customer = day_key // 1000  # day_key is sorted: by customer, then by day
    first_day = np.ones(len(day_key), dtype=bool)
    first_day[1:] = day_customer[1:] != day_customer[:-1]
    repeat_customer, repeat_value = day_customer[~first_day], day_value[~first_day]
    frequency = np.bincount(repeat_customer, minlength=2358)[1:].astype(float)
    total = np.bincount(repeat_customer, weights=repeat_value, minlength=2358)[1:]
    monetary_value = np.divide(total, frequency, out=np.zeros(2357), where=frequency > 0)
    return frequency, monetary_value


@pytest.fixture(scope="module")
def cdnow_spend() -> tuple[np.ndarray, np.ndarray]:
    return cdnow_repeat_spend()


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_spend: tuple[np.ndarray, np.ndarray]) -> GammaGammaModel:
    return GammaGammaModel().fit(*cdnow_spend)


def test_cdnow_has_946_repeat_customers(cdnow_spend: tuple[np.ndarray, np.ndarray]) -> None:
    """FHL 2005 (JMR) and Fader & Hardie (2013): 946 of the 2,357 customers made a repeat
    purchase in the 39-week calibration period; the frequencies agree with the summary file."""
    frequency, _ = cdnow_spend
    assert int((frequency > 0).sum()) == 946
    assert np.array_equal(frequency, load_cdnow_summary().frequency)


def test_cdnow_estimates_match_fader_hardie_lee_2005(cdnow_fit: GammaGammaModel) -> None:
    """Fader, Hardie & Lee (2005), "RFM and CLV", JMR 42(4); Fader & Hardie (2013), "The
    Gamma-Gamma Model of Monetary Value": p = 6.25, q = 3.74, gamma = 15.44 on the 946 CDNOW
    repeat customers. Pinned to one unit of the last published digit."""
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert abs(cdnow_fit.params_[name] - value) <= 0.01, name
    assert cdnow_fit.n_observations_ == 946


def test_expected_spend_matches_hardie_spreadsheet(
    cdnow_fit: GammaGammaModel, cdnow_spend: tuple[np.ndarray, np.ndarray]
) -> None:
    """The spreadsheet accompanying Fader & Hardie (2013) (brucehardie.com/notes/025): expected
    average transaction value of the first ten CDNOW customers, $35.17 being the population
    mean p·gamma/(q-1) given to customers without repeat purchases."""
    frequency, monetary_value = cdnow_spend
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    got = cdnow_fit.conditional_expected_spend(frequency[:10], monetary_value[:10])
    np.testing.assert_allclose(got, expected, atol=0.005)
    assert cdnow_fit.population_mean_spend == pytest.approx(35.17, abs=0.005)
    assert cdnow_fit.conditional_expected_spend(0, 0.0) == cdnow_fit.population_mean_spend


def test_recovers_parameters_from_simulated_customers() -> None:
    """20,000 customers with 1 + Poisson(2) repeat transactions: within 3 standard errors."""
    truth = (6.25, 3.74, 15.44)
    frequency = 1 + np.random.default_rng(3).poisson(2.0, 20_000)
    monetary_value = simulate_gamma_gamma(*truth, frequency, seed=1)
    model = GammaGammaModel().fit(frequency, monetary_value)
    for name, value in zip(model.param_names, truth, strict=True):
        assert abs(model.params_[name] - value) <= 3 * model.standard_errors_[name], name


@settings(max_examples=100, deadline=None)
@given(
    p=st.floats(0.1, 50),
    q=st.floats(1.05, 50),
    gamma=st.floats(0.01, 1e4),
    x=st.integers(0, 5000),
    m=st.floats(0.01, 1e6),
)
def test_expected_spend_is_finite_and_between_prior_and_own_mean(
    p: float, q: float, gamma: float, x: int, m: float
) -> None:
    model = GammaGammaModel.from_params({"p": p, "q": q, "gamma": gamma})
    spend = model.conditional_expected_spend(x, m if x > 0 else 0.0)
    prior = model.population_mean_spend
    assert np.isfinite(spend)
    if x > 0:
        assert min(prior, m) * (1 - 1e-9) <= spend <= max(prior, m) * (1 + 1e-9)
        assert np.isfinite(model.log_likelihood([x], [m]))


def test_identification_errors() -> None:
    with pytest.raises(IdentificationError, match="repeat"):
        GammaGammaModel().fit([0, 0, 0], [0.0, 0.0, 0.0])
    with pytest.raises(IdentificationError, match="monetary value of 0"):
        GammaGammaModel().fit([1, 2, 0], [0.0, 0.0, 0.0])
    with pytest.raises(IdentificationError, match="same mean spend"):
        GammaGammaModel().fit([1, 2, 3, 1], [10.0, 10.0, 10.0, 10.0])


def test_bad_input_names_field_and_row() -> None:
    with pytest.raises(InputError) as caught:
        GammaGammaModel().fit([1, 2, 1], [10.0, 0.0, 5.0])
    assert caught.value.column == "monetary_value" and caught.value.row == 2
    with pytest.raises(InputError) as caught:
        GammaGammaModel().fit([1, -2], [10.0, 5.0])
    assert caught.value.column == "frequency" and caught.value.row == 2
    with pytest.raises(InputError) as caught:
        GammaGammaModel().fit([1, 2], [10.0, float("nan")])
    assert caught.value.column == "monetary_value" and caught.value.row == 2
