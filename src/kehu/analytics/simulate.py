"""Draw synthetic customers from the BG/NBD, MBG/NBD and Gamma-Gamma models with known parameters.

Used to check that each estimator recovers the parameters it was given, and to build benchmark
data of any size. Every simulator takes a ``seed`` (an int, a ``numpy.random.Generator`` or None)
and is vectorised: no loop over customers or purchases.

BG/NBD (Fader, Hardie & Lee 2005, Marketing Science 24(2), section 2): ``lambda ~ Gamma(r,
alpha)`` (rate alpha), ``p ~ Beta(a, b)``; purchases follow a Poisson process of rate lambda and
after each one the customer drops out with probability p. The number of purchases she would ever
make is therefore geometric on {1, 2, ...}; the MBG/NBD (Batislam, Denizel & Filiztekin 2007)
adds a dropout chance at time 0, making it geometric on {0, 1, ...}. Given N purchases of the
Poisson process in (0, T], their times are N uniform order statistics, so the time of the X-th
is ``T · Beta(X, N - X + 1)``: no purchase times need to be drawn.

Gamma-Gamma (Fader, Hardie & Lee 2005, JMR 42(4); Fader & Hardie 2013 note): each customer's
transaction values are Gamma(p, nu) with ``nu ~ Gamma(q, gamma)`` (rate gamma); the mean of x of
them is ``Gamma(p·x, nu) / x``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from kehu.analytics._base import FloatArray
from kehu.analytics.datasets import CustomerSummary
from kehu.errors import InputError

Seed = int | np.random.Generator | None


def simulate_bgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,
    *,
    n_customers: int | None = None,
    seed: Seed = None,
) -> CustomerSummary:
    """Customers drawn from the BG/NBD model, observed for ``T`` time units after their first
    purchase (an array, one per customer, or a scalar with ``n_customers``)."""
    return _simulate_beta_geometric(r, alpha, a, b, T, n_customers, seed, dropout_at_start=False)


def simulate_mbgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,
    *,
    n_customers: int | None = None,
    seed: Seed = None,
) -> CustomerSummary:
    """Customers drawn from the MBG/NBD model (dropout also possible at time 0)."""
    return _simulate_beta_geometric(r, alpha, a, b, T, n_customers, seed, dropout_at_start=True)


def simulate_gamma_gamma(
    p: float, q: float, gamma: float, frequency: ArrayLike, *, seed: Seed = None
) -> FloatArray:
    """Mean value of each customer's ``frequency`` repeat transactions under the Gamma-Gamma
    model (0 where frequency is 0, as in the usual summaries)."""
    _check_positive(p=p, q=q, gamma=gamma)
    rng = np.random.default_rng(seed)
    x = np.atleast_1d(np.asarray(frequency, dtype=np.float64))
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise InputError("frequency must be whole numbers >= 0", column="frequency")
    nu = rng.gamma(q, 1.0 / gamma, size=len(x))
    repeat = x > 0
    monetary = np.zeros(len(x))
    monetary[repeat] = rng.gamma(p * x[repeat], 1.0 / nu[repeat]) / x[repeat]
    return monetary


def _simulate_beta_geometric(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,
    n_customers: int | None,
    seed: Seed,
    *,
    dropout_at_start: bool,
) -> CustomerSummary:
    _check_positive(r=r, alpha=alpha, a=a, b=b)
    rng = np.random.default_rng(seed)
    ages = np.asarray(T, dtype=np.float64)
    if ages.ndim == 0:
        if n_customers is None:
            raise InputError("give n_customers when T is a scalar", column="n_customers")
        ages = np.full(n_customers, float(ages))
    if np.any(~np.isfinite(ages)) or np.any(ages < 0):
        raise InputError("T must be finite and >= 0", column="T")
    n = len(ages)
    rates = rng.gamma(r, 1.0 / alpha, size=n)
    # p can underflow to 0 for extreme (a, b); a customer who never drops out.
    dropout = np.clip(rng.beta(a, b, size=n), 1e-300, 1.0)
    purchases_before_dropout = rng.geometric(dropout) - (1 if dropout_at_start else 0)
    poisson_purchases = rng.poisson(rates * ages)
    frequency = np.minimum(purchases_before_dropout, poisson_purchases)
    recency = np.zeros(n)
    repeat = frequency > 0
    recency[repeat] = ages[repeat] * rng.beta(
        frequency[repeat], poisson_purchases[repeat] - frequency[repeat] + 1
    )
    return CustomerSummary(frequency.astype(np.float64), recency, ages.copy())


def _check_positive(**params: float) -> None:
    for name, value in params.items():
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{name} must be positive and finite", column=name, value=value)
