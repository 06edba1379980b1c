"""Sorting a list by a ``sort`` parameter: the one parser of ``-created_at,id`` for every list.

A list's use case (or a route) names the keys it may be sorted by and the column or expression
each stands for; :func:`sort_by` turns the caller's ``sort`` into ORDER BY clauses::

    order = sort_by(sort, {"created_at": Thing.created_at, "id": Thing.id},
                    default="-created_at", tiebreak=Thing.id)
    rows = session.scalars(statement.order_by(*order))

``sort`` is comma-separated keys, each ascending, or descending with a leading ``-`` (a leading
``+`` is allowed and means ascending); NULLs sort last either way, the same on SQLite and
PostgreSQL. A key that is not allowed is an :class:`~kehu.errors.InputError` naming the
parameter and listing the allowed keys (the front doors answer it with 422), so that only the
listed columns can ever be sorted by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kehu.errors import InputError

__all__ = ["sort_by"]


def sort_by(
    sort: str | None,
    fields: Mapping[str, Any],
    *,
    default: str,
    tiebreak: Any | None = None,
    field: str = "sort",
) -> list[Any]:
    """Order clauses for ``sort`` (``default`` when empty or ``None``) = comma-separated keys of
    ``fields``, ``-`` before a key for descending, NULLs last; then ``tiebreak`` ascending, when
    given. An unknown key is an ``InputError`` naming ``field`` (the parameter, ``sort``)."""
    clauses: list[Any] = []
    for part in (sort or default).split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.lstrip("-+")
        if name not in fields:
            raise InputError(
                f"cannot sort by {name!r}; sort by one of {', '.join(sorted(fields))}",
                column=field,
            )
        column = fields[name]
        # NULLs last either way, the same on SQLite and PostgreSQL.
        clauses.append((column.desc() if descending else column.asc()).nulls_last())
    if tiebreak is not None:
        clauses.append(tiebreak.asc())
    return clauses
