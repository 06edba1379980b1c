"""The lifetimes 0.11.3 pipeline of benchmark (c): transactions Parquet -> CLV and tiers.

    python lifetimes_pipeline.py IN.parquet OUT.parquet OBSERVATION_END [PHASES.json]

pandas.read_parquet -> lifetimes.utils.summary_data_from_transaction_data (days) -> BetaGeoFitter
+ GammaGammaFitter (returning customers) -> GammaGammaFitter.customer_lifetime_value (12 months of
30 days, 1% monthly discount) -> value tiers -> DataFrame.to_parquet. lifetimes has no value tiers;
they are computed here with the same rule as ``kehu.analytics.tiers.value_tiers`` (cumulative share
of positive value, 80% / 95%), in numpy. Run it as a fresh process: imports are part of the cost.
"""

from __future__ import annotations

import time

START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from lifetimes import BetaGeoFitter, GammaGammaFitter  # noqa: E402
from lifetimes.utils import summary_data_from_transaction_data  # noqa: E402

CLV_MONTHS = 12
DISCOUNT_RATE = 0.01  # monthly
THRESHOLDS = np.array([0.80, 0.95])
LABELS = np.array(["high", "middle", "low"], dtype=object)


def value_tiers(values: np.ndarray) -> np.ndarray:
    """Same rule as kehu.analytics.tiers.value_tiers with its default thresholds (one argsort)."""
    positive = np.where(values > 0, values, 0.0)
    total = positive.sum()
    tiers = np.full(values.size, LABELS[-1], dtype=object)
    if total <= 0:
        return tiers
    order = np.argsort(-positive, kind="stable")  # largest first
    ordered = positive[order]
    before = np.concatenate(([0.0], np.cumsum(ordered)[:-1]))  # sum of the values ahead
    group_start = np.ones(ordered.size, dtype=bool)
    group_start[1:] = ordered[1:] != ordered[:-1]
    first_of_group = np.maximum.accumulate(np.where(group_start, np.arange(ordered.size), 0))
    above = np.empty_like(positive)
    above[order] = before[first_of_group]  # ties: only the strictly larger values count
    index = np.searchsorted(THRESHOLDS * total * (1 - 1e-12), above, side="right")
    index = np.where(values > 0, index, len(THRESHOLDS))
    return LABELS[index]


def main() -> None:
    source, target, observation_end = sys.argv[1], sys.argv[2], sys.argv[3]
    phases: dict[str, float] = {"import": time.perf_counter() - START}
    warnings.simplefilter("ignore")

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = now - since
        return now

    t = time.perf_counter()
    transactions = pd.read_parquet(source)
    t = mark("read", t)
    summary = summary_data_from_transaction_data(
        transactions,
        "customer_id",
        "order_date",
        monetary_value_col="amount",
        observation_period_end=observation_end,
        freq="D",
    )
    del transactions
    t = mark("summary", t)
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    t = mark("fit_bgnbd", t)
    returning = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(returning["frequency"], returning["monetary_value"])
    t = mark("fit_gamma_gamma", t)
    clv = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=CLV_MONTHS,
        discount_rate=DISCOUNT_RATE,
        freq="D",
    )
    summary["clv"] = clv
    t = mark("clv", t)
    summary["tier"] = value_tiers(summary["clv"].to_numpy())
    t = mark("tiers", t)
    summary.reset_index().to_parquet(target, index=False)
    mark("write", t)
    phases["total_in_process"] = time.perf_counter() - START
    params = {
        "bgnbd_days": {k: float(v) for k, v in bgf.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
    }
    report = {"phases": phases, "customers": len(summary), "params": params}
    if len(sys.argv) > 4:
        with open(sys.argv[4], "w") as handle:
            json.dump(report, handle, indent=2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
