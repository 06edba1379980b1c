"""Reading transaction logs: the canonical table and every kind of bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kehu.errors import (
    ColumnsError,
    ConfigurationError,
    DuplicateIdError,
    EmptyInputError,
    EncodingError,
    InputError,
    InvalidRowsError,
)
from kehu.warehouse import (
    ColumnMap,
    Transactions,
    from_arrow,
    from_table,
    read_cdnow,
    read_csv,
    read_parquet,
    to_arrow,
)
from kehu.warehouse.validation import SHOWN_ROWS

DATA = Path(__file__).resolve().parents[2] / "src" / "kehu" / "data"
COLS = ColumnMap(customer="cust", date="date", amount="amount")
FULL = ColumnMap(customer="cust", date="date", amount="amount", id="tid", cost="cost")

Write = Callable[..., Path]


def rows(tx: Transactions, con: Any = None) -> list[dict[str, Any]]:
    return sorted(to_arrow(tx.table, con).to_pylist(), key=lambda r: r["source_row"])


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ happy paths


def test_csv_gives_the_canonical_table(write: Write, con: Any) -> None:
    path = write(
        csv(
            "tid,cust,date,amount,cost",
            "t1, c1 ,2024-01-31,10.5,4",
            "t2,c2,2024-02-01 14:05:00,-3.25,",
            "t3,c1,20240203,7,1.10",
            ",c3,2024-02-04T08:00:00.5,0,",
        )
    )
    tx = read_csv(path, FULL, con=con, timezone="UTC", minor_units=2)
    assert tx.n_rows == 4 and tx.n_duplicates == 0 and tx.source == str(path)
    schema = tx.table.schema()
    assert list(schema.names) == [
        "customer_id",
        "ts",
        "amount",
        "cost",
        "transaction_id",
        "source_row",
    ]
    assert str(schema["amount"]) == "decimal(18, 2)"
    assert schema["ts"].is_timestamp() and schema["ts"].timezone is None
    got = rows(tx, con)
    assert [r["customer_id"] for r in got] == ["c1", "c2", "c1", "c3"]
    assert [r["ts"] for r in got] == [
        dt.datetime(2024, 1, 31),
        dt.datetime(2024, 2, 1, 14, 5),
        dt.datetime(2024, 2, 3),
        dt.datetime(2024, 2, 4, 8, 0, 0, 500000),
    ]
    assert [r["amount"] for r in got] == [
        Decimal("10.50"),
        Decimal("-3.25"),
        Decimal("7.00"),
        Decimal("0.00"),
    ]
    assert [r["cost"] for r in got] == [Decimal("4.00"), None, Decimal("1.10"), None]
    assert [r["transaction_id"] for r in got] == ["t1", "t2", "t3", None]
    assert [r["source_row"] for r in got] == [1, 2, 3, 4]


def test_minor_units_round_amounts(write: Write, con: Any) -> None:
    path = write(csv("cust,date,amount", "a,2024-01-01,10.5", "a,2024-01-02,2.345"))
    got = rows(read_csv(path, COLS, con=con, timezone="UTC", minor_units=0), con)
    assert (
        str(
            to_arrow(read_csv(path, COLS, con=con, timezone="UTC", minor_units=0).table, con)
            .schema.field("amount")
            .type
        )
        == "decimal128(18, 0)"
    )
    assert [r["amount"] for r in got] == [Decimal("11"), Decimal("2")]


def test_delimiter_is_detected_or_given(write: Write, con: Any) -> None:
    path = write(csv("cust;date;amount", "a;2024-01-01;1,5"))
    with pytest.raises(InputError, match="amount"):  # "1,5" is not a number
        read_csv(path, COLS, con=con, timezone="UTC")
    path = write(csv("cust\tdate\tamount", "a\t2024-01-01\t1.5"), name="tab.csv")
    tx = read_csv(path, COLS, con=con, timezone="UTC", delimiter="\t")
    assert rows(tx, con)[0]["amount"] == Decimal("1.50")


def test_offsets_are_converted_to_the_business_time_zone(write: Write, con: Any) -> None:
    path = write(
        csv(
            "cust,date,amount",
            "a,2024-01-31T23:30:00Z,1",
            "a,2024-01-31 23:30:00+00:00,1",
            "a,2024-02-01T07:30:00+08:00,1",
            "a,2024-02-01 07:30:00 +0800,1",
            "a,2024-01-31T18:30-05,1",
            "a,2024-01-31 23:30:00,1",
        )
    )
    got = rows(read_csv(path, COLS, con=con, timezone="Asia/Shanghai"), con)
    local = dt.datetime(2024, 2, 1, 7, 30)
    assert [r["ts"] for r in got] == [local] * 5 + [dt.datetime(2024, 1, 31, 23, 30)]


def test_date_format_option(write: Write, con: Any) -> None:
    path = write(csv("cust,date,amount", "a,31/01/2024,1", "b,2024-01-31,1"))
    with pytest.raises(InputError) as info:
        read_csv(path, COLS, con=con, timezone="UTC", date_format="%d/%m/%Y")
    # file line 3: the header is line 1
    assert info.value.line == 3 and info.value.value == "2024-01-31"
    assert "--date-format '%d/%m/%Y'" in str(info.value)
    path = write(csv("cust,date,amount", "a,31/01/2024,1"), name="dmy.csv")
    tx = read_csv(path, COLS, con=con, timezone="UTC", date_format="%d/%m/%Y")
    assert rows(tx, con)[0]["ts"] == dt.datetime(2024, 1, 31)


def test_gbk_file_with_encoding_option(write: Write, con: Any) -> None:
    path = write(csv("客户,日期,金额", "张三,2024-01-01,12.5", "李四,2024-01-02,3"), encoding="gbk")
    tx = read_csv(path, ColumnMap("客户", "日期", "金额"), con=con, encoding="gbk", timezone="UTC")
    got = rows(tx, con)
    assert [r["customer_id"] for r in got] == ["张三", "李四"]
    assert [r["source_row"] for r in got] == [1, 2]
    # the temporary UTF-8 copy is gone, the rows stay usable
    assert to_arrow(tx.table.count().as_table(), con).column(0)[0].as_py() == 2


def test_utf8_with_bom_and_latin1(write: Write, con: Any) -> None:
    path = write(b"\xef\xbb\xbf" + csv("cust,date,amount", "a,2024-01-01,1").encode())
    assert rows(read_csv(path, COLS, con=con, timezone="UTC"), con)[0]["customer_id"] == "a"
    path = write(csv("cust,date,amount", "José,2024-01-01,1"), name="l1.csv", encoding="latin-1")
    tx = read_csv(path, COLS, con=con, encoding="latin-1", timezone="UTC")
    assert rows(tx, con)[0]["customer_id"] == "José"


def test_parquet_with_typed_columns(tmp_path: Path, con: Any) -> None:
    table = pa.table(
        {
            "cust": pa.array([1, 2, 1], pa.int64()),
            "when": pa.array(
                [
                    dt.datetime(2024, 1, 31, 23, 30, tzinfo=dt.UTC),
                    dt.datetime(2024, 1, 31, 12, 0, tzinfo=dt.UTC),
                    dt.datetime(2024, 2, 2, 1, 0, tzinfo=dt.UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "paid": pa.array([1.5, 2.0, 3.25], pa.float64()),
            "cost": pa.array([Decimal("1.00"), None, Decimal("0.50")], pa.decimal128(10, 2)),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    columns = ColumnMap("cust", "when", "paid", cost="cost")
    tx = read_parquet(path, columns, con=con, timezone="Asia/Shanghai")
    got = rows(tx, con)
    assert [r["customer_id"] for r in got] == ["1", "2", "1"]
    assert [r["ts"] for r in got] == [
        dt.datetime(2024, 2, 1, 7, 30),
        dt.datetime(2024, 1, 31, 20, 0),
        dt.datetime(2024, 2, 2, 9, 0),
    ]
    assert [r["amount"] for r in got] == [Decimal("1.50"), Decimal("2.00"), Decimal("3.25")]
    assert [r["source_row"] for r in got] == [1, 2, 3]


def test_parquet_nan_amount_and_missing_file(tmp_path: Path, con: Any) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "cust": ["a", "b", "c"],
                "date": ["2024-01-01"] * 3,
                "amount": [1.0, 2.0, float("nan")],
            }
        ),
        path,
    )
    with pytest.raises(InputError, match="finite") as info:
        read_parquet(path, COLS, con=con, timezone="UTC")
    assert info.value.row == 3 and info.value.column == "amount"
    with pytest.raises(InputError, match="no such file"):
        read_parquet(tmp_path / "missing.parquet", COLS, con=con, timezone="UTC")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InputError, match="Parquet"):
        read_parquet(bad, COLS, con=con, timezone="UTC")


def test_from_pandas_and_arrow(con: Any) -> None:
    frame = pd.DataFrame(
        {
            "cust": ["a", "b"],
            "date": pd.to_datetime(["2024-01-31 23:30", "2024-02-01 01:00"]).tz_localize("UTC"),
            "amount": [1.0, 2.5],
            "unused": [0, 0],
        },
        index=[10, 20],
    )
    tx = from_arrow(frame, COLS, con=con, timezone="Asia/Shanghai", source="store")
    got = rows(tx, con)
    assert tx.source == "store"
    assert [r["ts"] for r in got] == [dt.datetime(2024, 2, 1, 7, 30), dt.datetime(2024, 2, 1, 9)]
    assert [r["source_row"] for r in got] == [1, 2]
    arrow = pa.table({"cust": ["x"], "date": [dt.date(2024, 3, 1)], "amount": [Decimal("9.99")]})
    got = rows(from_arrow(arrow, COLS, con=con, timezone="UTC"), con)
    assert got[0]["ts"] == dt.datetime(2024, 3, 1) and got[0]["amount"] == Decimal("9.99")


def test_pandas_nan_amount_is_missing(con: Any) -> None:
    frame = pd.DataFrame(
        {"cust": ["a", "b"], "date": ["2024-01-01"] * 2, "amount": [1.0, float("nan")]}
    )
    with pytest.raises(InputError, match="amount is missing") as info:
        from_arrow(frame, COLS, con=con, timezone="UTC")
    assert info.value.row == 2
    frame["amount"] = [1.0, float("inf")]
    with pytest.raises(InputError, match="finite"):
        from_arrow(frame, COLS, con=con, timezone="UTC")


def test_from_table_any_ibis_table(con: Any) -> None:
    table = ibis.memtable(pa.table({"cust": ["a"], "date": ["2024-01-01"], "amount": ["5"]}))
    got = rows(from_table(table, COLS, con=con, timezone="UTC"), con)
    assert got == [
        {
            "customer_id": "a",
            "ts": dt.datetime(2024, 1, 1),
            "amount": Decimal("5.00"),
            "cost": None,
            "transaction_id": None,
            "source_row": 1,
        }
    ]


def test_read_cdnow_sample_and_master(con: Any) -> None:
    sample = read_cdnow(DATA / "CDNOW_sample.txt", con=con)
    assert sample.n_rows == 6919
    first = rows(sample, con)[0]
    assert first["customer_id"] == "1" and first["ts"] == dt.datetime(1997, 1, 1)
    assert first["amount"] == Decimal("29.33")
    master = read_cdnow(DATA / "CDNOW_master.txt", con=con)
    assert master.n_rows == 69659
    customers = master.table.customer_id.nunique()
    assert to_arrow(customers.as_table(), con).column(0)[0].as_py() == 23570


def test_file_readers_need_duckdb(write: Write) -> None:
    class Other:
        name = "postgres"

    with pytest.raises(ConfigurationError, match="from_table"):
        read_csv(write(csv("cust,date,amount", "a,2024-01-01,1")), COLS, con=Other())


# ------------------------------------------------------------------------------ bad inputs


def test_wrong_column_names_list_the_columns_found(write: Write, con: Any) -> None:
    path = write(csv("Customer,Date,Amount", "a,2024-01-01,1"))
    with pytest.raises(ColumnsError) as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    message = str(info.value)
    assert "'cust'" in message and "'date'" in message and "'amount'" in message
    assert "'Customer', 'Date', 'Amount'" in message
    assert "did you mean" in message
    assert info.value.file == str(path)


def test_optional_columns_are_checked_when_named(write: Write, con: Any) -> None:
    path = write(csv("cust,date,amount", "a,2024-01-01,1"))
    with pytest.raises(ColumnsError, match="'tid'"):
        read_csv(path, FULL, con=con, timezone="UTC")
    with pytest.raises(ColumnsError, match="'nope'"):
        from_arrow(
            pa.table({"cust": ["a"]}), ColumnMap("cust", "nope", "cust"), con=con, timezone="UTC"
        )


def test_gbk_file_read_as_utf8_suggests_gbk(write: Write, con: Any) -> None:
    path = write(csv("cust,date,amount", "张三,2024-01-01,1"), encoding="gbk")
    with pytest.raises(EncodingError, match="--encoding gbk") as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    assert info.value.file == str(path)


def test_bad_bytes_late_in_the_file_name_the_row(write: Write, con: Any) -> None:
    good = "".join(f"c{i},2024-01-01,1\n" for i in range(5000))
    data = ("cust,date,amount\n" + good).encode() + "张三,2024-01-01,1\n".encode("gbk")
    path = write(data)
    with pytest.raises(EncodingError, match="gbk") as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    assert info.value.line == 5002
    # and the other way round: a UTF-8 file declared as gbk
    data = ("cust,date,amount\n" + good + "\u20ac,2024-01-01,1\n").encode()
    path = write(data, name="u.csv")
    with pytest.raises(EncodingError) as info:
        read_csv(path, COLS, con=con, timezone="UTC", encoding="gbk")
    assert info.value.line == 5002


def test_unknown_encoding(write: Write, con: Any) -> None:
    with pytest.raises(EncodingError, match="unknown encoding"):
        read_csv(
            write(csv("cust,date,amount", "a,2024-01-01,1")),
            COLS,
            con=con,
            encoding="no-such-codec",
        )


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_empty_file(write: Write, con: Any, text: str) -> None:
    with pytest.raises(EmptyInputError, match="empty"):
        read_csv(write(text), COLS, con=con, timezone="UTC")


def test_header_only_file(write: Write, con: Any) -> None:
    with pytest.raises(EmptyInputError, match="no data rows"):
        read_csv(write("cust,date,amount\n"), COLS, con=con, timezone="UTC")
    with pytest.raises(EmptyInputError):
        from_arrow(
            pa.table(
                {
                    "cust": pa.array([], pa.string()),
                    "date": pa.array([], pa.string()),
                    "amount": pa.array([], pa.float64()),
                }
            ),
            COLS,
            con=con,
        )


@pytest.mark.parametrize(
    ("line", "column", "value", "reason"),
    [
        ("a,,1,", "date", None, "date is missing"),
        ("a,2024-13-01,1,", "date", "2024-13-01", "cannot read the date"),
        ("a,yesterday,1,", "date", "yesterday", "YYYYMMDD"),
        ("a,20241301,1,", "date", "20241301", "cannot read the date"),
        ("a,2024-01-01,,", "amount", None, "amount is missing"),
        ("a,2024-01-01,NaN,", "amount", "NaN", "finite"),
        ("a,2024-01-01,inf,", "amount", "inf", "finite"),
        ("a,2024-01-01,-Infinity,", "amount", "-Infinity", "finite"),
        ("a,2024-01-01,12 euros,", "amount", "12 euros", "is not a number"),
        ("a,2024-01-01,1e30,", "amount", "1e30", "16 digits"),
        ("a,2024-01-01,1,nan", "cost", "nan", "finite"),
        ("a,2024-01-01,1,abc", "cost", "abc", "is not a number"),
        (",2024-01-01,1,", "cust", None, "customer id is missing"),
        ("   ,2024-01-01,1,", "cust", None, "customer id is missing"),
    ],
)
def test_bad_value_names_file_line_column_value(
    write: Write, con: Any, line: str, column: str, value: str | None, reason: str
) -> None:
    path = write(csv("cust,date,amount,cost", "ok,2024-01-01,1,", "ok,2024-01-02,2,0.5", line))
    columns = ColumnMap("cust", "date", "amount", cost="cost")
    with pytest.raises(InputError, match=reason) as info:
        read_csv(path, columns, con=con, timezone="UTC")
    error = info.value
    # the third data row is on file line 4 (the header is line 1)
    assert (error.file, error.line, error.column, error.value) == (str(path), 4, column, value)
    assert f"file {path}, line 4" in str(error)


def test_every_problem_is_reported_first_met_first(write: Write, con: Any) -> None:
    path = write(csv("cust,date,amount", "a,2024-01-01,x", "b,bad,1", ",2024-01-01,1"))
    with pytest.raises(InvalidRowsError) as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    error = info.value
    assert (error.line, error.column) == (2, "amount")
    assert [(p.column, p.places) for p in error.problems] == [
        ("amount", ((2, "x"),)),
        ("date", ((3, "bad"),)),
        ("cust", ((4, None),)),
    ]
    assert str(error).startswith(f"file {path}: 3 bad rows:")


def test_bad_last_row_of_a_large_file(write: Write, con: Any) -> None:
    n = 200_000
    body = "".join(f"c{i % 997},2024-01-{1 + i % 28:02d},{i % 50}.25\n" for i in range(n))
    path = write("cust,date,amount\n" + body + "c1,2024-01-01,oops\n")
    with pytest.raises(InputError) as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    assert info.value.line == n + 2 and info.value.value == "oops"


def test_row_with_wrong_number_of_fields(write: Write, con: Any) -> None:
    path = write(csv("cust,date,amount", "a,2024-01-01,1", "b,2024-01-01,1,extra,fields"))
    with pytest.raises(InputError, match="cannot read the CSV file") as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    assert info.value.line == 3


def test_lines_are_the_editors_blank_lines_and_quoted_line_breaks_counted(
    write: Write, con: Any
) -> None:
    # issue 9: "row 41" for a bad date on file line 42. DuckDB skips the blank lines and reads
    # the quoted line break as part of a field; the message names the line an editor shows.
    path = write('cust,date,amount\na,2024-01-01,1\n\nb,"2024-01-02\nlater",1\n\nc,2024-01-03,x\n')
    with pytest.raises(InvalidRowsError) as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    assert [(p.column, p.places) for p in info.value.problems] == [
        ("date", ((4, "2024-01-02\nlater"),)),
        ("amount", ((7, "x"),)),
    ]
    assert "line 4 ('2024-01-02\\nlater')" in str(info.value)


def test_every_bad_row_is_reported_up_to_a_limit_with_a_count_of_the_rest(
    write: Write, con: Any
) -> None:
    bad_dates = [f"c{i},31/01/2024,1" for i in range(25)]
    path = write(csv("cust,date,amount", "a,2024-01-01,1", *bad_dates, "b,2024-01-01,lots"))
    with pytest.raises(InvalidRowsError) as info:
        read_csv(path, COLS, con=con, timezone="UTC")
    error = info.value
    dates, amounts = error.problems
    assert (dates.column, dates.n_rows, dates.n_more) == ("date", 25, 25 - SHOWN_ROWS)
    assert [line for line, _ in dates.places] == list(range(3, 3 + SHOWN_ROWS))
    assert amounts.places == ((28, "lots"),)
    message = str(error)
    assert message.startswith(f"file {path}: 26 bad rows:")
    assert "and 5 more rows with the same problem" in message
    # the advice names the option the commands have
    assert "give --date-format, e.g. --date-format '%d/%m/%Y'" in message
    assert "date_format" not in message


def test_repeated_id_with_same_content_is_dropped_once(write: Write, con: Any) -> None:
    path = write(
        csv(
            "tid,cust,date,amount,cost",
            "t1,a,2024-01-01,10,",
            "t2,a,2024-01-02,5,1",
            "t1,a,2024-01-01,10.00,",
            "t2,a,2024-01-02,5.0,1.00",
            "t1,a,2024-01-01T00:00:00,10,",
            ",b,2024-01-03,1,",
            ",b,2024-01-03,1,",
        )
    )
    tx = read_csv(path, FULL, con=con, timezone="UTC")
    assert tx.n_rows == 7 and tx.n_duplicates == 3
    got = rows(tx, con)
    assert [r["source_row"] for r in got] == [1, 2, 6, 7]  # rows without an id are never merged


def test_repeated_id_with_different_content_names_both_rows(write: Write, con: Any) -> None:
    path = write(
        csv(
            "tid,cust,date,amount,cost",
            "t1,a,2024-01-01,10,",
            "t2,a,2024-01-02,5,",
            "t1,a,2024-01-01,10,",
            "t2,a,2024-01-02,5,2",
            "t1,b,2024-01-01,10,",
        )
    )
    with pytest.raises(DuplicateIdError) as info:
        read_csv(path, FULL, con=con, timezone="UTC")
    error = info.value
    assert (error.line, error.column, error.value) == (5, "tid", "t2")
    assert "also on line 3" in str(error)


def test_unknown_time_zone_and_minor_units(write: Write, con: Any) -> None:
    path = write(csv("cust,date,amount", "a,2024-01-01,1"))
    with pytest.raises(ConfigurationError, match="time zone"):
        read_csv(path, COLS, con=con, timezone="Mars/Olympus")
    with pytest.raises(ConfigurationError, match="minor_units"):
        read_csv(path, COLS, con=con, timezone="UTC", minor_units=7)


def test_the_callers_settings_apply_never_the_environment(
    write: Write, con: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the front door passes the business's settings down (issue 7 item 4); the warehouse reads
    # no settings of its own, so the environment changes nothing here
    monkeypatch.setenv("KEHU_TIMEZONE", "America/New_York")
    monkeypatch.setenv("KEHU_CURRENCY", "KWD")
    path = write(csv("cust,date,amount", "a,2024-01-31T23:30:00Z,1.4"))
    tx = read_csv(path, COLS, con=con, timezone="Asia/Shanghai", minor_units=0)  # JPY-like
    assert tx.timezone == "Asia/Shanghai"
    got = rows(tx, con)[0]
    assert got["ts"] == dt.datetime(2024, 2, 1, 7, 30) and got["amount"] == Decimal("1")
    plain = read_csv(path, COLS, con=con)
    assert plain.timezone == "UTC"
    assert rows(plain, con)[0]["amount"] == Decimal("1.40")


def test_missing_file(tmp_path: Path, con: Any) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_csv(tmp_path / "nope.csv", COLS, con=con, timezone="UTC")


def test_crlf_quotes_and_blank_lines(write: Write, con: Any) -> None:
    path = write('cust,date,amount\r\n"a, inc",2024-01-01,"1.5"\r\n\r\n"b",2024-01-02,2\r\n')
    got = rows(read_csv(path, COLS, con=con, timezone="UTC"), con)
    assert [(r["customer_id"], r["amount"], r["source_row"]) for r in got] == [
        ("a, inc", Decimal("1.50"), 1),
        ("b", Decimal("2.00"), 2),  # blank lines are skipped, not counted
    ]
