"""Coverage of the per-customer intervals on kehu's simulator, the new method and the old side by
side: for each model, customer bases are simulated with known parameters, the transaction model
and the Gamma-Gamma spend model are fitted, and each customer's nominal 90 % intervals are checked
against her predictions under the TRUE parameters, once with the data (importance resampling where
the likelihood is not quadratic) and once without (the normal approximation alone).

    python benchmarks/intervals/coverage.py [--model mbgnbd] [--customers 2000] [--datasets 100]
        [--draws 200] [--seed 2026]

Coverage is the share of (customer base, customer) pairs whose true prediction lies in the
interval, P(alive) counted for repeat buyers only with the BG/NBD (a one-time buyer's is 1 under
any parameters); "+-" is the standard error over customer bases (the customers of one base share
its parameter error). T is uniform on 26-39 weeks, the horizon 52 weeks, 10 % a year.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from kehu.analytics import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_mbgnbd,
)
from kehu.analytics.simulate_paretonbd import simulate_paretonbd
from kehu.analytics.uncertainty import ParameterUncertainty

#: the CDNOW estimates: BG/NBD FHL 2005; MBG/NBD BTYDplus (as quoted by lifetimes' tests);
#: Pareto/NBD FHL 2005 JMR; Gamma-Gamma FHL 2005 JMR
TRUE = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbgnbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
MODELS: dict[str, Any] = {
    "bgnbd": BetaGeoModel,
    "mbgnbd": ModifiedBetaGeoModel,
    "paretonbd": ParetoNBDModel,
}
WEEKLY_DISCOUNT = 0.0018


def simulate(model: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    ages = rng.uniform(26, 39, n).round(1)
    params = TRUE[model]
    if model == "bgnbd":
        x, t_x, age = simulate_bgnbd(**params, T=ages, seed=rng)
    elif model == "mbgnbd":
        x, t_x, age = simulate_mbgnbd(**params, T=ages, seed=rng)
    else:
        x, t_x, age, *_ = simulate_paretonbd(n, **params, T=ages, seed=rng)
    return x, np.where(x > 0, np.maximum(t_x, 1e-3), 0.0), age


def coverage(
    model: str, customers: int, datasets: int, draws: int, seed: int, proposals_per_draw: int = 5
) -> dict[str, Any]:
    """Per method ("data": importance resampling, "normal": without the data) the coverage of
    each estimate, with its standard error over the customer bases, and the time per base."""
    truth = MODELS[model].from_params(TRUE[model])
    true_spend = GammaGammaModel.from_params(GAMMA_GAMMA)
    rng = np.random.default_rng(seed)
    covered: dict[str, dict[str, list[float]]] = {
        method: {"alive": [], "expected": [], "clv": []} for method in ("data", "normal")
    }
    seconds: dict[str, list[float]] = {"data": [], "normal": []}
    methods: list[str] = []
    effective: list[float] = []
    failed = 0
    for replication in range(datasets):
        x, t_x, age = simulate(model, customers, rng)
        repeat = x > 0
        monetary = simulate_gamma_gamma(**GAMMA_GAMMA, frequency=x, seed=rng)
        try:
            fitted = MODELS[model]().fit(x, t_x, age)
            spend_model = GammaGammaModel().fit(x[repeat], monetary[repeat])
        except Exception:  # a base the model cannot be fitted on has no intervals to check
            failed += 1
            continue
        true_values = {
            "alive": truth.probability_alive(x, t_x, age),
            "expected": truth.conditional_expected_purchases(52, x, t_x, age),
            "clv": customer_lifetime_value(
                truth,
                true_spend,
                x,
                t_x,
                age,
                horizon=52,
                discount_rate_per_period=WEEKLY_DISCOUNT,
                monetary_value=monetary,
            ),
        }
        counted = repeat if model == "bgnbd" else np.ones(len(x), dtype=bool)
        for method in ("data", "normal"):
            started = time.perf_counter()
            uncertainty = ParameterUncertainty(
                n_draws=draws, seed=replication, proposals_per_draw=proposals_per_draw
            )
            data = {"frequency": x, "recency": t_x, "T": age} if method == "data" else {}
            uncertainty.fit(fitted, spend_model, **data)
            intervals = uncertainty.predict(
                x,
                t_x,
                age,
                horizon=52,
                discount_rate_per_period=WEEKLY_DISCOUNT,
                monetary_value=np.where(repeat, monetary, np.nan),
            )
            seconds[method].append(time.perf_counter() - started)
            if method == "data":
                methods.append(uncertainty.method_)
                effective.append(uncertainty.effective_draws_)
            assert intervals.clv is not None
            for name, interval in (
                ("alive", intervals.probability_alive),
                ("expected", intervals.expected_purchases),
                ("clv", intervals.clv),
            ):
                value = true_values[name]
                inside = (interval.low <= value) & (value <= interval.high)
                covered[method][name].append(
                    float(inside[counted if name == "alive" else ...].mean())
                )
    result: dict[str, Any] = {
        "failed fits": failed,
        "resampled": methods.count("importance resampling"),
    }
    result["effective draws, median"] = float(np.median(effective)) if effective else float("nan")
    for method, figures in covered.items():
        for name, values in figures.items():
            array = np.array(values)
            result[f"{method} {name}"] = (
                float(array.mean()),
                float(array.std(ddof=1) / np.sqrt(len(array))),
            )
        result[f"{method} seconds per base"] = float(np.mean(seconds[method]))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="mbgnbd")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--proposals-per-draw", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.perf_counter()
    result = coverage(
        args.model, args.customers, args.datasets, args.draws, args.seed, args.proposals_per_draw
    )
    print(
        f"{args.model}, {args.customers:,} customers x {args.datasets} bases, {args.draws} draws "
        f"({time.perf_counter() - started:.0f} s)"
    )
    for key, value in result.items():
        shown = f"{value[0]:.3f} +- {value[1]:.3f}" if isinstance(value, tuple) else value
        print(f"  {key}: {shown}")


if __name__ == "__main__":
    main()
