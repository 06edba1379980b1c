"""Per-customer summaries: Fader & Hardie definitions, netting, time zones, CDNOW truth."""

from __future__ import annotations

import csv as _csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.errors import InputError
from kehu.warehouse import (
    ColumnMap,
    Summary,
    Transactions,
    calibration_and_holdout_summary,
    compress,
    customer_summary,
    from_arrow,
    join_scores,
    read_cdnow,
    read_csv,
    rfm_inputs,
    summaries,
    to_arrow,
    unit_days,
)
from kehu.warehouse import summaries as summaries_module

DATA = Path(__file__).resolve().parents[2] / "src" / "kehu" / "data"
COLS = ColumnMap("cust", "date", "amount", cost="cost")


def log(
    *entries: tuple[str, str, float] | tuple[str, str, float, float | None],
    con: Any = None,
    timezone: str = "UTC",
) -> Transactions:
    """A transaction log from (customer, ISO date-time, amount[, cost]) tuples."""
    table = pa.table(
        {
            "cust": [e[0] for e in entries],
            "date": [e[1] for e in entries],
            "amount": [str(e[2]) for e in entries],
            "cost": [None if len(e) < 4 or e[3] is None else str(e[3]) for e in entries],
        }
    )
    return from_arrow(table, COLS, con=con, timezone=timezone, minor_units=2)


def by_customer(summary: Summary | ibis.Table, con: Any = None) -> dict[str, dict[str, Any]]:
    table = summary.table if isinstance(summary, Summary) else summary
    return {r["customer_id"]: r for r in to_arrow(table, con).to_pylist()}


# ------------------------------------------------------------------------------ definitions


def test_same_day_purchases_are_merged(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01 09:00", 10),
        ("a", "2024-01-01 18:00", 5),
        ("a", "2024-01-05", 7),
        ("a", "2024-01-08", 3),
        ("b", "2024-01-03", 4),
        con=con,
    )
    got = by_customer(customer_summary(tx, "2024-01-10", con=con), con)
    a, b = got["a"], got["b"]
    assert a["n_purchase_days"] == 3 and a["frequency"] == 2
    assert a["recency"] == 7.0 and a["T"] == 9.0
    assert a["monetary_value"] == pytest.approx(5.0)  # (7 + 3) / 2: the first day (15) excluded
    assert a["total_spend"] == Decimal("25.00")
    assert a["first_purchase"] == dt.date(2024, 1, 1) and a["last_purchase"] == dt.date(2024, 1, 8)
    assert b["frequency"] == 0 and b["recency"] == 0.0 and b["T"] == 7.0
    assert b["monetary_value"] is None  # one-time buyer


def test_returns_net_against_the_days_purchases(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01 09:00", 10),
        ("a", "2024-01-01 17:00", -10),  # fully returned the same day: not a purchase
        ("a", "2024-01-03", 8),
        ("a", "2024-01-03 12:00", -3),  # partly returned: a purchase of 5
        ("a", "2024-01-04", -2),  # a return on its own day: not a purchase
        ("a", "2024-01-06", 6),
        ("b", "2024-01-02", -5),  # only returns: no row
        ("c", "2024-01-02", 0),  # a free item, no return: a purchase
        ("c", "2024-01-05", 0),
        con=con,
    )
    got = by_customer(customer_summary(tx, "2024-01-10", con=con), con)
    assert set(got) == {"a", "c"}
    a = got["a"]
    assert a["first_purchase"] == dt.date(2024, 1, 3)
    assert a["n_purchase_days"] == 2 and a["frequency"] == 1
    assert a["recency"] == 3.0 and a["T"] == 7.0
    assert a["monetary_value"] == pytest.approx(6.0)
    assert a["total_spend"] == Decimal("9.00")  # 10 - 10 + 8 - 3 - 2 + 6
    assert got["c"]["frequency"] == 1 and got["c"]["monetary_value"] == 0.0


def test_days_are_merged_in_the_business_time_zone(write: Any, con: Any) -> None:
    path = write(
        "cust,date,amount\n"
        "a,2024-01-01T23:30:00Z,10\n"  # 07:30 on 2 January in Shanghai
        "a,2024-01-02T01:00:00Z,5\n"  # 09:00 on 2 January in Shanghai
    )
    utc = read_csv(path, ColumnMap("cust", "date", "amount"), con=con, timezone="UTC")
    shanghai = read_csv(
        path, ColumnMap("cust", "date", "amount"), con=con, timezone="Asia/Shanghai"
    )
    in_utc = by_customer(customer_summary(utc, "2024-01-31", con=con), con)["a"]
    in_shanghai = by_customer(customer_summary(shanghai, "2024-01-31", con=con), con)["a"]
    assert in_utc["frequency"] == 1 and in_utc["first_purchase"] == dt.date(2024, 1, 1)
    assert in_shanghai["frequency"] == 0 and in_shanghai["first_purchase"] == dt.date(2024, 1, 2)
    assert in_shanghai["total_spend"] == Decimal("15.00")


