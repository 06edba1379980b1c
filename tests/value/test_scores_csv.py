"""The scores written as CSV are for spreadsheets: customer ids and codes that a spreadsheet
would run as a formula are marked as text (by column: the text columns), while numbers, a
negative profit included, are written as numbers; Parquet keeps the values as computed."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kehu.value.schemas import ValueOptions, ValueRunResult
from kehu.value.service import write_scores

IDS = ['=HYPERLINK("http://evil.example")', "－5", "-5", "a;=1+2", "c-17", None]


def _result() -> ValueRunResult:
    table = pa.table(
        {
            "customer_id": pa.array(IDS, pa.string()),
            "frequency": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
            "rfm_segment": pa.array(
                ["=1", "champions", None, "@x", "loyal", "new"]
            ).dictionary_encode(),
            "profit": pa.array([-12.5, 0.0, 3.25, None, -0.01, 1e6], pa.float64()),
        }
    )
    return ValueRunResult(options=ValueOptions(observation_end=date(2024, 1, 1)), table=table)


def test_text_columns_are_escaped_and_numbers_are_not(tmp_path: Path) -> None:
    path = write_scores(_result(), tmp_path / "scores.csv")
    raw = path.read_text(encoding="utf-8")
    assert '"－5",' not in raw and ",-12.5\n" in raw  # numbers unquoted, as they are
    rows = list(csv.DictReader(raw.splitlines()))
    assert [row["customer_id"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example")',
        "'－5",
        "'-5",  # a customer id is text, whatever it looks like
        "a;'=1+2",
        "c-17",
        "",
    ]
    assert [row["rfm_segment"] for row in rows] == ["'=1", "champions", "", "'@x", "loyal", "new"]
    assert [row["profit"] for row in rows] == ["-12.5", "0", "3.25", "", "-0.01", "1000000"]


def test_parquet_keeps_the_values_as_computed(tmp_path: Path) -> None:
    result = _result()
    path = write_scores(result, tmp_path / "scores.parquet")
    assert pq.read_table(path).column("customer_id").to_pylist() == IDS
    assert result.table.column("customer_id").to_pylist() == IDS  # the result is not changed
