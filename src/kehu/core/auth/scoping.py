"""The one permission layer every query goes through.

Each domain registers, for each entity it owns, a function that narrows a ``select`` to the rows
a principal may see (e.g. tickets: an agent's own teams' tickets; customers: everything for
staff). Lists, searches, "similar" lists, timelines and exports all call :func:`scoped` before
executing; a lookup by id that finds nothing in scope raises ``NotFoundError`` with the same
message as a missing id (no hint that the record exists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select

from kehu.core.auth.principal import Principal, require

#: Any SELECT, whatever its columns (SQLAlchemy 2.1 types a select by its column tuple).
AnySelect = Select[*tuple[Any, ...]]
Statement = TypeVar("Statement", bound=AnySelect)
ScopeFunction = Callable[[AnySelect, Principal], AnySelect]

_READ_PERMISSION: dict[type, str] = {}
_SCOPES: dict[type, ScopeFunction] = {}


def register_scope(entity: type, read_permission: str, scope: ScopeFunction | None = None) -> None:
    """Declare how rows of ``entity`` are narrowed for a principal (``None``: every row, given
    ``read_permission``)."""
    _READ_PERMISSION[entity] = read_permission
    _SCOPES[entity] = scope or (lambda statement, _principal: statement)


def scoped(statement: Statement, principal: Principal, entity: type) -> Statement:
    """``statement`` narrowed to the rows of ``entity`` that ``principal`` may read.

    Raises ``PermissionDeniedError`` without the read permission, and ``LookupError`` for an
    entity no domain registered (a programming error: every queried entity must be scoped).
    """
    if entity not in _SCOPES:
        raise LookupError(f"{entity.__name__} has no registered scope; see kehu.core.auth.scoping")
    require(principal, _READ_PERMISSION[entity])
    narrowed = _SCOPES[entity](statement, principal)
    return narrowed  # type: ignore[return-value]
