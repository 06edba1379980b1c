"""Draw customers from the Pareto/NBD model with known parameters (Schmittlein, Morrison & Colombo
1987; notation of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related
Expressions", section 2).

Each customer gets a purchase rate ``lambda ~ Gamma(shape r, rate alpha)`` and a dropout rate
``mu ~ Gamma(shape s, rate beta)``; her lifetime is ``tau ~ Exponential(mu)``. While alive she buys
as a Poisson process, so over the observed window ``(0, min(tau, T)]`` the number of repeat
purchases is Poisson(lambda * min(tau, T)) and, given that number k > 0, the purchase times are k
uniform draws on the window: recency is their maximum, ``window * U^(1/k)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kehu.errors import InputError

__all__ = ["SimulatedParetoNBDCustomers", "simulate_paretonbd"]


class SimulatedParetoNBDCustomers(NamedTuple):
    """Simulated summaries (unpack the first three as ``frequency, recency, T``) and the latent
    truth behind them."""

    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    purchase_rate: NDArray[np.float64]  # lambda
    dropout_rate: NDArray[np.float64]  # mu
    alive: NDArray[np.bool_]  # still alive at T


def simulate_paretonbd(
    n_customers: int,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    T: ArrayLike,
    *,
    seed: int | np.random.Generator | None = None,
) -> SimulatedParetoNBDCustomers:
    """Simulate ``n_customers`` customers observed for ``T`` time units each (scalar or array).

    Times are continuous; to mimic data recorded in whole days, floor ``recency`` and ``T`` and
    merge same-day purchases before fitting, as the caller's data pipeline would.
    """
    for name, value in (("r", r), ("alpha", alpha), ("s", s), ("beta", beta)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive number", column=name, value=value)
    if n_customers < 0:
        raise InputError("n_customers must be >= 0", column="n_customers", value=n_customers)
    ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    if (~np.isfinite(ages) | (ages < 0)).any():
        i = int(np.flatnonzero(~np.isfinite(ages) | (ages < 0))[0])
        raise InputError("T must be finite and >= 0", row=i + 1, column="T", value=ages[i])
    rng = np.random.default_rng(seed)
    purchase_rate = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout_rate = rng.gamma(s, 1.0 / beta, n_customers)
    # A dropout rate can underflow to 0 for tiny s; such a customer simply never dies.
    lifetime = rng.exponential(1.0, n_customers) / np.maximum(dropout_rate, np.finfo(float).tiny)
    window = np.minimum(lifetime, ages)
    frequency = rng.poisson(purchase_rate * window).astype(np.float64)
    uniform = rng.random(n_customers)
    with np.errstate(divide="ignore"):
        recency = np.where(
            frequency > 0, window * uniform ** (1.0 / np.maximum(frequency, 1.0)), 0.0
        )
    return SimulatedParetoNBDCustomers(
        frequency=frequency,
        recency=recency,
        T=ages,
        purchase_rate=purchase_rate,
        dropout_rate=dropout_rate,
        alive=lifetime > ages,
    )
