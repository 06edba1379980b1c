"""The registry of "customer references": every column, in any domain, that points at a customer
and must follow it when two customers are merged (and go back when the merge is undone).

A domain registers its columns once, where its tables are defined::

    from kehu.customers.references import register_customer_reference
    register_customer_reference(Ticket, "customer_id")

Options, for tables that may hold only one row per customer and key:

- ``unique_with``: ``None`` (default) when a customer may have any number of rows; a tuple of
  columns that, with the customer column, are unique (``("tag_id",)`` for tag links; ``()`` for
  one row per customer, like ``customer_scores``). When both customers have a row with the same
  key, one is kept and the other is set aside (archived whole in the merge record, restored by
  an undo).
- ``prefer(survivor_row, merged_row) -> "survivor" | "merged"``: which of two such rows is kept
  (default: the survivor's).
- ``derived``: rows recomputed by the system (scores). They move like the others, but changes to
  them after the merge never block an undo: the next recomputation fixes them.

The registry knows this module's own domain's tables; every other domain registers its own from
its ``registrations`` module, which :mod:`kehu.domains` imports before any request or job runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Table

from kehu.customers.tables import ContactPreference, CustomerContact, CustomerTag, Membership

Side = Literal["survivor", "merged"]
Prefer = Callable[[Mapping[str, Any], Mapping[str, Any]], Side]


@dataclass(frozen=True)
class CustomerReference:
    table: Table
    column: str
    unique_with: tuple[str, ...] | None = None
    prefer: Prefer | None = None
    derived: bool = False

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"


_REFERENCES: dict[str, CustomerReference] = {}
_builtins_registered = False


def _as_table(table: Table | type) -> Table:
    if isinstance(table, Table):
        return table
    found = getattr(table, "__table__", None)
    if not isinstance(found, Table):
        raise TypeError(f"{table!r} is neither a Table nor a mapped class")
    return found


def register_customer_reference(
    table: Table | type,
    column: str,
    *,
    unique_with: tuple[str, ...] | None = None,
    prefer: Prefer | None = None,
    derived: bool = False,
) -> CustomerReference:
    """Declare that ``table.column`` holds a customer id that moves with a merge (registering the
    same column again replaces the earlier declaration)."""
    resolved = _as_table(table)
    for name in (column, *(unique_with or ())):
        if name not in resolved.c:
            raise ValueError(f"{resolved.name} has no column {name!r}")
    if not resolved.primary_key.columns:
        raise ValueError(f"{resolved.name} needs a primary key to be merged and unmerged")
    reference = CustomerReference(resolved, column, unique_with, prefer, derived)
    _REFERENCES[reference.name] = reference
    return reference


def _latest_recorded(survivor: Mapping[str, Any], merged: Mapping[str, Any]) -> Side:
    """Contact preferences: the customer's most recent statement wins (a later withdrawal of
    consent is never lost by a merge); on a tie the survivor's."""
    return "merged" if merged["recorded_at"] > survivor["recorded_at"] else "survivor"


def _register_builtins() -> None:
    global _builtins_registered
    if _builtins_registered:
        return
    builtins: list[tuple[type, str, dict[str, Any]]] = [
        (CustomerContact, "customer_id", {"unique_with": ("type", "normalized")}),
        (CustomerTag, "customer_id", {"unique_with": ("tag_id",)}),
        (Membership, "person_id", {"unique_with": ("organisation_id",)}),
        (Membership, "organisation_id", {"unique_with": ("person_id",)}),
        (
            ContactPreference,
            "customer_id",
            {"unique_with": ("channel",), "prefer": _latest_recorded},
        ),
    ]
    for table, column, options in builtins:
        name = f"{_as_table(table).name}.{column}"
        if name not in _REFERENCES:
            register_customer_reference(table, column, **options)
    _builtins_registered = True


def customer_references() -> list[CustomerReference]:
    """Every registered reference, in registration order: the customers domain's own, then those
    the other domains registered from their ``registrations`` modules (see :mod:`kehu.domains`)."""
    _register_builtins()
    return list(_REFERENCES.values())
