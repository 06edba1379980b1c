"""The registry of personal data: where, in any domain's tables, a customer's personal data is
kept, and how it is erased when the customer asks to be forgotten.

Model
-----
Every text, JSON or binary column of every table is accounted for, once, in one of two ways:

- **personal**: :func:`register_personal_fields` names the table, its personal columns, *which
  rows belong to a customer* and *how the columns are erased*;
- **not personal**: :func:`declare_not_personal` names columns that hold no customer's personal
  data (codes, digests, settings, staff accounts), with the reason, so that a reviewer can
  disagree with it. A test fails on any column that is neither.

Which rows belong to the customers ``ids``:

- ``customer_column="customer_id"`` (the default): rows whose column is one of the ids;
- ``rows=callable``: ``rows(ids)`` returns the condition (a SQL expression on the table) for rows
  reached through another table, e.g. ``rows=through(Message.ticket_id, Ticket)``: the messages
  of the tickets whose ``customer_id`` is one of the ids.

How the columns are erased (``erase``; one mode for all the columns, or a mapping per column):

- ``"null"``: set to NULL (the column must be nullable);
- ``"blank"``: text becomes ``""``; a JSON value becomes the empty value of its kind
  (``{}``, ``[]``, ``""``);
- ``"redact"``: text becomes :data:`MARKER` (``"[erased]"``; an empty or NULL value stays as it
  is); in a JSON value every string is replaced by the marker, keys and numbers are kept (see
  :func:`redact_strings` to keep the strings under some keys: codes);
- ``"delete_row"``: the rows are deleted (for the whole registration, not per column);
- a callable ``value -> value``: the new value of each row's column, computed in Python.

A table with an optimistic lock names its counter (``version_column="version"``): the erasure
increments it, so an edit begun before the erasure cannot write the erased text back.

Two more kinds of registration cover what no column declaration reaches:

- :func:`register_audit_entity`: the audit events about an entity of the customer (``customer``
  12, ``ticket`` 40) have their payloads erased with :func:`kehu.core.audit.erase_personal_data`,
  which the audit chain survives; these registrations account for ``audit_events.before``,
  ``after`` and ``salt``;
- :func:`register_personal_eraser`: a callable ``(session, customer_ids, now) -> count`` for
  anything else, naming the columns it covers.

What is not in a table (files on disk, caches) is erased by handlers of
:class:`kehu.core.events.CustomerErased`, which the erasure publishes in its transaction.

Erasing
-------
:func:`erase_personal_data_of` applies every registration to the given customer ids in the
caller's transaction: updates, audit and custom erasers in registration order, then the row
deletions (so that a condition reached through another table still finds its rows). It returns
the number of rows each registration covered, by registration name (a registration's name is
its table's name unless given; audit registrations are named ``audit:<entity>``). Erasing again
is harmless: it finds the same rows and leaves them as they are.

:func:`erase_row_copy` applies the registrations of one table to a copy of one of its rows
(an archive kept as JSON elsewhere): ``None`` when such rows are deleted.

A domain registers from its ``registrations`` module; :func:`registrations`,
:func:`personal_columns`, :func:`not_personal_columns` and :func:`unaccounted_columns` list what
was registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from sqlalchemy import (
    JSON,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kehu.core.audit import erase_personal_data
from kehu.core.audit.tables import AuditEvent

__all__ = [
    "MARKER",
    "AuditEntity",
    "CustomEraser",
    "EraseMode",
    "NotPersonal",
    "PersonalDataRegistry",
    "PersonalFields",
    "declare_not_personal",
    "erase_personal_data_of",
    "erase_row_copy",
    "not_personal_columns",
    "personal_columns",
    "redact_strings",
    "register_audit_entity",
    "register_personal_eraser",
    "register_personal_fields",
    "registrations",
    "through",
    "unaccounted_columns",
]

#: What a redacted text reads afterwards.
MARKER = "[erased]"

EraseMode = Literal["null", "blank", "redact", "delete_row"]
Transform: TypeAlias = Callable[[Any], Any]
ColumnErasure: TypeAlias = EraseMode | Transform
RowsOf: TypeAlias = Callable[[Sequence[int]], ColumnElement[bool]]
Eraser: TypeAlias = Callable[[Session, Sequence[int], datetime], int]
TableLike: TypeAlias = Table | type

_MODES = ("null", "blank", "redact", "delete_row")
_AUDIT_COLUMNS = ("before", "after", "salt")


def _as_table(table: TableLike) -> Table:
    if isinstance(table, Table):
        return table
    found = getattr(table, "__table__", None)
    if not isinstance(found, Table):
        raise TypeError(f"{table!r} is neither a Table nor a mapped class")
    return found


def _is_text(table: Table, column: str) -> bool:
    return isinstance(table.c[column].type, String | Text)


def _is_json(table: Table, column: str) -> bool:
    return isinstance(table.c[column].type, JSON)


def is_accountable(table: Table, column: str) -> bool:
    """Whether a column may hold personal data and so must be accounted for: text, JSON and
    binary columns."""
    return isinstance(table.c[column].type, String | Text | JSON | LargeBinary)


def _check_columns(table: Table, columns: Iterable[str]) -> tuple[str, ...]:
    if isinstance(columns, str):
        raise TypeError("columns is a list of column names, not one string")
    names = tuple(columns)
    if not names:
        raise ValueError(f"name at least one column of {table.name}")
    for name in names:
        if name not in table.c:
            raise ValueError(f"{table.name} has no column {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"a column of {table.name} is named twice")
    return names


# --- JSON helpers -------------------------------------------------------------------------------


def _redact_json(value: Any, keep: frozenset[str]) -> Any:
    if isinstance(value, str):
        return MARKER if value else value
    if isinstance(value, dict):
        return {k: v if k in keep else _redact_json(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(item, keep) for item in value]
    return value


def _blank_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    if isinstance(value, str):
        return ""
    return None


def redact_strings(*, keep: Iterable[str] = ()) -> Transform:
    """A transform for JSON columns: every string in the value becomes :data:`MARKER`, except
    the values under the keys in ``keep`` (at any depth: codes such as ``status``); keys,
    numbers and booleans stay."""
    kept = frozenset(keep)

    def redact(value: Any) -> Any:
        return _redact_json(value, kept)

    redact.__name__ = f"redact_strings(keep={sorted(kept)})"
    return redact


def through(column: Any, parent: TableLike, parent_customer_column: str = "customer_id") -> RowsOf:
    """Rows reached through another table: those whose ``column`` (e.g. ``Message.ticket_id``)
    is the primary key of a ``parent`` row (a ticket) whose ``parent_customer_column`` is one of
    the customer ids."""
    table = _as_table(parent)
    if parent_customer_column not in table.c:
        raise ValueError(f"{table.name} has no column {parent_customer_column!r}")
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise ValueError(f"{table.name} needs a one-column primary key to be reached through")

    def rows(customer_ids: Sequence[int]) -> ColumnElement[bool]:
        parents = select(keys[0]).where(table.c[parent_customer_column].in_(customer_ids))
        condition: ColumnElement[bool] = column.in_(parents)
        return condition

    rows.__name__ = f"through({column}, {table.name}.{parent_customer_column})"
    return rows


# --- registrations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """Which rows of ``table`` belong to the customers: by a column, or by a condition."""

    table: Table
    customer_column: str | None
    rows: RowsOf | None

    def where(self, customer_ids: Sequence[int]) -> ColumnElement[bool]:
        if self.rows is not None:
            return self.rows(customer_ids)
        assert self.customer_column is not None
        return self.table.c[self.customer_column].in_(customer_ids)

    @property
    def described(self) -> str:
        if self.rows is not None:
            return getattr(self.rows, "__name__", repr(self.rows))
        return f"{self.table.name}.{self.customer_column}"


def _rows_of(table: Table, customer_column: str | None, rows: RowsOf | None) -> _Rows:
    if customer_column is not None and rows is not None:
        raise TypeError("give customer_column or rows, not both")
    if rows is None:
        customer_column = customer_column or "customer_id"
        if customer_column not in table.c:
            raise ValueError(f"{table.name} has no column {customer_column!r}")
    elif not callable(rows):
        raise TypeError("rows is a callable: customer ids -> a condition on the table")
    return _Rows(table, customer_column, rows)


@dataclass(frozen=True)
class PersonalFields:
    """Personal columns of one table, the rows of a customer and how each column is erased."""

    name: str
    table: Table
    erase: Mapping[str, ColumnErasure]
    belongs: _Rows
    delete_row: bool = False
    version_column: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.erase)

    def covers(self) -> list[str]:
        return [f"{self.table.name}.{column}" for column in self.erase]

    def describe(self) -> str:
        how = (
            "delete_row"
            if self.delete_row
            else ", ".join(
                f"{c}: {m if isinstance(m, str) else getattr(m, '__name__', 'callable')}"
                for c, m in self.erase.items()
            )
        )
        return f"{self.name}: {how} (rows: {self.belongs.described})"


@dataclass(frozen=True)
class AuditEntity:
    """Audit events about ``entity`` ids: the primary keys of the table's rows of a customer."""

    name: str
    entity: str
    belongs: _Rows

    def covers(self) -> list[str]:
        table = _as_table(AuditEvent)
        return [f"{table.name}.{column}" for column in _AUDIT_COLUMNS]

    def describe(self) -> str:
        return f"{self.name}: audit payloads of {self.entity} (rows: {self.belongs.described})"


