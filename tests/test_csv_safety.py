"""CSV for spreadsheets: no cell a spreadsheet would run as a formula, whichever separator it
splits the file on, and numeric columns left as numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kehu.csv_safety import (
    BYTE_ORDER_MARK,
    SEPARATORS,
    looks_like_formula,
    spreadsheet_csv,
    starts_formula,
    text_cell,
    value_cell,
)

FORMULAS = [
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(A1:A2)",
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    "\tplain",  # OWASP: a leading tab or CR is escaped whatever follows
    "\rplain",
    '＝HYPERLINK("http://evil.example")',  # full-width, as Chinese input methods type it
    "＋1",
    "－1",
    "＠SUM(A1)",
    "﹦1+2",  # small equals sign
    "   =1+2",  # spreadsheets skip leading spaces
    "\u00a0=1+2",  # no-break space
    "\u3000＝1+2",  # ideographic space
    "\u200b=1+2",  # zero-width space hides the trigger
    "\ufeff=1+2",
    "\u202e=1+2",
    '"=1+2',  # a stray quote before the trigger
]
TEXT = [
    "",
    "Li Lei",
    "王小明",
    "a=b",
    "x@example.com",
    "1-2",
    "'=already text",
    "a;b",
    "line one\nline two",
    "１２",  # full-width digits
]
#: A trigger after a separator: the mark goes after the separator, where a spreadsheet
#: splitting on it would start a cell.
INSIDE = [
    ("a;=1+2", "a;'=1+2"),
    ("a,=1+2", "a,'=1+2"),
    ("a|=1+2", "a|'=1+2"),
    ("a\t=1+2", "a\t'=1+2"),
    ("a\n=1+2", "a\n'=1+2"),
    ("a; ＝1+2", "a;' ＝1+2"),
    ('a;"=1+2', "a;'\"=1+2"),
    ("+86 1;+86 2", "'+86 1;'+86 2"),
    ("=1;=2", "'=1;'=2"),
]


@pytest.mark.parametrize("text", FORMULAS)
def test_cells_a_spreadsheet_would_evaluate_are_marked_as_text(text: str) -> None:
    assert looks_like_formula(text)
    cell = text_cell(text)
    assert cell.startswith("'") and cell.replace("'", "") == text.replace("'", "")
    if text[0] not in SEPARATORS:
        assert cell == "'" + text


@pytest.mark.parametrize("text", TEXT)
def test_other_text_is_kept_as_it_is(text: str) -> None:
    assert not looks_like_formula(text)
    assert text_cell(text) == text


@pytest.mark.parametrize(("text", "cell"), INSIDE)
def test_a_trigger_after_a_separator_is_marked_where_a_new_cell_would_start(
    text: str, cell: str
) -> None:
    assert looks_like_formula(text)
    assert text_cell(text) == cell


def test_values_are_written_as_kehu_formats_them_and_text_is_refused() -> None:
    assert value_cell(Decimal("-12.50")) == "-12.50"
    assert value_cell(-3) == "-3" and value_cell(-0.5) == "-0.5"
    assert value_cell(None) == "" and text_cell(None) == ""
    assert value_cell(True) == "True"
    assert value_cell(datetime(2026, 3, 1, 8, 30)) == "2026-03-01T08:30:00+00:00"  # naive: UTC
    east8 = datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))
    assert value_cell(east8) == "2026-03-01T08:30:00+08:00"
    assert value_cell(date(2026, 3, 1)) == "2026-03-01"
    with pytest.raises(TypeError, match="text_cell"):
        value_cell("-12.50")  # type: ignore[arg-type]


HOSTILE = [
    "a;=1+2",
    "b,=1+2",
    "c|=1+2",
    "d\t=1+2",
    'e";=1+2',  # tries to close the quotes first
    'f",=HYPERLINK("http://evil.example")',
    "g\r\n=1+2",
    "h; ＝1+2",
]


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_no_separator_a_spreadsheet_may_choose_starts_a_formula(separator: str) -> None:
    document = spreadsheet_csv(
        ["id", "name", "amount", "at"],
        [
            [value_cell(n), text_cell(name), value_cell(Decimal("-12.50")), value_cell(None)]
            for n, name in enumerate([*HOSTILE, *FORMULAS], start=1)
        ],
    )
    assert document.startswith(BYTE_ORDER_MARK)
    # Python's reader is as lenient as a spreadsheet's: a quote after the start of a cell is
    # kept as a character, so with another separator than the file's, cells split inside ours.
    text = io.StringIO(document.removeprefix(BYTE_ORDER_MARK), newline="")
    cells = [cell for row in csv.reader(text, delimiter=separator) for cell in row]
    starts = [cell for cell in cells if starts_formula(cell) and cell != "-12.50"]
    assert starts == []


def test_every_cell_is_quoted_and_reads_back_as_written() -> None:
    rows = [["1", text_cell('say "hi";=1'), value_cell(Decimal("-12.50"))]]
    document = spreadsheet_csv(["id", "note", "amount"], rows)
    assert document == (
        BYTE_ORDER_MARK + '"id","note","amount"\r\n"1","say ""hi"";\'=1","-12.50"\r\n'
    )
    read = list(csv.reader(io.StringIO(document.removeprefix(BYTE_ORDER_MARK))))
    assert read[1] == rows[0]
    assert read[1][2] == "-12.50"  # an amount stays a number


def test_timestamps_of_the_store_are_utc() -> None:
    assert value_cell(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00+00:00"
