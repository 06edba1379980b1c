"""The integers the store's columns hold, as pydantic types for every input that reaches them.

An integer past a column's range used to answer 500 (SQLite: ``OverflowError`` binding it;
PostgreSQL: ``NumericValueOutOfRange``). The front doors' schemas bound every id, version and
position a request carries with these types instead, so such a value is a 422 naming the field
before any query runs, and the bounds are in the OpenAPI document for clients to see::

    customer_id: Id                      # a path, query or body id
    expected_version: Version | None     # an Integer column on PostgreSQL
    since: UtcInstant | None             # a time, compared with UTCDateTime columns
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

#: PostgreSQL ``integer`` (SQLAlchemy ``Integer``): versions, positions, orders.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: PostgreSQL ``bigint`` and SQLite ``INTEGER``: ids, amounts in minor units.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: The largest id a request may name: JavaScript's ``Number.MAX_SAFE_INTEGER``, the largest
#: integer every JSON reader holds exactly, well inside ``bigint``. (FastAPI writes the bounds
#: of body fields into OpenAPI as floats, and ``INT64_MAX`` as a float is ``2**63``: the document
#: would admit the very value that overflows.) Ids come from the store's sequences, which never
#: get near it.
MAX_ID = 2**53 - 1

#: The last page a list may be asked for: ``(page - 1) * page_size`` stays far inside ``bigint``
#: for any page size (an offset past it overflowed the store's integer: 500).
MAX_PAGE = INT32_MAX

#: A row's id.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: A version for optimistic locking (an ``Integer`` column).
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
#: A place in an order of rows, e.g. a rule's ``position`` (an ``Integer`` column).
Position = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]


def utc_instant(value: datetime) -> datetime:
    """``value`` in UTC (naive: taken as UTC already). A time near the ends of the calendar in
    another zone may have no UTC time (``0001-01-01T00:00+01:00``), and converting it raised
    ``OverflowError`` where the store binds it; here it is a ``ValueError``, which pydantic
    reports as the field's error."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once in UTC") from None


#: A point in time that UTC (and so a ``UTCDateTime`` column) can hold; naive means UTC.
UtcInstant = Annotated[datetime, AfterValidator(utc_instant)]


def parse_positive(text: str, *, at_most: int = MAX_ID) -> int | None:
    """``text`` as an integer from 1 to ``at_most`` (an id by default), else ``None``. ASCII
    digits only (``"²".isdigit()`` holds, but ``int("²")`` fails), and no more of them than
    ``at_most`` has (``int()`` refuses strings of over 4300 digits)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(at_most)):
        return None
    value = int(text)
    return value if 1 <= value <= at_most else None