@dataclass(frozen=True)
class CustomEraser:
    """A callable erasing what a column declaration cannot express; ``covered`` lists the
    ``table.column`` names it accounts for."""

    name: str
    eraser: Eraser
    covered: tuple[str, ...] = field(default=())

    def covers(self) -> list[str]:
        return list(self.covered)

    def describe(self) -> str:
        return f"{self.name}: {getattr(self.eraser, '__name__', 'callable')}"


@dataclass(frozen=True)
class NotPersonal:
    table: Table
    columns: tuple[str, ...]
    reason: str


Registration: TypeAlias = PersonalFields | AuditEntity | CustomEraser


class PersonalDataRegistry:
    """Registrations and declarations (the module keeps one: :data:`REGISTRY`)."""

    def __init__(self) -> None:
        self._registrations: dict[str, Registration] = {}
        self._not_personal: dict[str, NotPersonal] = {}

    # --- registering ----------------------------------------------------------------------------

    def _add(self, registration: Registration) -> Registration:
        existing = self._registrations.get(registration.name)
        if existing is not None:
            if existing == registration:
                return existing  # the same registration again (a module imported twice)
            raise ValueError(
                f"personal data {registration.name!r} is registered already "
                f"({existing.describe()}); give the second registration a name of its own"
            )
        for name in registration.covers():
            if name in self._not_personal:
                raise ValueError(
                    f"{name} is declared not personal ({self._not_personal[name].reason})"
                )
        self._registrations[registration.name] = registration
        return registration

    def register_personal_fields(
        self,
        table: TableLike,
        columns: Iterable[str],
        *,
        erase: ColumnErasure | Mapping[str, ColumnErasure] = "null",
        customer_column: str | None = None,
        rows: RowsOf | None = None,
        name: str | None = None,
        version_column: str | None = None,
    ) -> PersonalFields:
        """Declare personal ``columns`` of ``table`` (see the module documentation).
        ``version_column``: an optimistic-lock counter the erasure increments on the erased
        rows, so that an edit made on a version read before the erasure is refused instead of
        writing the erased text back."""
        resolved = _as_table(table)
        names = _check_columns(resolved, columns)
        if version_column is not None and version_column not in resolved.c:
            raise ValueError(f"{resolved.name} has no column {version_column!r}")
        if not resolved.primary_key.columns:
            raise ValueError(f"{resolved.name} needs a primary key for its rows to be erased")
        if isinstance(erase, Mapping):
            unknown = set(erase) - set(names)
            if unknown or set(names) - set(erase):
                raise ValueError(
                    f"erase names {sorted(erase)}, the columns are {sorted(names)}: name each "
                    "column once"
                )
            modes = {column: erase[column] for column in names}
        else:
            modes = dict.fromkeys(names, erase)
        delete_row = any(mode == "delete_row" for mode in modes.values())
        if delete_row and any(mode != "delete_row" for mode in modes.values()):
            raise ValueError("delete_row deletes whole rows: it cannot be mixed with other modes")
        for column, mode in modes.items():
            self._check_mode(resolved, column, mode)
        registration = PersonalFields(
            name or resolved.name,
            resolved,
            modes,
            _rows_of(resolved, customer_column, rows),
            delete_row,
            None if delete_row else version_column,
        )
        self._add(registration)
        return registration

    @staticmethod
    def _check_mode(table: Table, column: str, mode: ColumnErasure) -> None:
        where = f"{table.name}.{column}"
        if callable(mode):
            return
        if mode not in _MODES:
            raise ValueError(f"{where}: erase is one of {', '.join(_MODES)} or a callable")
        if mode == "null" and not table.c[column].nullable:
            raise ValueError(f"{where} is NOT NULL: erase it with 'blank' or 'redact'")
        if mode in ("blank", "redact"):
            if not (_is_text(table, column) or _is_json(table, column)):
                raise ValueError(f"{where}: {mode!r} erases text and JSON columns only")
            length = getattr(table.c[column].type, "length", None)
            if mode == "redact" and length is not None and length < len(MARKER):
                raise ValueError(f"{where} is too short to hold {MARKER!r}")

    def register_audit_entity(
        self,
        entity: str,
        table: TableLike,
        *,
        customer_column: str | None = None,
        rows: RowsOf | None = None,
    ) -> AuditEntity:
        """The audit events about ``entity`` (``"ticket"``) whose entity id is the primary key of
        one of ``table``'s rows of the customer are erased (their payloads)."""
        resolved = _as_table(table)
        if len(resolved.primary_key.columns) != 1:
            raise ValueError(f"{resolved.name} needs a one-column primary key (the entity id)")
        registration = AuditEntity(
            f"audit:{entity}", entity, _rows_of(resolved, customer_column, rows)
        )
        self._add(registration)
        return registration

    def register_personal_eraser(
        self, name: str, eraser: Eraser, *, covers: Mapping[TableLike, Iterable[str]] | None = None
    ) -> CustomEraser:
        """A callable ``eraser(session, customer_ids, now) -> count`` run by the erasure;
        ``covers`` names the columns it accounts for (``{Table: ["column"]}``)."""
        if not callable(eraser):
            raise TypeError("eraser is a callable (session, customer_ids, now) -> count")
        covered: list[str] = []
        for table, columns in (covers or {}).items():
            resolved = _as_table(table)
            covered += [f"{resolved.name}.{c}" for c in _check_columns(resolved, columns)]
        registration = CustomEraser(name, eraser, tuple(covered))
        self._add(registration)
        return registration

    def declare_not_personal(self, table: TableLike, columns: Iterable[str], reason: str) -> None:
        """Declare that ``columns`` of ``table`` hold no customer's personal data, and why."""
        resolved = _as_table(table)
        names = _check_columns(resolved, columns)
        if not reason or not reason.strip():
            raise ValueError("say why the columns hold no personal data")
        personal = self.personal_columns()
        declaration = NotPersonal(resolved, names, reason.strip())
        for column in names:
            key = f"{resolved.name}.{column}"
            if key in personal:
                raise ValueError(f"{key} is registered as personal ({', '.join(personal[key])})")
            existing = self._not_personal.get(key)
            if existing is not None and existing.reason != declaration.reason:
                raise ValueError(f"{key} is declared not personal already ({existing.reason})")
        for column in names:
            self._not_personal[f"{resolved.name}.{column}"] = declaration

    # --- listing --------------------------------------------------------------------------------

    def registrations(self) -> list[Registration]:
        """Every registration, in registration order."""
        return list(self._registrations.values())

    def personal_columns(self) -> dict[str, list[str]]:
        """``table.column`` -> the names of the registrations that erase it."""
        found: dict[str, list[str]] = {}
        for registration in self._registrations.values():
            for name in registration.covers():
                found.setdefault(name, []).append(registration.name)
        return found

    def not_personal_columns(self) -> dict[str, str]:
        """``table.column`` -> why it holds no personal data."""
        return {name: declaration.reason for name, declaration in self._not_personal.items()}

    def unaccounted_columns(self, metadata: MetaData) -> list[str]:
        """The text, JSON and binary columns of ``metadata``'s tables that are neither registered
        as personal nor declared not personal (``table.column``, sorted)."""
        accounted = set(self.personal_columns()) | set(self._not_personal)
        return sorted(
            f"{table.name}.{column.name}"
            for table in metadata.tables.values()
            for column in table.columns
            if is_accountable(table, column.name) and f"{table.name}.{column.name}" not in accounted
        )

    # --- erasing --------------------------------------------------------------------------------

    def erase(
        self, session: Session, customer_ids: Sequence[int], *, now: datetime
    ) -> dict[str, int]:
        """Apply every registration to ``customer_ids`` in the caller's transaction (see the
        module documentation); the rows each covered, by registration name."""
        ids = sorted({int(i) for i in customer_ids})
        counts = dict.fromkeys(self._registrations, 0)
        if not ids:
            return counts
        session.flush()
        ordered = [r for r in self._registrations.values() if not _deletes(r)]
        ordered += [r for r in self._registrations.values() if _deletes(r)]
        for registration in ordered:
            if isinstance(registration, PersonalFields):
                counts[registration.name] = _erase_fields(session, registration, ids)
            elif isinstance(registration, AuditEntity):
                counts[registration.name] = _erase_audit(session, registration, ids)
            else:
                counts[registration.name] = int(registration.eraser(session, ids, now))
        # the rows changed underneath the objects the session holds
        session.expire_all()
        return counts

    def erase_row_copy(
        self, table: TableLike | str, row: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """A copy of one row of ``table`` (a mapping of column names, as archived elsewhere)
        with the table's registered personal columns erased; ``None`` when such rows are
        deleted. Columns the copy lacks are left out; callables see the stored value."""
        table_name = table if isinstance(table, str) else _as_table(table).name
        erased = dict(row)
        for registration in self._registrations.values():
            if not isinstance(registration, PersonalFields):
                continue
            if registration.table.name != table_name:
                continue
            if registration.delete_row:
                return None
            for column, mode in registration.erase.items():
                if column in erased:
                    erased[column] = _erase_value(registration.table, column, mode, erased[column])
        return erased


def _deletes(registration: Registration) -> bool:
    return isinstance(registration, PersonalFields) and registration.delete_row


def _erase_value(table: Table, column: str, mode: ColumnErasure, value: Any) -> Any:
    if callable(mode):
        return mode(value)
    if mode == "null" or value is None:
        return None
    if _is_json(table, column):
        return _blank_json(value) if mode == "blank" else _redact_json(value, frozenset())
    if mode == "blank":
        return ""
    return MARKER if value != "" else value


def _in_sql(table: Table, column: str, mode: ColumnErasure) -> Any:
    """The SQL value a column is set to, or ``None`` when it is computed per row in Python."""
    if callable(mode):
        return None
    if mode == "null":
        return null()
    if _is_json(table, column):
        return None
    target = table.c[column]
    if mode == "blank":
        return case((target.is_(None), target), else_=literal(""))
    return case((or_(target.is_(None), target == ""), target), else_=literal(MARKER))


def _erase_fields(session: Session, registration: PersonalFields, ids: Sequence[int]) -> int:
    table = registration.table
    where = registration.belongs.where(ids)
    if registration.delete_row:
        result = session.execute(delete(table).where(where))
        return int(getattr(result, "rowcount", 0) or 0)
    in_sql: dict[str, Any] = {}
    in_python: dict[str, ColumnErasure] = {}
    for column, mode in registration.erase.items():
        value = _in_sql(table, column, mode)
        if value is None:
            in_python[column] = mode
        else:
            in_sql[column] = value
    keys = list(table.primary_key.columns)
    if registration.version_column is not None:
        version = table.c[registration.version_column]
        if in_sql:
            in_sql[version.name] = version + 1
    count = 0
    if in_python:
        selected = select(*keys, *(table.c[c] for c in in_python)).where(where)
        rows = session.execute(selected.order_by(*keys)).mappings().all()
        count = len(rows)
        for row in rows:
            values = {}
            for column, mode in in_python.items():
                new = _erase_value(table, column, mode, row[column])
                if new != row[column]:
                    values[column] = null() if new is None else new
            if values:
                if registration.version_column is not None and not in_sql:
                    values[version.name] = version + 1
                match = and_(*(key == row[key.name] for key in keys))
                session.execute(update(table).where(match).values(values))
    if in_sql:
        result = session.execute(update(table).where(where).values(in_sql))
        count = max(count, int(getattr(result, "rowcount", 0) or 0))
    return count


def _erase_audit(session: Session, registration: AuditEntity, ids: Sequence[int]) -> int:
    table = registration.belongs.table
    (key,) = table.primary_key.columns
    entity_ids = session.scalars(select(key).where(registration.belongs.where(ids)).order_by(key))
    return sum(erase_personal_data(session, registration.entity, i) for i in list(entity_ids))


#: The registry the domains register with (from their ``registrations`` modules).
REGISTRY = PersonalDataRegistry()

register_personal_fields = REGISTRY.register_personal_fields
register_audit_entity = REGISTRY.register_audit_entity
register_personal_eraser = REGISTRY.register_personal_eraser
declare_not_personal = REGISTRY.declare_not_personal
registrations = REGISTRY.registrations
personal_columns = REGISTRY.personal_columns
not_personal_columns = REGISTRY.not_personal_columns
unaccounted_columns = REGISTRY.unaccounted_columns
erase_row_copy = REGISTRY.erase_row_copy


def erase_personal_data_of(
    session: Session, customer_ids: Sequence[int], *, now: datetime
) -> dict[str, int]:
    """Erase every registered personal field of ``customer_ids`` in the caller's transaction;
    returns the rows each registration covered, by registration name."""
    return REGISTRY.erase(session, customer_ids, now=now)
