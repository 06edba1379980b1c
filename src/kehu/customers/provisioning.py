"""Customers that other domains bring into the store, and the lookups they need to link their own
rows to customers, without knowing the customers' tables.

The value import (:mod:`kehu.value.importing`) knows its customers by the business's external id
alone. :func:`ensure_customers` creates the ones the store does not know yet as every customer
is created: with its search keys (:mod:`kehu.customers.search_keys`, so a search finds it by its
id), UTC timestamps, and a ``created`` customer event, acting as the system, and audits them. It
writes a batch per statement, since an import may bring hundreds of thousands of customers: one
audit event per batch of created customers (see :func:`_record_created`).

Reads:

- :func:`customer_directory` -- a subquery of the customers a principal may see (``id``,
  ``external_id``, ``name``, ``survivor_id``: the customer a merged one was merged into, else
  itself), for a domain to join its own rows with, through the permission layer;
- :func:`customer_ids_by_external_id` and :func:`external_ids_by_id` -- the two directions of
  the business's ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Select, String, Subquery, Table, func, insert, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from kehu.core.audit import record_audit
from kehu.core.auth import SYSTEM, Principal, scoped
from kehu.customers.search_keys import fill_missing_search_keys
from kehu.customers.tables import Customer, CustomerEvent

__all__ = [
    "customer_directory",
    "customer_ids_by_external_id",
    "ensure_customers",
    "external_ids_by_id",
]

#: customers created (and looked up) per statement
BATCH_ROWS = 5_000
#: a new customer's kind (the column's server default)
NEW_KIND = "person"
#: the audit entity of a batch of created customers
BATCH_ENTITY = "customer_batch"

_T = TypeVar("_T")


def _batches(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    size = BATCH_ROWS
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (UTC)")
    return now.astimezone(UTC)


# -- creating ---------------------------------------------------------------------------------


def ensure_customers(
    session: Session,
    external_ids: Iterable[str] | Select[Any],
    *,
    now: datetime,
    source: str | None = None,
) -> dict[str, int]:
    """Create the customers among ``external_ids`` that the store does not know (merged ones
    included: they are known), in the caller's transaction; returns the ids of those it created,
    by external id. ``external_ids`` are strings, or a ``select`` whose first column is external
    ids (repeats allowed), e.g. of a domain's staging table: then the customers are added by
    the database in one statement, however many there are.

    Each new customer is a person known by its external id alone, created at ``now`` (aware;
    stored as UTC) with its search keys, and gets a ``created`` customer event by the system;
    each batch of them one ``customer.created`` audit event (``source``, when given, says what
    brought them, e.g. ``"transaction import 12"``). Created in external-id order."""
    now = _utc(now)
    last_stored = session.scalar(select(func.max(Customer.id))) or 0
    if isinstance(external_ids, Select):
        new = _insert_selected(session, external_ids, now)
    else:
        new = _insert_listed(session, sorted(set(external_ids)), now)
    if not new:
        return {}
    # the new customers are found by their external id, like every customer (the keys are
    # written in one statement, several times faster than with each row); writing them is no
    # change of the customer's: updated_at stays its creation time
    fill_missing_search_keys(session, after_id=last_stored)
    table = _customers()
    session.execute(
        update(table)
        .where(table.c.id > last_stored, table.c.created_at == now, table.c.updated_at != now)
        .values(updated_at=now)
    )
    for batch in _batches(new):
        _record_created(session, batch, now, source)
    return {external_id: customer_id for customer_id, external_id in new}


def _customers() -> Table:
    return cast(Table, Customer.__table__)


def _insert_selected(session: Session, wanted: Select[Any], now: datetime) -> list[tuple[int, str]]:
    """Insert the customers of the external ids ``wanted`` selects that the store lacks, in one
    ``INSERT ... SELECT``; returns their (id, external id), by id."""
    table = _customers()
    external_id = wanted.subquery("wanted").c[0]
    rows = (
        select(
            external_id,
            literal(now, table.c.created_at.type),
            literal(now, table.c.updated_at.type),
        )
        .distinct()
        .where(~select(table.c.id).where(table.c.external_id == external_id).exists())
        .order_by(external_id)
    )
    statement = (
        insert(table)
        .from_select(["external_id", "created_at", "updated_at"], rows, include_defaults=False)
        .returning(table.c.id, table.c.external_id)
    )
    return sorted((int(row_id), str(value)) for row_id, value in session.execute(statement))


def _insert_listed(session: Session, wanted: Sequence[str], now: datetime) -> list[tuple[int, str]]:
    """Insert the customers of the external ids ``wanted`` (sorted, distinct) that the store
    lacks, a batch at a time; returns their (id, external id), by id."""
    # a plain executemany: RETURNING would make SQLite insert a row per statement
    statement = insert(_customers())
    new: list[tuple[int, str]] = []
    for batch in _batches(wanted):
        known = set(
            session.scalars(select(Customer.external_id).where(Customer.external_id.in_(batch)))
        )
        missing = [external_id for external_id in batch if external_id not in known]
        if not missing:
            continue
        session.execute(
            statement,
            [
                {
                    "external_id": external_id,
                    "created_at": now,
                    "updated_at": now,
                    "search_text": None,
                    "search_pinyin": None,
                }
                for external_id in missing
            ],
        )
        ids = _ids_of(session, missing)
        new.extend((ids[external_id], external_id) for external_id in missing)
    return sorted(new)


def _ids_of(session: Session, external_ids: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(Customer.external_id, Customer.id).where(Customer.external_id.in_(external_ids))
    )
    return {external_id: int(row_id) for external_id, row_id in rows}


def _insert_created_events(
    session: Session, customer_ids: Sequence[int], now: datetime, source: str | None
) -> None:
    """The ``created`` customer events of ``customer_ids`` by the system, in one statement; the
    data, built by the database, is ``{"after": {"kind": "person", "external_id": ...},
    "source": source}`` (no ``source`` when it is ``None``)."""
    text_type = String()
    if session.get_bind().dialect.name == "postgresql":
        json_object = func.json_build_object
    else:
        json_object = func.json_object

    def key(name: str) -> Any:
        return sql_cast(literal(name), text_type)

    data = json_object(
        key("after"),
        json_object(key("kind"), key(NEW_KIND), key("external_id"), Customer.external_id),
        *((key("source"), key(source)) if source is not None else ()),
    )
    events = cast(Table, CustomerEvent.__table__)
    rows = (
        select(
            Customer.id,
            key("created"),
            literal(now, events.c.at.type),
            literal(SYSTEM.user_id, events.c.actor_user_id.type),
            data,
        )
        .where(Customer.id.in_(customer_ids))
        .order_by(Customer.id)
    )
    session.execute(
        insert(events).from_select(["customer_id", "kind", "at", "actor_user_id", "data"], rows)
    )


def _record_created(
    session: Session, customers: Sequence[tuple[int, str]], now: datetime, source: str | None
) -> None:
    """The ``created`` customer event of each new customer, and one ``customer.created`` audit
    event for the batch (entity ``customer_batch``, id ``<first id>..<last id>``; its ``after``
    lists each customer's id and external id, what each customer event says).

    One audit event per batch rather than per customer (what
    :func:`kehu.customers.events.record_event` appends) keeps a bulk import fast: appending to
    the audit chain a row at a time cost ~30 us per customer, 20% of an import. The batch holds
    no personal data (an external id stays when a customer is erased), so erasure has nothing
    to blank in it."""
    if not customers:
        return
    _insert_created_events(session, [customer_id for customer_id, _ in customers], now, source)
    after: dict[str, Any] = {"kind": NEW_KIND, "count": len(customers)}
    if source is not None:
        after["source"] = source
    after["customers"] = [[customer_id, external_id] for customer_id, external_id in customers]
    record_audit(
        session,
        SYSTEM,
        "customer.created",
        BATCH_ENTITY,
        f"{customers[0][0]}..{customers[-1][0]}",
        None,
        after,
    )


# -- reading ----------------------------------------------------------------------------------


def customer_directory(principal: Principal = SYSTEM, *, name: str = "customer") -> Subquery:
    """The customers ``principal`` may see, as a subquery to join a domain's rows with: columns
    ``id``, ``external_id``, ``name`` (the display name, may be NULL) and ``survivor_id`` (the
    customer a merged one was merged into, else its own id). Through the permission layer:
    without ``customers:read`` this raises ``PermissionDeniedError``."""
    statement = select(
        Customer.id,
        Customer.external_id,
        Customer.name,
        func.coalesce(Customer.merged_into_id, Customer.id).label("survivor_id"),
    )
    return scoped(statement, principal, Customer).subquery(name)


def customer_ids_by_external_id(
    session: Session, external_ids: Iterable[str] | None = None
) -> dict[str, int]:
    """Store ids by external id: of ``external_ids`` (those the store knows), or of every
    customer (``None``). Merged customers keep their own ids."""
    statement = select(Customer.external_id, Customer.id)
    if external_ids is None:
        return {external_id: int(row_id) for external_id, row_id in session.execute(statement)}
    found: dict[str, int] = {}
    for batch in _batches(sorted(set(external_ids))):
        found.update(_ids_of(session, batch))
    return found


def external_ids_by_id(session: Session, customer_ids: Iterable[int]) -> dict[int, str]:
    """External ids by store id, of the ``customer_ids`` that exist."""
    found: dict[int, str] = {}
    for batch in _batches(sorted(set(customer_ids))):
        rows = session.execute(
            select(Customer.id, Customer.external_id).where(Customer.id.in_(batch))
        )
        found.update((int(row_id), external_id) for row_id, external_id in rows)
    return found