def test_time_is_elapsed_days_over_the_unit(con: Any) -> None:
    tx = log(("a", "2024-01-01", 1), ("a", "2024-01-11", 1), con=con)
    for unit, days in [("day", 1), ("week", 7), ("month", 30.4375), ("year", 365.25), (2.5, 2.5)]:
        summary = customer_summary(tx, "2024-01-31", unit=unit, con=con)
        a = by_customer(summary, con)["a"]
        assert summary.unit_days == days
        assert a["recency"] == pytest.approx(10 / days) and a["T"] == pytest.approx(30 / days)


def test_observation_end_day_is_included_and_later_rows_counted(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01", 1),
        ("a", "2024-01-31 23:59:59", 2),
        ("a", "2024-02-01 00:00:00", 4),
        ("b", "2024-03-01", 4),
        con=con,
    )
    summary = customer_summary(tx, dt.date(2024, 1, 31), con=con)
    got = by_customer(summary, con)
    assert summary.n_after_end == 2 and set(got) == {"a"}
    assert got["a"]["frequency"] == 1 and got["a"]["recency"] == 30.0 and got["a"]["T"] == 30.0


def test_margins(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01", 10, 6),
        ("a", "2024-01-02", 5, 1),
        ("b", "2024-01-01", 10, 6),
        ("b", "2024-01-02", 5, None),  # one cost unknown: the margin is unknown
        con=con,
    )
    got = by_customer(customer_summary(tx, "2024-01-31", con=con), con)
    assert got["a"]["total_margin"] == Decimal("8.00") and got["b"]["total_margin"] is None
    fraction = by_customer(customer_summary(tx, "2024-01-31", margin=0.3, con=con), con)
    assert fraction["a"]["total_margin"] == Decimal("4.50")
    assert fraction["b"]["total_margin"] == Decimal("4.50")


def test_purchase_period_week(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01", 1),  # Monday
        ("a", "2024-01-07", 2),  # Sunday, same ISO week
        ("a", "2024-01-08", 4),  # next Monday
        con=con,
    )
    got = by_customer(customer_summary(tx, "2024-01-31", period="week", con=con), con)["a"]
    assert got["n_purchase_days"] == 2 and got["recency"] == 7.0 and got["T"] == 30.0
    assert got["monetary_value"] == 4.0


def test_calibration_and_holdout(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01", 10),
        ("a", "2024-01-10", 20),
        ("a", "2024-02-05", 30),
        ("a", "2024-02-05 10:00", 6),
        ("a", "2024-02-20", 10),
        ("a", "2024-03-05", 99),  # after the holdout
        ("b", "2024-01-20", 5),
        ("c", "2024-02-02", 7),  # first seen in the holdout: not in the result
        con=con,
    )
    summary = calibration_and_holdout_summary(tx, "2024-01-31", "2024-02-29", unit="week", con=con)
    got = by_customer(summary, con)
    assert set(got) == {"a", "b"} and summary.n_after_end == 1
    assert summary.holdout_end == dt.date(2024, 2, 29)
    a, b = got["a"], got["b"]
    assert a["frequency"] == 1 and a["T"] == pytest.approx(30 / 7)
    assert a["frequency_holdout"] == 2 and a["monetary_value_holdout"] == pytest.approx(23.0)
    assert a["duration_holdout"] == pytest.approx(29 / 7)
    assert b["frequency_holdout"] == 0 and b["monetary_value_holdout"] is None
    with pytest.raises(InputError, match="after calibration_end"):
        calibration_and_holdout_summary(tx, "2024-01-31", "2024-01-31")


def test_rfm_inputs_use_their_own_definitions(con: Any) -> None:
    tx = log(("a", "2024-01-01", 10), ("a", "2024-01-21", 5), ("b", "2024-01-30", 7), con=con)
    got = by_customer(rfm_inputs(customer_summary(tx, "2024-01-31", con=con)), con)
    assert got["a"] == {"customer_id": "a", "recency_days": 10, "frequency": 2, "monetary": 15.0}
    assert got["b"] == {"customer_id": "b", "recency_days": 1, "frequency": 1, "monetary": 7.0}


