"""The cost of the per-customer intervals: ``compute_value`` on about 1,000,000 customers with
200 parameter draws (the default) and without intervals (``interval_draws=0``), side by side.

    python benchmarks/intervals/run.py [--transactions 2800000] [--repeat 3] [--draws 200]

The log comes from ``benchmarks/value/generate.py`` (BG/NBD purchases and Gamma-Gamma spend with
the CDNOW estimates, recorded by day; 2.8M transactions are about 1M customers), written once to
``.data/`` (gitignored). Each configuration runs ``--repeat`` times in this one process, in turns
(with, without, with, ...), and the medians are compared; the interval step's own time is the
run's ``diagnostics["intervals"]["seconds"]``. Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "value"))

import generate  # noqa: E402

from kehu.value.schemas import ValueOptions  # noqa: E402
from kehu.value.service import compute_value  # noqa: E402
from kehu.warehouse import ColumnMap, connect, read_parquet  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2_800_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    data = HERE / ".data" / f"log-{args.transactions}.parquet"
    if not data.is_file():
        counts = generate.transactions_parquet(args.transactions, data, seed=20240101)
        print(
            f"generated {counts['transactions']:,} transactions, {counts['customers']:,} customers"
        )
    end = date.fromisoformat(generate.observation_end())
    options = ValueOptions(observation_end=end, unit="week", horizon=52, interval_draws=args.draws)
    configurations = {
        "with intervals": options,
        "without intervals": options.model_copy(update={"interval_draws": 0}),
    }
    wall: dict[str, list[float]] = {name: [] for name in configurations}
    interval_step: list[float] = []
    customers = distinct_rows = 0
    how: dict[str, object] = {}
    for _ in range(args.repeat):
        for name, run_options in configurations.items():
            con = connect("duckdb")
            transactions = read_parquet(
                data, ColumnMap(customer="customer_id", date="order_date", amount="amount"), con=con
            )
            started = time.perf_counter()
            result = compute_value(transactions, run_options)
            wall[name].append(time.perf_counter() - started)
            assert result.model_error is None, result.model_error
            customers = result.diagnostics["customers"]
            distinct_rows = result.diagnostics["distinct_rows"]
            if "draws" in (result.diagnostics.get("intervals") or {}):
                interval_step.append(result.diagnostics["intervals"]["seconds"])
                how = {
                    "model": result.models[0]["model"] if result.models else None,
                    **{
                        key: result.diagnostics["intervals"].get(key)
                        for key in ("method", "effective_draws")
                    },
                }
            del result, transactions, con
    with_intervals = statistics.median(wall["with intervals"])
    without = statistics.median(wall["without intervals"])
    load = os.getloadavg()[0]
    print(
        f"\n{customers:,} customers, {distinct_rows:,} distinct (x, t_x, T) rows, "
        f"{args.draws} draws, 90% intervals, weeks, 52-week horizon; median of {args.repeat}; "
        f"1-minute load average at the end {load:.1f} on {os.cpu_count()} cores\n"
    )
    print("| run | wall (s) | runs (s) |")
    print("| --- | --- | --- |")
    for name, times in wall.items():
        print(
            f"| `compute_value` {name} | {statistics.median(times):.2f} | "
            f"{', '.join(f'{t:.2f}' for t in times)} |"
        )
    print(
        f"| the interval step alone | {statistics.median(interval_step):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in interval_step)} |"
    )
    print(f"\nratio with / without intervals: {with_intervals / without:.2f}x")
    print(f"transaction model and draws: {how}")


if __name__ == "__main__":
    main()
