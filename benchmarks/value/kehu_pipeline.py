"""kehu's pipeline of benchmark (c): transactions Parquet -> per-customer CLV and tiers in Parquet.

    python kehu_pipeline.py IN.parquet OUT.parquet OBSERVATION_END [PHASES.json]

The same computation as ``lifetimes_pipeline.py`` (BG/NBD + Gamma-Gamma, CLV over 12 periods of 30
days discounted 1% per period at each period's end, value tiers at 80% / 95% of the positive CLV),
done the kehu way: the log never leaves DuckDB as rows.

1. ``kehu.warehouse.read_parquet`` + ``customer_summary`` (days, like lifetimes' ``freq="D"``):
   Ibis expressions, materialised once as a DuckDB temp table;
2. ``kehu.warehouse.compress``: the distinct (frequency, recency, T) rows with a weight, and the
   distinct (frequency, monetary_value) rows of repeat customers -- only these reach Python;
3. ``BetaGeoModel`` and ``GammaGammaModel`` fit on the weighted distinct rows;
4. ``customer_lifetime_value`` per distinct (frequency, recency, T) row, with spend 1 (so the
   discounted expected number of purchases), joined back with ``kehu.warehouse.join_scores``;
   the Gamma-Gamma expected spend ``p (gamma + m x) / (p x + q - 1)`` is an engine expression;
5. value tiers: the rule of ``kehu.analytics.tiers.value_tiers`` (numpy over every customer)
   makes each tier a CLV range, so two cutoffs are found from the CLV column (one float column
   leaves the engine) and the tier is a CASE expression in the engine;
6. ``kehu.warehouse.to_parquet`` writes the result from the engine.

A fresh process, imports counted (``START`` is taken before any import).
"""

from __future__ import annotations

import time

START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import ibis  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from kehu.analytics import BetaGeoModel, GammaGammaModel, customer_lifetime_value  # noqa: E402
from kehu.analytics.tiers import DEFAULT_THRESHOLDS, TIER_LABELS  # noqa: E402
from kehu.warehouse import (  # noqa: E402
    ColumnMap,
    compress,
    connect,
    customer_summary,
    join_scores,
    read_parquet,
    to_arrow,
    to_parquet,
)

PERIODS = 12
PERIOD_DAYS = 30.0
DISCOUNT_PER_PERIOD = 0.01
TOLERANCE = 1e-12  # as kehu.analytics.tiers


def tier_cutoffs(values: np.ndarray) -> tuple[float, float]:
    """Smallest CLV of the high and of the middle tier (inf when the tier is empty)."""
    positive = np.sort(values[values > 0])[::-1]
    if positive.size == 0:
        return np.inf, np.inf
    total = positive.sum()
    before = np.concatenate(([0.0], np.cumsum(positive)[:-1]))
    group_start = np.ones(positive.size, dtype=bool)
    group_start[1:] = positive[1:] != positive[:-1]
    first_of_group = np.maximum.accumulate(np.where(group_start, np.arange(positive.size), 0))
    above = before[first_of_group]  # positive CLV strictly above each value (ties share)
    cuts = []
    for limit in DEFAULT_THRESHOLDS:
        inside = above < limit * total * (1 - TOLERANCE)  # a prefix of the sorted values
        cuts.append(float(positive[inside][-1]) if inside.any() else np.inf)
    return cuts[0], cuts[1]


def main() -> None:
    source, target, observation_end = sys.argv[1], sys.argv[2], sys.argv[3]
    phases: dict[str, float] = {"import": time.perf_counter() - START}
    warnings.simplefilter("ignore")

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = now - since
        print(f"{name}: {now - since:.2f} s", file=sys.stderr, flush=True)
        return now

    t = time.perf_counter()
    con = connect("duckdb")
    transactions = read_parquet(
        source, ColumnMap(customer="customer_id", date="order_date", amount="amount"), con=con
    )
    t = mark("read_validate", t)
    summary = customer_summary(transactions, observation_end, unit="day", con=con)
    table = con.create_table("customer_summary", summary.table, temp=True)
    t = mark("summary", t)

    rows = to_arrow(compress(table), con)
    f, r, T, w = (rows.column(c).to_numpy().astype(np.float64)
                  for c in ("frequency", "recency", "T", "weight"))  # fmt: skip
    spend_rows = to_arrow(
        compress(table.filter(table.frequency > 0), by=("frequency", "monetary_value")), con
    )
    x_m, m_m, w_m = (spend_rows.column(c).to_numpy().astype(np.float64)
                     for c in ("frequency", "monetary_value", "weight"))  # fmt: skip
    t = mark("compress", t)
    bg = BetaGeoModel().fit(f, r, T, weights=w)
    t = mark("fit_bgnbd", t)
    gg = GammaGammaModel().fit(x_m, m_m, weights=w_m)
    t = mark("fit_gamma_gamma", t)

    purchases = customer_lifetime_value(
        bg, 1.0, f, r, T, horizon=PERIODS, discount_rate_per_period=DISCOUNT_PER_PERIOD,
        time_units_per_period=PERIOD_DAYS,
    )  # fmt: skip
    scores = rows.select(["frequency", "recency", "T"]).append_column(
        "discounted_purchases", pa.array(np.asarray(purchases, dtype=np.float64))
    )
    scored = join_scores(table, scores)
    p, q, gamma = (gg.params_[k] for k in ("p", "q", "gamma"))
    x = scored.frequency.cast("float64")
    m = scored.monetary_value.fill_null(0.0)
    expected_spend = p * (gamma + m * x) / (p * x + (q - 1.0))
    scored = scored.select(
        "customer_id", "frequency", "recency", "T", "monetary_value",
        expected_spend=expected_spend, clv=scored.discounted_purchases * expected_spend,
    )  # fmt: skip
    scored = con.create_table("scored", scored, temp=True)
    t = mark("clv", t)

    # Tiers: the rule of kehu.analytics.tiers.value_tiers depends on a customer's CLV only through
    # the positive CLV strictly above it, which falls as CLV rises, so each tier is a CLV range:
    # two cutoffs from the sorted CLV column, then a CASE in the engine.
    clv = to_arrow(scored.select("clv"), con).column(0).to_numpy()
    high_cut, middle_cut = tier_cutoffs(clv)
    result = scored.mutate(
        tier=ibis.cases(
            ((scored.clv > 0) & (scored.clv >= high_cut), TIER_LABELS[0]),
            ((scored.clv > 0) & (scored.clv >= middle_cut), TIER_LABELS[1]),
            else_=TIER_LABELS[2],
        )
    )
    t = mark("tiers", t)
    to_parquet(result, target, con)
    t = mark("write", t)

    phases["total_in_process"] = time.perf_counter() - START
    report = {
        "phases": phases,
        "distinct_rows": len(f),
        "distinct_spend_rows": len(x_m),
        "params": {"bgnbd_days": bg.params_, "gamma_gamma": gg.params_},
    }
    if len(sys.argv) > 4:
        with open(sys.argv[4], "w") as handle:
            json.dump(report, handle, indent=2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