def test_compress_and_join_scores(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01", 1),
        ("a", "2024-01-05", 1),
        ("b", "2024-01-01", 1),
        ("b", "2024-01-05", 1),
        ("c", "2024-01-01", 1),
        ("d", "2024-01-02", 1),
        con=con,
    )
    summary = customer_summary(tx, "2024-01-31", con=con).cached(con)
    compressed = to_arrow(compress(summary), con)
    assert compressed.to_pylist() == [
        {"frequency": 0, "recency": 0.0, "T": 29.0, "weight": 1},
        {"frequency": 0, "recency": 0.0, "T": 30.0, "weight": 1},
        {"frequency": 1, "recency": 4.0, "T": 30.0, "weight": 2},
    ]
    scores = compressed.to_pandas()
    scores["p_alive"] = [0.1, 0.2, 0.3]
    joined = by_customer(join_scores(summary, scores), con)
    assert {k: v["p_alive"] for k, v in joined.items()} == {"a": 0.3, "b": 0.3, "c": 0.2, "d": 0.1}
    assert "weight" not in joined["a"] and joined["a"]["frequency"] == 1
    partial = pa.table({"frequency": [1], "recency": [4.0], "T": [30.0], "clv": [9.5]})
    joined = by_customer(join_scores(summary, partial), con)
    assert joined["a"]["clv"] == 9.5 and joined["c"]["clv"] is None
    with pytest.raises(InputError, match="key columns"):
        join_scores(summary, pa.table({"frequency": [1], "clv": [1.0]}))


def test_arguments_are_checked(con: Any) -> None:
    tx = log(("a", "2024-01-01", 1), con=con)
    with pytest.raises(InputError, match="time unit"):
        customer_summary(tx, "2024-01-31", unit="fortnight")
    with pytest.raises(InputError, match="positive"):
        unit_days(0)
    with pytest.raises(InputError, match="purchase period"):
        customer_summary(tx, "2024-01-31", period="hour")
    with pytest.raises(InputError, match="must be a date"):
        customer_summary(tx, dt.datetime(2024, 1, 31, 12))
    with pytest.raises(InputError, match="ISO date"):
        customer_summary(tx, "31/01/2024")
    with pytest.raises(InputError, match="margin"):
        customer_summary(tx, "2024-01-31", margin=30)


def test_summary_is_two_group_bys_and_compiles_for_postgres(con: Any) -> None:
    tx = log(("a", "2024-01-01", 1), con=con)
    summary = customer_summary(tx, "2024-01-31", con=con)
    assert ibis.to_sql(summary.table, dialect="duckdb").count("GROUP BY") == 2
    assert "GROUP BY" in ibis.to_sql(summary.table, dialect="postgres")
    holdout = calibration_and_holdout_summary(tx, "2024-01-31", "2024-02-29", con=con)
    assert ibis.to_sql(holdout.table, dialect="postgres").count("GROUP BY") == 4


# ------------------------------------------------------------------------------ CDNOW truth


def test_cdnow_sample_matches_the_published_summary(con: Any) -> None:
    transactions = read_cdnow(DATA / "CDNOW_sample.txt", con=con)
    summary = customer_summary(transactions, "1997-09-30", unit="week", con=con)
    got = by_customer(summary, con)
    with (DATA / "cdnow_customers_summary.csv").open(newline="") as handle:
        truth = list(_csv.DictReader(handle))
    assert len(truth) == 2357 and len(got) == 2357
    mismatches = []
    for row in truth:
        mine = got[row["ID"]]
        expected = (int(row["frequency"]), float(row["recency"]), float(row["T"]))
        actual = (mine["frequency"], round(mine["recency"], 2), round(mine["T"], 2))
        if actual != expected:
            mismatches.append((row["ID"], expected, actual))
    assert mismatches == []
    assert sum(1 for r in got.values() if r["frequency"] > 0) == 946
    # T is elapsed days to 1997-09-30 over 7: 272 days from 1 January
    assert got["1"]["T"] == pytest.approx(272 / 7)
    # the published summary's weighted histogram is what the models fit on
    compressed = to_arrow(compress(summary), con)
    assert sum(compressed.column("weight").to_pylist()) == 2357


# ----------------------------------------------------------------- against a Python reference


def _reference(entries: list[tuple[str, dt.date, int]], end: dt.date) -> dict[str, tuple]:
    days: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    for customer, day, cents in entries:
        if day <= end:
            days[(customer, day)].append(cents)
    purchases: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    spend: dict[str, int] = defaultdict(int)
    for (customer, day), amounts in days.items():
        spend[customer] += sum(amounts)
        if sum(amounts) > 0 or min(amounts) >= 0:
            purchases[customer].append((day, sum(amounts)))
    result = {}
    for customer, bought in purchases.items():
        bought.sort()
        first, last = bought[0][0], bought[-1][0]
        repeat = [a for _, a in bought[1:]]
        result[customer] = (
            len(bought) - 1,
            float((last - first).days),
            float((end - first).days),
            sum(repeat) / 100 / len(repeat) if repeat else None,
            Decimal(spend[customer]) / 100,
        )
    return result


