"""Merge two customers, and undo a merge.

``merge_customers(survivor, merged)`` moves every row of every registered customer reference
(:mod:`kehu.customers.references`: transactions, cost-to-serve, scores, contacts, tags,
memberships, contact preferences, and whatever later domains register) from the merged customer
to the survivor, in one database transaction. The merged customer stays as a tombstone
(``merged_into_id``), so old links and external ids still resolve. Its events stay on it (the log
is append-only); the timeline of the survivor shows them.

Where only one row per customer and key may exist (a tag link, a score, a channel's consent), one
row is kept and the other is set aside whole in the merge record:

- scores: the survivor keeps its latest score; the merged customer's is archived (the next value
  run scores the merged history anyway). A survivor without a score takes the other's;
- contact preferences: the most recent statement wins, so a withdrawal of consent survives;
- contacts, tags, memberships: the survivor's row is kept; the duplicate is archived.

The merge record (``customer_merges``) lists, per reference, the keys and digests of the moved
rows, the keys of the survivor's own rows at the time, and the archived rows. An admin may undo
the merge within ``Settings.merge_undo_days`` (30 by default) unless something since then cannot
be split back, which refuses the undo with the reason:

- a row referencing the survivor appeared after the merge (a new purchase, ticket, tag...): it
  cannot be told which of the two customers it belongs to;
- a moved row was changed or deleted since;
- the survivor was itself merged into another customer, or another merge into it is still in
  place (undo that one first).

Derived rows (scores) never block an undo: moved ones go back if untouched, archived ones come
back where there is room, and the next value run recomputes the rest.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal, require
from kehu.customers.events import record_event
from kehu.customers.references import CustomerReference, customer_references
from kehu.customers.service import _touch, load_customer, not_found
from kehu.customers.tables import Customer, CustomerMerge
from kehu.errors import ConflictError, NotFoundError, PermissionDeniedError
from kehu.store.base import utc_now


class MergeOut(BaseModel):
    id: int
    survivor_id: int
    merged_id: int
    merged_at: datetime
    merged_by_user_id: int | None
    reason: str | None
    moved: dict[str, int]
    archived: dict[str, int]
    undone_at: datetime | None
    undone_by_user_id: int | None


def _describe(merge: CustomerMerge) -> MergeOut:
    return MergeOut(
        id=merge.id,
        survivor_id=merge.survivor_id,
        merged_id=merge.merged_id,
        merged_at=merge.merged_at,
        merged_by_user_id=merge.merged_by_user_id,
        reason=merge.reason,
        moved={s["reference"]: len(s["moved"]) for s in merge.steps if s["moved"]},
        archived={s["reference"]: len(s["archived"]) for s in merge.steps if s["archived"]},
        undone_at=merge.undone_at,
        undone_by_user_id=merge.undone_by_user_id,
    )


# --- rows as JSON -----------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$decimal":
            return Decimal(inner)
        if tag == "$bytes":
            return base64.b64decode(inner)
    return value


def _encode_row(row: Any) -> dict[str, Any]:
    return {key: _encode(value) for key, value in dict(row).items()}


def _digest(row: Any) -> str:
    payload = json.dumps(_encode_row(row), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _pk(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def _key(table: Table, row: Any) -> list[Any]:
    return [_encode(row[name]) for name in _pk(table)]


def _where_key(table: Table, key: list[Any]) -> Any:
    return and_(*(table.c[name] == _decode(v) for name, v in zip(_pk(table), key, strict=True)))


def _rows(session: Session, reference: CustomerReference, customer_id: int) -> list[Any]:
    table = reference.table
    statement = select(table).where(table.c[reference.column] == customer_id)
    return list(session.execute(statement.order_by(*table.primary_key.columns)).mappings())


# --- merging ----------------------------------------------------------------------------------


def _hold(
    session: Session, principal: Principal, *customer_ids: int, active: bool = False
) -> dict[int, Customer]:
    """The customers, held for the change (``kehu.customers.service.holding``) in id order, so
    that two merges of the same pair wait for each other instead of deadlocking; a merge that
    waited sees what the first did (the pair merged already is refused with the reason)."""
    return {
        customer_id: load_customer(session, principal, customer_id, active=active, hold=True)
        for customer_id in sorted(customer_ids)
    }


def _merge_reference(
    session: Session, reference: CustomerReference, survivor_id: int, merged_id: int
) -> dict[str, Any]:
    table, column = reference.table, reference.column
    survivor_rows = _rows(session, reference, survivor_id)
    merged_rows = _rows(session, reference, merged_id)
    kept = [_key(table, r) for r in survivor_rows]
    archived: list[dict[str, Any]] = []
    to_move = merged_rows
    if reference.unique_with is not None:
        unique = reference.unique_with
        by_key = {tuple(r[c] for c in unique): r for r in survivor_rows}
        to_move = []
        for row in merged_rows:
            theirs = by_key.get(tuple(row[c] for c in unique))
            if theirs is None:
                to_move.append(row)
                continue
            prefer = reference.prefer or (lambda _s, _m: "survivor")
            if prefer(theirs, row) == "survivor":
                archived.append({"side": "merged", "row": _encode_row(row)})
                session.execute(delete(table).where(_where_key(table, _key(table, row))))
            else:
                archived.append({"side": "survivor", "row": _encode_row(theirs)})
                kept.remove(_key(table, theirs))
                session.execute(delete(table).where(_where_key(table, _key(table, theirs))))
                to_move.append(row)
    moved: list[list[Any]] = []
    digests: list[str] = []
    for row in to_move:
        session.execute(
            update(table).where(_where_key(table, _key(table, row))).values({column: survivor_id})
        )
        after = {**dict(row), column: survivor_id}
        key = _key(table, after)
        current = session.execute(select(table).where(_where_key(table, key))).mappings().one()
        moved.append(key)
        digests.append(_digest(current))
    return {
        "reference": reference.name,
        "table": table.name,
        "column": column,
        "derived": reference.derived,
        "moved": moved,
        "digests": digests,
        "kept": kept,
        "archived": archived,
    }


def merge_customers(
    session: Session,
    principal: Principal,
    survivor_id: int,
    merged_id: int,
    *,
    reason: str | None = None,
) -> MergeOut:
    """Fold ``merged_id`` into ``survivor_id`` (both must be active and of the same kind)."""
    require(principal, "customers:merge")
    if survivor_id == merged_id:
        raise ConflictError("a customer cannot be merged with itself")
    held = _hold(session, principal, survivor_id, merged_id, active=True)
    survivor, merged = held[survivor_id], held[merged_id]
    if survivor.kind != merged.kind:
        raise ConflictError(
            f"customer {survivor_id} is a {survivor.kind} and customer {merged_id} a "
            f"{merged.kind}; only customers of the same kind can be merged"
        )
    session.flush()
    steps = [
        _merge_reference(session, reference, survivor.id, merged.id)
        for reference in customer_references()
    ]
    session.expire_all()  # rows moved with Core statements: reload what the session holds
    now = utc_now()
    record = CustomerMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        merged_at=now,
        merged_by_user_id=principal.user_id,
        reason=reason,
        steps=steps,
    )
    session.add(record)
    merged.merged_into_id = survivor.id
    _touch(session, merged)
    _touch(session, survivor)
    session.flush()
    moved = {s["reference"]: len(s["moved"]) for s in steps if s["moved"]}
    record_event(
        session,
        survivor.id,
        "merged",
        principal,
        {"merge_id": record.id, "merged_id": merged.id, "moved": moved, "reason": reason},
        at=now,
    )
    record_event(
        session,
        merged.id,
        "merged_into",
        principal,
        {"merge_id": record.id, "survivor_id": survivor.id, "reason": reason},
        at=now,
    )
    return _describe(record)


# --- undoing ----------------------------------------------------------------------------------


def _load_merge(session: Session, principal: Principal, merge_id: int) -> CustomerMerge:
    record = session.get(CustomerMerge, merge_id)
    if record is None:
        raise NotFoundError(f"merge {merge_id} not found")
    try:
        load_customer(session, principal, record.survivor_id)
    except NotFoundError:
        raise NotFoundError(f"merge {merge_id} not found") from None
    return record


def get_merge(session: Session, principal: Principal, merge_id: int) -> MergeOut:
    return _describe(_load_merge(session, principal, merge_id))


def list_merges(session: Session, principal: Principal, customer_id: int) -> list[MergeOut]:
    """The merges a customer took part in (as survivor or as the merged one), newest first."""
    load_customer(session, principal, customer_id)
    records = session.scalars(
        select(CustomerMerge)
        .where(
            (CustomerMerge.survivor_id == customer_id) | (CustomerMerge.merged_id == customer_id)
        )
        .order_by(CustomerMerge.merged_at.desc(), CustomerMerge.id.desc())
    ).all()
    return [_describe(r) for r in records]


def _why_not(
    session: Session, record: CustomerMerge, steps: list[dict[str, Any]], tables: dict[str, Table]
) -> str | None:
    """The reason this merge cannot be split back now, or ``None``."""
    survivor = session.get(Customer, record.survivor_id)
    if survivor is None:
        return f"customer {record.survivor_id} no longer exists"
    if survivor.merged_into_id is not None:
        return (
            f"customer {survivor.id} has since been merged into customer "
            f"{survivor.merged_into_id}; undo that merge first"
        )
    later = session.scalar(
        select(func.min(CustomerMerge.id))
        .where(CustomerMerge.survivor_id == record.survivor_id)
        .where(CustomerMerge.id > record.id)
        .where(CustomerMerge.undone_at.is_(None))
    )
    if later is not None:
        return f"merge {later} into customer {survivor.id} came later; undo it first"
    for step in steps:
        if step["derived"]:
            continue
        table = tables.get(step["table"])
        if table is None:
            return f"table {step['table']} of this merge is no longer registered"
        column = table.c[step["column"]]
        for key, digest in zip(step["moved"], step["digests"], strict=True):
            row = session.execute(select(table).where(_where_key(table, key))).mappings().first()
            if row is None:
                return f"{step['table']} row {_show(key)} moved by the merge has since been deleted"
            if row[step["column"]] != record.survivor_id or _digest(row) != digest:
                return f"{step['table']} row {_show(key)} moved by the merge has since changed"
        known = {json.dumps(k) for k in step["moved"]} | {json.dumps(k) for k in step["kept"]}
        now_rows = session.execute(
            select(*table.primary_key.columns).where(column == record.survivor_id)
        ).mappings()
        new = [_show(_key(table, r)) for r in now_rows if json.dumps(_key(table, r)) not in known]
        if new:
            listed = ", ".join(new[:5]) + (", ..." if len(new) > 5 else "")
            return (
                f"{len(new)} new {step['table']} row(s) ({listed}) refer to customer "
                f"{record.survivor_id} since the merge; they cannot be split back"
            )
    return None


def _show(key: list[Any]) -> str:
    return str(key[0]) if len(key) == 1 else "(" + ", ".join(str(k) for k in key) + ")"


def undo_merge(
    session: Session,
    principal: Principal,
    merge_id: int,
    *,
    window: timedelta = timedelta(days=30),
) -> MergeOut:
    """Split a merge back: moved rows return to the merged customer, archived rows come back,
    the merged customer is active again. Admins only, within the undo window; refused with the
    reason (``ConflictError``) when something since cannot be split back. ``window`` is the
    front door's ``merge_undo_days`` setting (the default is that setting's default)."""
    require(principal, "customers:merge")
    if "admin" not in principal.roles:
        raise PermissionDeniedError("not allowed: only an admin can undo a merge")
    record = _load_merge(session, principal, merge_id)
    _hold(session, principal, record.survivor_id, record.merged_id)
    session.refresh(record)  # an undo of the same merge that got in first is seen now
    if record.undone_at is not None:
        raise ConflictError(f"merge {merge_id} was already undone on {record.undone_at:%Y-%m-%d}")
    now = utc_now()
    if now > record.merged_at + window:
        raise ConflictError(
            f"merge {merge_id} can no longer be undone: the undo window of {window.days} days "
            f"closed on {(record.merged_at + window):%Y-%m-%d %H:%M} UTC"
        )
    tables = {reference.table.name: reference.table for reference in customer_references()}
    steps = list(record.steps)
    reason = _why_not(session, record, steps, tables)
    if reason is not None:
        raise ConflictError(f"merge {merge_id} cannot be undone: {reason}")
    session.flush()
    restored: dict[str, int] = {}
    for step in steps:
        table = tables[step["table"]]
        column = step["column"]
        for key in step["moved"]:
            # derived rows changed since are left for the next recomputation
            session.execute(
                update(table)
                .where(_where_key(table, key))
                .where(table.c[column] == record.survivor_id)
                .values({column: record.merged_id})
            )
        for archived in step["archived"]:
            row = {name: _decode(value) for name, value in archived["row"].items()}
            key = _key(table, row)
            taken = session.execute(select(table).where(_where_key(table, key))).first()
            if taken is None:
                session.execute(insert(table).values(row))
        if step["moved"] or step["archived"]:
            restored[step["reference"]] = len(step["moved"]) + len(step["archived"])
    session.expire_all()  # rows moved back with Core statements
    survivor = load_customer(session, principal, record.survivor_id)
    merged = load_customer(session, principal, record.merged_id)
    record = _load_merge(session, principal, merge_id)
    merged.merged_into_id = None
    record.undone_at = now
    record.undone_by_user_id = principal.user_id
    _touch(session, merged)
    _touch(session, survivor)
    for customer_id, other in ((survivor.id, merged.id), (merged.id, survivor.id)):
        record_event(
            session,
            customer_id,
            "unmerged",
            principal,
            {"merge_id": record.id, "other_id": other, "restored": restored},
            at=now,
        )
    return _describe(record)


__all__ = ["MergeOut", "get_merge", "list_merges", "merge_customers", "not_found", "undo_merge"]
