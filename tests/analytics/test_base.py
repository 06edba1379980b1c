"""What a fit that fails says (:mod:`kehu.analytics._base` and every model's checks): every
:class:`~kehu.errors.ModelError` names its reason in words and what to try, and L-BFGS-B's
stopping messages (scipy 1.15+ reports a failed line search as a bare ``"ABNORMAL: "``) are
translated."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import optimize

from kehu.analytics import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    load_cdnow_summary,
)
from kehu.analytics import _base as base_module
from kehu.analytics._base import optimizer_advice, optimizer_reason
from kehu.errors import ConvergenceError, IdentificationError, ModelError, NotFittedError


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("ABNORMAL: ", "the line search found no step that improves the likelihood"),
        ("ABNORMAL_TERMINATION_IN_LNSRCH", "the line search found no step"),
        ("STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT", "ran out of iterations"),
        ("STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT", "ran out of iterations"),
        ("WARNING: ROUNDING ERRORS PREVENT PROGRESS", "rounding errors stopped the optimizer"),
        ("ERROR: NO FEASIBLE SOLUTION", "refused its starting point or bounds"),
        ("gave up", "stopped without a maximum (gave up)"),
        ("", "stopped without a maximum (no reason given)"),
    ],
)
def test_every_optimizer_stop_is_said_in_words(message: str, reason: str) -> None:
    assert reason in optimizer_reason(message)
    assert "coarser time unit" in optimizer_advice(message)


def test_a_fit_that_stops_in_the_line_search_names_the_reason_and_what_to_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def line_search_fails(objective, start, **options):  # type: ignore[no-untyped-def]
        # what scipy 1.17 returns when the line search fails: an empty text after the status
        return optimize.OptimizeResult(x=start, success=False, message="ABNORMAL: ", nit=4)

    monkeypatch.setattr(base_module.optimize, "minimize", line_search_fails)
    with pytest.raises(ConvergenceError) as caught:
        BetaGeoModel().fit(*load_cdnow_summary())
    error = caught.value
    assert error.reason.startswith(
        "BetaGeoModel did not converge: the line search found no step that improves the likelihood"
    )
    assert "(optimizer: ABNORMAL;" in error.reason
    assert "another model (MBG/NBD or Pareto/NBD)" in error.advice
    assert str(error) == f"{error.reason}. What to try: {error.advice}"
    # the advice never suggests the model that just failed
    with pytest.raises(ConvergenceError) as caught:
        ParetoNBDModel().fit(*load_cdnow_summary())
    assert "another model (MBG/NBD or BG/NBD)" in caught.value.advice


def _at_a_ridge(monkeypatch: pytest.MonkeyPatch) -> None:
    def runs_off(objective, start, **options):  # type: ignore[no-untyped-def]
        x = np.array(start, dtype=float)  # the optimizer works on log-parameters
        x[0] = 30.0  # a parameter at the e^30 bound: the likelihood rose all the way there
        return optimize.OptimizeResult(x=x, success=True, message="CONVERGENCE", nit=9)

    monkeypatch.setattr(base_module.optimize, "minimize", runs_off)


x_cdnow, t_cdnow, T_cdnow = load_cdnow_summary()
ZEROS = np.zeros(20)
TEN = np.full(20, 10.0)

#: every way a model can refuse, with a part of its reason and of its advice
FAILURES: list[tuple[str, Callable[[], object], type[ModelError], str, str]] = [
    (
        "BG/NBD without repeat buyers",
        lambda: BetaGeoModel().fit(ZEROS, ZEROS, TEN),
        IdentificationError,
        "no customer made a repeat purchase",
        "longer purchase history",
    ),
    (
        "BG/NBD with every weight 0",
        lambda: BetaGeoModel().fit([1.0], [1.0], [2.0], weights=[0.0]),
        IdentificationError,
        "every weight is 0",
        "weights > 0",
    ),
    (
        "MBG/NBD without repeat buyers",
        lambda: ModifiedBetaGeoModel().fit(ZEROS, ZEROS, TEN),
        IdentificationError,
        "no customer made a repeat purchase",
        "longer purchase history",
    ),
    (
        "Pareto/NBD without repeat buyers",
        lambda: ParetoNBDModel().fit(ZEROS, ZEROS, TEN),
        IdentificationError,
        "no customer made a repeat purchase",
        "longer purchase history",
    ),
    (
        "Pareto/NBD with no time observed",
        lambda: ParetoNBDModel().fit([1.0, 2.0], [0.0, 0.0], [0.0, 0.0]),
        IdentificationError,
        "every customer has T = 0",
        "observation end after the first purchases",
    ),
    (
        "Gamma-Gamma without repeat buyers",
        lambda: GammaGammaModel().fit([0, 0], [0.0, 0.0]),
        IdentificationError,
        "no customer has a repeat transaction",
        "longer purchase history",
    ),
    (
        "Gamma-Gamma with every spend 0",
        lambda: GammaGammaModel().fit([1, 2], [0.0, 0.0]),
        IdentificationError,
        "monetary value of 0",
        "check the amount column",
    ),
    (
        "Gamma-Gamma with one price",
        lambda: GammaGammaModel().fit([1, 2, 3], [5.0, 5.0, 5.0]),
        IdentificationError,
        "same mean spend",
        "check the amount column",
    ),
    (
        "Gamma-Gamma with q <= 1",
        lambda: (
            GammaGammaModel.from_params({"p": 2.0, "q": 0.9, "gamma": 3.0}).population_mean_spend
        ),
        IdentificationError,
        "population mean spend is infinite",
        "outliers or wrong units",
    ),
    (
        "Gamma-Gamma expected spend with p x + q <= 1",
        lambda: GammaGammaModel.from_params(
            {"p": 0.01, "q": 0.5, "gamma": 3.0}
        ).conditional_expected_spend(1, 10.0),
        IdentificationError,
        "expected spend is infinite",
        "outliers or wrong units",
    ),
    (
        "BG/BB without repeat transactions",
        lambda: BetaGeoBetaBinomModel().fit([0, 0], [0, 0], [6, 6]),
        IdentificationError,
        "no customer made a repeat transaction",
        "repeat opportunities",
    ),
    (
        "BG/BB with every opportunity taken",
        lambda: BetaGeoBetaBinomModel().fit([6, 6], [6, 6], [6, 6]),
        IdentificationError,
        "transacted at every opportunity",
        "repeat opportunities",
    ),
    (
        "a model used before fit",
        lambda: BetaGeoModel().expected_purchases(1.0),
        NotFittedError,
        "not fitted yet",
        "fit the model first",
    ),
]


@pytest.mark.parametrize(
    ("error_class", "call", "reason", "advice"),
    [pytest.param(c, f, r, a, id=name) for name, f, c, r, a in FAILURES],
)
def test_every_model_error_names_its_reason_and_what_to_try(
    error_class: type[ModelError], call: Callable[[], object], reason: str, advice: str
) -> None:
    with pytest.raises(error_class) as caught:
        call()
    assert reason in caught.value.reason
    assert caught.value.advice and advice in caught.value.advice
    assert "What to try: " in str(caught.value)


def test_a_parameter_at_the_bound_is_an_identification_error_with_advice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _at_a_ridge(monkeypatch)
    with pytest.raises(IdentificationError) as caught:
        BetaGeoModel().fit(x_cdnow, t_cdnow, T_cdnow)
    assert "the data cannot identify r" in caught.value.reason
    assert "coarser time unit" in caught.value.advice
