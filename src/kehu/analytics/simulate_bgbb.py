"""Draw customers from the BG/BB model with known parameters (Fader, Hardie & Shang (2010),
"Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing Science 29(6),
section 2, assumptions (i)-(v)).

Each customer gets a transaction probability ``p ~ Beta(alpha, beta)`` and a dropout probability
``theta ~ Beta(gamma, delta)``. At the start of each period 1, 2, ... she drops out with
probability ``theta`` (so she is alive in period t with probability (1 - theta)^t); in each period
she is alive she transacts with probability ``p``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from kehu.errors import InputError

__all__ = ["SimulatedBGBBCustomers", "simulate_bgbb"]

# Customers simulated per block, to bound the (customers x periods) work array.
_BLOCK_ELEMENTS = 1 << 22


class SimulatedBGBBCustomers(NamedTuple):
    """Simulated summaries (unpack the first three as ``frequency, recency, n_periods``) and the
    latent truth behind them."""

    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    n_periods: NDArray[np.float64]
    transaction_probability: NDArray[np.float64]  # p
    dropout_probability: NDArray[np.float64]  # theta
    alive_periods: NDArray[np.float64]  # periods 1..n in which the customer was alive


def simulate_bgbb(
    n_customers: int,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    n_periods: int,
    *,
    seed: int | np.random.Generator | None = None,
) -> SimulatedBGBBCustomers:
    """Simulate ``n_customers`` customers over ``n_periods`` transaction opportunities."""
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma), ("delta", delta)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive number", column=name, value=value)
    if n_customers < 0:
        raise InputError("n_customers must be >= 0", column="n_customers", value=n_customers)
    if n_periods < 0 or int(n_periods) != n_periods:
        raise InputError(
            "n_periods must be a whole number >= 0", column="n_periods", value=n_periods
        )
    rng = np.random.default_rng(seed)
    p = rng.beta(alpha, beta, n_customers)
    theta = rng.beta(gamma, delta, n_customers)
    # Periods survived before dropping out: P(alive in period t) = (1 - theta)^t, i.e. a geometric
    # number of failures; theta = 0 (possible after rounding) means never dropping out.
    safe_theta = np.clip(theta, np.finfo(float).tiny, 1.0)
    survived = rng.geometric(safe_theta) - 1
    alive_periods = np.minimum(survived, n_periods).astype(np.float64)
    frequency = np.zeros(n_customers)
    recency = np.zeros(n_customers)
    width = max(int(n_periods), 1)
    step = max(1, _BLOCK_ELEMENTS // width)
    period = np.arange(1, width + 1, dtype=np.float64)[None, :]
    for start in range(0, n_customers, step):
        block = slice(start, min(start + step, n_customers))
        bought = (rng.random((block.stop - block.start, width)) < p[block, None]) & (
            period <= alive_periods[block, None]
        )
        frequency[block] = bought.sum(axis=1)
        recency[block] = np.max(np.where(bought, period, 0.0), axis=1)
    return SimulatedBGBBCustomers(
        frequency=frequency,
        recency=recency,
        n_periods=np.full(n_customers, float(n_periods)),
        transaction_probability=p,
        dropout_probability=theta,
        alive_periods=alive_periods,
    )
