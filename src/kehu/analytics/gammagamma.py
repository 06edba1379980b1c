"""The Gamma-Gamma model of the monetary value of repeat transactions.

References: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430 (section
"Adding monetary value"); Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
Monetary Value", note 025 at brucehardie.com — "the note" below.

Story (after Colombo & Jiang 1999): a customer's transaction values are i.i.d. ``Gamma(p, nu)``
(shape p, rate nu), so her mean transaction value is ``p / nu``; across customers
``nu ~ Gamma(q, gamma)`` (shape q, rate gamma). With ``x`` repeat transactions of mean value
``m`` (the first purchase excluded, as in the papers), the model is fitted to the distribution of
``m`` given ``x`` (the note's marginal density of the observed mean)::

    f(m | p, q, γ, x) = Γ(px + q) / (Γ(px) Γ(q)) · γ^q m^(px-1) x^(px) / (γ + m x)^(px+q)

and the expected mean transaction value of a customer (the note's conditional expectation)::

    E(M | p, q, γ, m, x) = (p (γ + m x)) / (p x + q - 1)
                         = (q-1)/(px+q-1) · pγ/(q-1) + px/(px+q-1) · m,

a weighted average of the population mean ``p γ / (q - 1)`` and the customer's own mean.
The model assumes spend independent of the purchase process; check the correlation of ``x``
and ``m`` before relying on it (the papers find it negligible on CDNOW).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from kehu.analytics._base import (
    BaseModel,
    FloatArray,
    as_float_array,
    check_weights,
    compress_rows,
    weighted_sum,
)
from kehu.errors import N_, IdentificationError, InputError


class GammaGammaModel(BaseModel):
    """Gamma-Gamma spend model: parameters ``p, q, gamma`` (Fader & Hardie 2013 note).

    Only customers with at least one repeat transaction (``frequency > 0``) inform the fit; the
    others are ignored (their monetary value, often recorded as 0, is not used). On the 946
    repeat customers of the CDNOW sample FHL (2005, JMR) report p = 6.25, q = 3.74,
    gamma = 15.44.
    """

    param_names = ("p", "q", "gamma")

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
        initial_params: ArrayLike | None = None,
    ) -> GammaGammaModel:
        """Estimate ``p, q, gamma`` by maximum likelihood; returns ``self``.

        ``frequency`` is the number of repeat transactions and ``monetary_value`` their mean
        value. Raises :class:`~kehu.errors.InputError` for malformed rows (a repeat customer's
        monetary value must be > 0: the model has no zero spend),
        :class:`~kehu.errors.IdentificationError` when there is no repeat customer with a
        positive spend, and :class:`~kehu.errors.ConvergenceError` when the optimiser fails.
        """
        x, m = _check_spend(frequency, monetary_value)
        w = check_weights(weights, len(x))
        repeat = (x > 0) & (w > 0)
        if not repeat.any():
            raise IdentificationError(
                N_(
                    "Gamma-Gamma cannot be estimated: no customer has a repeat transaction "
                    "(frequency > 0), and only repeat transactions carry monetary information"
                ),
                advice=N_(
                    "wait for a longer purchase history (or import one); until then no expected "
                    "spend or CLV can be estimated"
                ),
            )
        if not np.any(m[repeat] > 0):
            raise IdentificationError(
                N_(
                    "Gamma-Gamma cannot be estimated: every repeat customer has a monetary "
                    "value of 0"
                ),
                advice=N_("check the amount column: it may be the wrong one, or in the wrong unit"),
            )
        zero_spend = repeat & (m <= 0)
        if zero_spend.any():
            index = int(np.flatnonzero(zero_spend)[0])
            raise InputError(
                "monetary_value must be > 0 for a customer with repeat transactions (the "
                "Gamma-Gamma model has no zero spend; drop or correct such customers)",
                row=index + 1,
                column="monetary_value",
                value=float(m[index]),
            )
        if np.ptp(m[repeat]) == 0:
            raise IdentificationError(
                N_(
                    "Gamma-Gamma cannot be estimated: every repeat customer has the same mean "
                    "spend (%(spend)g), so the spread of spends (p, q) is not determined"
                ),
                values={"spend": float(m[repeat][0])},
                advice=N_(
                    "with one price the spend needs no model: check the amount column, or wait "
                    "for purchases of different values"
                ),
            )
        (x_rows, m_rows), w_rows = compress_rows([x[repeat], m[repeat]], w[repeat])
        self._fit_rows((x_rows, m_rows), w_rows, initial_params)
        self._require_identified()
        return self

    def _initial_params(self, *data: FloatArray, weights: FloatArray) -> FloatArray:
        _, monetary = data
        mean_spend = float(weighted_sum(monetary, weights)) / float(weights.sum())
        # p γ / (q - 1) = mean spend at p = 2, q = 3.
        return np.array([2.0, 3.0, max(mean_spend, 1e-6)])

    def _log_likelihood_rows(self, params: FloatArray, *data: Any) -> FloatArray:
        """Per-row log of the note's density f(m | p, q, γ, x) of a customer's mean spend."""
        p, q, gamma = params
        x, m = data
        px = p * x
        ll = (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(gamma)
            + (px - 1.0) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(gamma + m * x)
        )
        return np.asarray(ll, dtype=np.float64)

    def _log_likelihood_gradient_rows(self, params: FloatArray, *data: Any) -> FloatArray | None:
        p, q, gamma = params
        x, m = data
        px = p * x
        digamma_pxq = special.digamma(px + q)
        log_gamma_mx = np.log(gamma + m * x)
        d_p = x * (digamma_pxq - special.digamma(px) + np.log(m) + np.log(x) - log_gamma_mx)
        d_q = digamma_pxq - special.digamma(q) + np.log(gamma) - log_gamma_mx
        d_gamma = q / gamma - (px + q) / (gamma + m * x)
        return np.vstack([d_p, d_q, d_gamma])

    def log_likelihood(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
        params: Mapping[str, float] | None = None,
    ) -> float:
        """Total log-likelihood of the repeat customers' mean spends (weights counted) at the
        fitted ``params_`` or at ``params``."""
        x, m = _check_spend(frequency, monetary_value)
        w = check_weights(weights, len(x))
        model = self if params is None else type(self).from_params(params)
        values = model._check_fitted()
        repeat = x > 0
        with np.errstate(all="ignore"):
            rows = self._log_likelihood_rows(values, x[repeat], m[repeat])
        return float(weighted_sum(rows, w[repeat]))

    @property
    def population_mean_spend(self) -> float:
        """E(M) = p γ / (q - 1), the mean transaction value across customers (infinite if
        q <= 1, which raises :class:`~kehu.errors.IdentificationError`)."""
        p, q, gamma = self._check_fitted()
        if q <= 1.0:
            raise IdentificationError(
                N_("Gamma-Gamma q = %(q).4g <= 1: the population mean spend is infinite"),
                values={"q": q},
                advice=N_(
                    "a few extreme spends dominate: check the amounts for outliers or wrong "
                    "units (cents as dollars), or wait for more repeat buyers"
                ),
            )
        return float(p * gamma / (q - 1.0))

    def conditional_expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Any:
        """E(M | p, q, γ, m, x): expected mean transaction value of each customer.

        ``p (γ + m x) / (p x + q - 1)`` (the note; FHL 2005 JMR), which for x = 0 is the
        population mean ``p γ / (q - 1)``. Returns a float for scalar input, else an array.
        """
        p, q, gamma = self._check_fitted()
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        x, m = np.broadcast_arrays(x, m)
        _check_spend(x.ravel(), m.ravel())
        denominator = p * x + q - 1.0
        if np.any(denominator <= 0):
            raise IdentificationError(
                N_(
                    "Gamma-Gamma q = %(q).4g: the expected spend is infinite for customers with "
                    "few repeat transactions (p x + q <= 1)"
                ),
                values={"q": q},
                advice=N_(
                    "a few extreme spends dominate: check the amounts for outliers or wrong "
                    "units (cents as dollars), or wait for more repeat buyers"
                ),
            )
        result = p * (gamma + m * x) / denominator
        if np.ndim(frequency) == 0 and np.ndim(monetary_value) == 0:
            return float(result)
        return np.asarray(result, dtype=np.float64)


def _check_spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise InputError(
            f"frequency and monetary_value must have the same length, got {len(x)} and {len(m)}"
        )
    for name, values, bad, message in (
        ("frequency", x, x < 0, "must be >= 0"),
        ("frequency", x, x != np.floor(x), "must be a whole number of repeat transactions"),
        ("monetary_value", m, m < 0, "must be >= 0"),
    ):
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{name} {message}", row=index + 1, column=name, value=float(values[index])
            )
    return x, m
