"""Time the Pareto/NBD fit on small logs whose customers drop out at one rate, on CDNOW, and
where alpha and beta are far apart (a too-short log with beta -> 0.002, a maximum at s ~ 84).

    PYTHONPATH=src .venv/bin/python benchmarks/pnbd_ridge/run.py [--repeat N] [--seeds N]
        [--only TEXT]

Prints, per case, the outcome (fitted parameters or the error's class and first words), the
median wall and CPU time of the fit over ``--repeat`` fits (the CPU time is steadier on a shared
machine) and the number of likelihood evaluations (calls
of ``kehu.analytics.paretonbd._log_likelihood_and_gradient``, finite-difference probes included).
The kehu imported is whichever comes first on PYTHONPATH, so the same script times another tree
(e.g. ``git archive main src | tar -x -C /tmp/before`` and ``PYTHONPATH=/tmp/before/src``).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kehu.analytics import paretonbd
from kehu.analytics.datasets import load_cdnow_summary
from kehu.analytics.model_selection import ModelSelector
from kehu.analytics.paretonbd import ParetoNBDModel
from kehu.analytics.simulate import simulate_bgnbd
from kehu.analytics.simulate_paretonbd import simulate_paretonbd

END_DAY = 500  # 2024-05-15 counted from 2023-01-01, the observation end of the small log


def small_log(seed: int, customers: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The purchases of ``_log`` in tests/value/test_queries.py (the same draws in the same order:
    ``seed`` 5 is that log), merged per day and summarised in weeks to day 500, as
    ``kehu.warehouse.summaries.customer_summary`` does: customers buy at gamma(0.5, 12 per day)
    rates and all drop out at one rate (lifetimes geometric in days, p = 0.01)."""
    rng = np.random.default_rng(seed)
    frequency, recency, age = (np.zeros(customers) for _ in range(3))
    for customer in range(customers):
        start = int(rng.integers(0, 90))
        rate = rng.gamma(0.5, 1 / 12)
        alive_days = rng.geometric(0.01)
        nu = rng.gamma(4.0, 1 / 15)
        day, days = float(start), set()
        while day < 500 and day - start < alive_days:
            rng.gamma(6.0, 1 / nu)  # the amount: drawn to keep the log's sequence of draws
            days.add(int(day))
            day += rng.exponential(1 / max(rate, 1e-3))
        first, last = min(days), max(days)
        frequency[customer] = len(days) - 1
        recency[customer] = (last - first) / 7
        age[customer] = (END_DAY - first) / 7
    return frequency, recency, age


def too_short_log() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tests/analytics/test_model_selection.py::test_too_few_repeat_buyers_is_too_short_to_judge:
    BG/NBD customers over 38 weeks cut to 20 repeat buyers and every one-time buyer (233)."""
    x, t_x, age = (
        np.asarray(v, dtype=float)
        for v in simulate_bgnbd(0.24, 4.4, 0.79, 2.4, T=38.0, n_customers=400, seed=3)
    )
    keep = (x == 0) | (np.cumsum(x > 0) <= 20)
    return x[keep], t_x[keep], age[keep]


def one_rate_customers(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tests/analytics/test_paretonbd.py's ``one_dropout_rate_customers``: purchase rates
    gamma(0.5, 12 per day), every customer dropping out at -7 ln 0.99 a week, times whole days."""
    rng = np.random.default_rng(seed)
    age = (500 - rng.integers(0, 90, n)) / 7
    rate = -7 * np.log(0.99)
    customers = simulate_paretonbd(n, 0.5, 12 / 7, 1e6, 1e6 / rate, age, seed=rng)
    return customers.frequency, np.round(customers.recency * 7) / 7, age


def timed(fit: Callable[[], Any], repeat: int) -> tuple[str, float, float, int]:
    calls = [0]
    real = paretonbd._log_likelihood_and_gradient

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return real(*args)

    times, cpu_times, outcome = [], [], ""
    paretonbd._log_likelihood_and_gradient = counted  # type: ignore[assignment]
    try:
        for _ in range(repeat):
            calls[0] = 0
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                result = fit()
                outcome = describe(result)
            except Exception as error:  # the outcome is what is measured
                ratio = re.search(r"(s/beta|r/alpha) = [0-9.e+-]+", str(error))
                shown = ratio.group(0) if ratio else str(error)[:80]
                outcome = f"{type(error).__name__} ({shown})"
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    finally:
        paretonbd._log_likelihood_and_gradient = real  # type: ignore[assignment]
    return outcome, statistics.median(times), statistics.median(cpu_times), calls[0]


def describe(result: Any) -> str:
    if isinstance(result, ModelSelector):
        pnbd = next(c for c in result.candidates_ if c.name == "pnbd")
        state = "fitted" if pnbd.fitted else f"{pnbd.failure_type}"
        return f"auto chose {result.best_}; Pareto/NBD {state}"
    return ", ".join(f"{k}={v:.4g}" for k, v in result.params_.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument(
        "--only", default="", help="run only the cases whose label contains this text"
    )
    args = parser.parse_args()
    x, t_x, age = load_cdnow_summary()
    cases: list[tuple[str, Callable[[], Any], int]] = [
        ("CDNOW, CSV as shipped", lambda: ParetoNBDModel().fit(x, t_x, age), 7),
        (
            "CDNOW, whole days",
            lambda: ParetoNBDModel().fit(x, np.round(t_x * 7) / 7, np.round(age * 7) / 7),
            7,
        ),
    ]
    for seed in range(1, args.seeds + 1):
        data = small_log(seed)
        label = "small log" + (" (tests/value/test_queries.py)" if seed == 5 else "")
        cases.append((f"{label}, seed {seed}", lambda d=data: ParetoNBDModel().fit(*d), 1))
    small = small_log(5)
    cases.append(("auto on the small log, seed 5", lambda: ModelSelector().fit(*small), 1))
    short = too_short_log()
    cases.append(("too-short log (beta -> 0.002)", lambda: ParetoNBDModel().fit(*short), 1))
    cases.append(("auto on the too-short log", lambda: ModelSelector().fit(*short), 1))
    large_s = one_rate_customers(1000, seed=1)
    cases.append(
        ("one rate, 1,000 customers, seed 1 (s ~ 84)", lambda: ParetoNBDModel().fit(*large_s), 3)
    )
    cases = [case for case in cases if args.only in case[0]]
    print("| case | outcome | fit (s), median | CPU (s), median | likelihood evaluations |")
    print("| --- | --- | --- | --- | --- |")
    for label, fit, repeat in cases:
        outcome, seconds, cpu_seconds, calls = timed(
            fit, max(repeat, args.repeat) if repeat > 1 else 1
        )
        print(f"| {label} | {outcome} | {seconds:.3f} | {cpu_seconds:.3f} | {calls} |", flush=True)


if __name__ == "__main__":
    main()