_entry = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]),
    st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 1, 20)),
    st.integers(min_value=-500, max_value=2000),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(_entry, min_size=1, max_size=25))
def test_summary_matches_a_python_reference(
    con: Any, entries: list[tuple[str, dt.date, int]]
) -> None:
    end = dt.date(2024, 1, 15)
    table = pa.table(
        {
            "cust": [c for c, _, _ in entries],
            "date": [d for _, d, _ in entries],
            "amount": pa.array([Decimal(a) / 100 for _, _, a in entries], pa.decimal128(18, 2)),
        }
    )
    tx = from_arrow(table, ColumnMap("cust", "date", "amount"), con=con, timezone="UTC")
    summary = customer_summary(tx, end, con=con)
    got = {
        k: (v["frequency"], v["recency"], v["T"], v["monetary_value"], v["total_spend"])
        for k, v in by_customer(summary, con).items()
    }
    expected = _reference(entries, end)
    assert got.keys() == expected.keys()
    for key, row in expected.items():
        assert got[key][:3] == row[:3]
        assert got[key][3] == (None if row[3] is None else pytest.approx(row[3]))
        assert got[key][4] == row[4]
    assert summary.n_after_end == sum(1 for _, d, _ in entries if d > end)


def test_pandas_scores_keep_float_keys_exact(con: Any) -> None:
    tx = log(("a", "2024-01-01", 1), ("a", "2024-01-04", 1), con=con)
    summary = customer_summary(tx, "2024-01-31", unit="week", con=con)
    scores = to_arrow(compress(summary), con).to_pandas()
    scores["x"] = 1.0
    assert by_customer(join_scores(summary, pd.DataFrame(scores)), con)["a"]["x"] == 1.0


def test_customers_left_out_are_counted_by_reason() -> None:
    tx = log(
        ("kept", "2024-01-01", 10.0),
        ("kept", "2024-02-01", 5.0),
        # the only purchase returned the same day: no purchase left after returns
        ("refunded", "2024-01-05", 40.0),
        ("refunded", "2024-01-05 18:00", -40.0),
        # a purchase, then a refund on another day: still a purchase (frequency 0, spend 0)
        ("returned_later", "2024-01-06", 20.0),
        ("returned_later", "2024-01-09", -20.0),
        ("late", "2024-07-01", 3.0),
    )
    end = dt.date(2024, 6, 30)
    left_out = summaries.customers_left_out(tx, end)
    assert left_out == {
        "customers": 4,
        "no_purchase_after_returns": 1,
        "first_purchase_after_end": 1,
    }
    kept = by_customer(customer_summary(tx, end))
    assert set(kept) == {"kept", "returned_later"}
    assert left_out["customers"] - sum(left_out[r] for r in summaries.LEFT_OUT_REASONS) == len(kept)


def test_repeat_purchases_by_period_count_what_frequency_counts(con: Any) -> None:
    tx = log(
        ("a", "2024-01-01", 10),  # a's first purchase: not a repeat
        ("a", "2024-01-01 17:00", 4),  # the same day: merged
        ("a", "2024-01-06", 7),  # period 0 (days 0-6)
        ("a", "2024-01-09", 3),  # period 1
        ("a", "2024-01-10", -3),  # a return on its own day: not a purchase
        ("b", "2024-01-08", 5),  # b's first purchase (period 1): not a repeat
        ("b", "2024-01-20", 6),  # period 2, after the calibration end: the holdout
        ("b", "2024-02-20", 6),  # after the holdout end: left out
        ("c", "2024-01-16", 2),  # c first bought in the holdout: not a calibration customer
        ("c", "2024-01-17", 2),
        con=con,
    )
    summary = calibration_and_holdout_summary(tx, "2024-01-12", "2024-01-31", con=con)
    got = to_arrow(
        summaries_module.repeat_purchases_by_period(tx, summary, dt.date(2024, 1, 1), 7), con
    ).to_pylist()
    assert sorted((r["period"], r["repeat_purchases"]) for r in got) == [(0, 1), (1, 1), (2, 1)]
    rows = by_customer(summary, con)
    total = sum(r["frequency"] + r["frequency_holdout"] for r in rows.values())
    assert total == sum(r["repeat_purchases"] for r in got)
    with pytest.raises(InputError, match="period_days"):
        summaries_module.repeat_purchases_by_period(tx, summary, dt.date(2024, 1, 1), 0)
