"""The 360 timeline of a customer: one service, many registered sources.

A source is a function ``fn(session, customer_id, principal, since, until, limit)`` that yields
:class:`TimelineEntry` objects with ``since <= at <= until`` (either bound may be ``None``),
newest first, at most ``limit`` of them, and checks the principal's rights to what it shows
(yielding nothing the principal may not see). Register it once, at import of the module that
defines it::

    register_timeline_source("tickets", ticket_entries)

Built in: ``customer_events`` (the customer's change log, including the log of customers merged
into it). The other domains register theirs from their ``registrations`` modules: ``purchases``
and ``value_scores`` (:mod:`kehu.value.timeline`), ``tickets`` (:mod:`kehu.desk.timeline`).

The service merges the sources newest first, ordered by ``(at, source, ref)``, and pages with an
opaque ``before`` cursor (the key of the last entry of the previous page), so pages never repeat
or skip an entry even when many share a timestamp.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.customers.events import EVENT_TITLES
from kehu.customers.service import load_customer
from kehu.customers.tables import Customer, CustomerEvent
from kehu.errors import InputError

MAX_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    ref: str = ""

    @property
    def key(self) -> tuple[datetime, str, str]:
        return (self.at, self.source, self.ref)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


TimelineSource = Callable[
    [Session, int, Principal, datetime | None, datetime | None, int], Iterable[TimelineEntry]
]

_SOURCES: dict[str, TimelineSource] = {}


def register_timeline_source(name: str, fn: TimelineSource) -> None:
    """Add (or replace) the source called ``name``; its entries carry ``source=name``."""
    _SOURCES[name] = fn


def timeline_sources() -> dict[str, TimelineSource]:
    return dict(_SOURCES)


def encode_cursor(entry: TimelineEntry) -> str:
    raw = json.dumps([entry.at.isoformat(), entry.source, entry.ref])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, source, ref = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, str(source), str(ref)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise InputError("not a timeline cursor", column="before", value=cursor) from exc


def _collect(
    fn: TimelineSource,
    name: str,
    args: tuple[Session, int, Principal, datetime | None],
    cursor: tuple[datetime, str, str] | None,
    limit: int,
) -> list[TimelineEntry]:
    """Enough of one source's entries, older than ``cursor``, to fill a page: all of them when
    the source ran out, else at least ``limit`` entries none of which may be missing."""
    session, customer_id, principal, since = args
    until = cursor[0] if cursor else None
    wanted = limit + 1
    while True:
        got = [
            TimelineEntry(e.at, e.kind, e.title, e.detail, name, e.ref)
            for e in fn(session, customer_id, principal, since, until, wanted)
        ]
        fresh = [e for e in got if cursor is None or e.key < cursor]
        if len(got) < wanted:
            return fresh
        oldest = min(e.at for e in got)
        # the oldest moment may have more entries than were returned
        complete = [e for e in fresh if e.at > oldest]
        if len(complete) >= limit:
            return complete
        wanted *= 2


def customer_timeline(
    session: Session,
    principal: Principal,
    customer_id: int,
    *,
    before: str | None = None,
    limit: int = 50,
    since: datetime | None = None,
) -> TimelinePage:
    """One page of the customer's timeline, newest first; ``next_cursor`` (``None`` on the last
    page) is the ``before`` of the next page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit is between 1 and {MAX_LIMIT}", column="limit", value=limit)
    customer = load_customer(session, principal, customer_id)
    cursor = decode_cursor(before) if before else None
    entries: list[TimelineEntry] = []
    for name, fn in timeline_sources().items():
        entries.extend(_collect(fn, name, (session, customer.id, principal, since), cursor, limit))
    entries.sort(key=lambda e: e.key, reverse=True)
    page = entries[:limit]
    more = len(entries) > limit
    return TimelinePage(page, encode_cursor(page[-1]) if more and page else None)


# --- built-in sources -------------------------------------------------------------------------


def bounded(statement: Any, column: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        statement = statement.where(column >= since)
    if until is not None:
        statement = statement.where(column <= until)
    return statement


def _with_merged(session: Session, customer_id: int) -> list[int]:
    """The customer and every customer merged into it, directly or through others."""
    ids = [customer_id]
    frontier = [customer_id]
    while frontier:
        frontier = [
            i
            for i in session.scalars(
                select(Customer.id).where(Customer.merged_into_id.in_(frontier))
            )
            if i not in ids
        ]
        ids.extend(frontier)
    return ids


def customer_event_entries(
    session: Session,
    customer_id: int,
    principal: Principal,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> Iterable[TimelineEntry]:
    """The change log of the customer and of the customers merged into it."""
    statement = bounded(
        select(CustomerEvent).where(
            CustomerEvent.customer_id.in_(_with_merged(session, customer_id))
        ),
        CustomerEvent.at,
        since,
        until,
    )
    rows = session.scalars(
        statement.order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc()).limit(limit)
    )
    for row in rows:
        yield TimelineEntry(
            at=row.at,
            kind=row.kind,
            title=EVENT_TITLES.get(row.kind, row.kind),
            detail={**row.data, "customer_id": row.customer_id, "actor_user_id": row.actor_user_id},
            ref=f"customer_event:{row.id:012d}",
        )


register_timeline_source("customer_events", customer_event_entries)
