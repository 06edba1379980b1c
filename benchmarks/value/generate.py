"""Synthetic customer bases for the value benchmarks: BG/NBD purchases, gamma-gamma spend, days.

The parameters are the CDNOW estimates (Fader, Hardie & Lee 2005; lifetimes' documentation):

* BG/NBD: r = 0.243, alpha = 4.414 (per week), a = 0.793, b = 2.426;
* gamma-gamma spend: p = 6.25, q = 3.74, gamma = 15.44.

As in CDNOW, each customer makes a first purchase on a day drawn uniformly from the first 12 weeks,
and the history runs 78 weeks (546 days, days 0..545). Purchases happen in continuous time and are
recorded by day, so several purchases on one day are one period for the summary (lifetimes'
``summary_data_from_transaction_data`` and kehu's warehouse both count purchase days).

Simulation per customer: lambda ~ Gamma(r, 1/alpha), p ~ Beta(a, b). BG/NBD lets a customer drop
out only right after a repeat purchase, with probability p each time, so the repeat purchases made
before dropping out number N with P(N = k) = p (1 - p)^(k - 1), k >= 1. A never-dropping customer's
purchases are a Poisson process: M ~ Poisson(lambda * window) of them in the window, at uniform
order statistics; the customer makes the first min(M, N) of them. Each transaction's amount is
Gamma(p, 1/nu) with the customer's nu ~ Gamma(q, 1/gamma), in cents.

Everything is numpy with a fixed seed: the same call gives the same data on any machine with the
same numpy major version.

Usage (also called by run.py)::

    python benchmarks/value/generate.py summary N OUT.npz      # frequency, recency, T in weeks
    python benchmarks/value/generate.py transactions N_TX OUT.parquet
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # alpha per week
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
HISTORY_DAYS = 78 * 7  # days 0 .. 545
BIRTH_DAYS = 12 * 7
END_DAY = HISTORY_DAYS - 1  # observation period end (last day with data)
START_DATE = np.datetime64("2024-01-01")


def simulate_chunk(
    rng: np.random.Generator, n: int, first_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` customers' transactions as (customer_id, day, amount), sorted by customer then day."""
    lam_day = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n) / 7.0
    p = np.clip(rng.beta(BGNBD["a"], BGNBD["b"], n), 1e-12, 1.0)
    birth = rng.integers(0, BIRTH_DAYS, n)
    window = HISTORY_DAYS - birth  # continuous time until the end of the last day
    m = rng.poisson(lam_day * window)
    n_repeat = np.minimum(m, rng.geometric(p))

    # Poisson-process times: m uniforms per customer, sorted within the customer; keep the first x.
    owner = np.repeat(np.arange(n), m)
    u = rng.random(owner.size) * window[owner]
    order = np.lexsort((u, owner))
    u = u[order]
    starts = np.concatenate(([0], np.cumsum(m)[:-1]))
    rank = np.arange(owner.size) - np.repeat(starts, m)
    keep = rank < n_repeat[owner]
    rep_owner = owner[keep]
    rep_day = birth[rep_owner] + np.floor(u[keep]).astype(np.int64)

    # First purchase on the birth day, then the repeats, grouped by customer.
    cust = np.concatenate((np.arange(n), rep_owner))
    day = np.concatenate((birth, rep_day))
    order = np.lexsort((day, cust))
    cust = cust[order]
    day = day[order]

    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["v"], n)
    amount = rng.gamma(GAMMA_GAMMA["p"], 1.0, cust.size) / nu[cust]
    amount = np.maximum(np.round(amount, 2), 0.01)
    return cust.astype(np.int64) + first_id, day, amount


def simulate(n_customers: int, seed: int, chunk: int = 500_000) -> Iterator[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_customers:
        n = min(chunk, n_customers - done)
        yield simulate_chunk(rng, n, first_id=done + 1)
        done += n


def summarise_days(cust: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) in days from transactions sorted by customer then day."""
    new_customer = np.ones(cust.size, dtype=bool)
    new_customer[1:] = cust[1:] != cust[:-1]
    new_day = new_customer.copy()
    new_day[1:] |= day[1:] != day[:-1]
    starts = np.flatnonzero(new_customer)
    frequency = np.add.reduceat(new_day.astype(np.int64), starts) - 1
    ends = np.concatenate((starts[1:], [cust.size])) - 1
    first = day[starts]
    recency = day[ends] - first
    T = END_DAY - first
    return frequency, recency, T


def summary(n_customers: int, seed: int) -> dict[str, np.ndarray]:
    """Frequency, recency and T **in weeks** (whole days / 7) for ``n_customers`` customers."""
    parts = [summarise_days(c, d) for c, d, _ in simulate(n_customers, seed)]
    f, r, t = (np.concatenate(x) for x in zip(*parts, strict=True))
    return {
        "frequency": f.astype(np.float64),
        "recency": r.astype(np.float64) / 7.0,
        "T": t.astype(np.float64) / 7.0,
    }


def transactions_parquet(n_transactions: int, path: Path, seed: int) -> dict[str, int]:
    """Simulate customers until ``n_transactions`` rows, write them (by date) to ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    parts: list[tuple[np.ndarray, ...]] = []
    total = 0
    next_id = 1
    while total < n_transactions:
        c, d, a = simulate_chunk(rng, 250_000, first_id=next_id)
        next_id += 250_000
        need = n_transactions - total
        if c.size > need:  # stop at a customer boundary near the target
            cut = int(np.searchsorted(c, c[need - 1], side="right"))
            c, d, a = c[:cut], d[:cut], a[:cut]
        parts.append((c, d, a))
        total += c.size
    cust, day, amount = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(day, kind="stable")  # a transaction log, in date order
    cust, day, amount = cust[order], day[order], amount[order]
    table = pa.table(
        {
            "customer_id": pa.array(cust, pa.int64()),
            "order_date": pa.array((START_DATE + day).astype("datetime64[D]"), pa.date32()),
            "amount": pa.array(amount, pa.float64()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, row_group_size=1 << 20)
    tmp.replace(path)
    return {"transactions": int(cust.size), "customers": int(np.unique(cust).size)}


def observation_end() -> str:
    return str(START_DATE + END_DAY)


def main(argv: list[str]) -> None:
    kind, n, out = argv[1], int(float(argv[2])), Path(argv[3])
    seed = int(argv[4]) if len(argv) > 4 else 20240101
    if kind == "summary":
        out.parent.mkdir(parents=True, exist_ok=True)
        data = summary(n, seed)
        np.savez(out, **data)
        print(f"{out}: {n} customers, mean frequency {data['frequency'].mean():.3f}")
    elif kind == "transactions":
        info = transactions_parquet(n, out, seed)
        print(f"{out}: {info}")
    else:
        raise SystemExit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv)
