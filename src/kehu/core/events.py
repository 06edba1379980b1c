"""In-transaction domain events: how one domain reacts to another without importing it.

A domain that makes a change other domains care about *publishes* an event in the transaction of
the change; a domain that cares *subscribes* a handler once, in its ``registrations`` module.
:func:`publish` calls every handler at once, in subscription order, with the publisher's session:
a handler's writes commit or roll back with the change itself, and a handler that raises undoes
the whole change (the caller sees the error). Nothing is queued and nothing runs later: work that
should happen later is scheduled by the handler as a job (:mod:`kehu.core.jobs`) or an outbox
message (:mod:`kehu.core.outbox`), in the same transaction.

The events every domain may see are defined here, so a subscriber imports only the platform:

=====================  =======================  =============================================
event                  published by             typical subscriber
=====================  =======================  =============================================
:class:`CustomerMerged`    customers (merge)        a domain keeping its own copy of a customer id
:class:`CustomerUnmerged`  customers (undo merge)   the same, going back
:class:`CustomerErased`    customers (erasure)      every domain holding personal data elsewhere
:class:`TicketResolved`    desk                     satisfaction surveys, retention follow-ups
:class:`PurchaseRecorded`  value (import)           loyalty points, retention signals
=====================  =======================  =============================================

A new domain defines its own event types (subclasses of :class:`DomainEvent`) in its own package
and publishes them the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

__all__ = [
    "CustomerErased",
    "CustomerMerged",
    "CustomerUnmerged",
    "DomainEvent",
    "PurchaseRecorded",
    "TicketResolved",
    "handlers_of",
    "publish",
    "subscribe",
    "unsubscribe",
]


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened, stated once. ``at`` is when (UTC); ``actor_id`` the user who did
    it (``None``: the system or the public)."""

    at: datetime
    actor_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class CustomerMerged(DomainEvent):
    """``merged_id`` was merged into ``survivor_id`` (merge record ``merge_id``). The references
    registered with :mod:`kehu.customers.references` have already moved."""

    survivor_id: int
    merged_id: int
    merge_id: int


@dataclass(frozen=True, kw_only=True)
class CustomerUnmerged(DomainEvent):
    """The merge ``merge_id`` was undone: ``merged_id`` is a customer of its own again."""

    survivor_id: int
    merged_id: int
    merge_id: int


@dataclass(frozen=True, kw_only=True)
class CustomerErased(DomainEvent):
    """The personal data of ``customer_ids`` (a customer and those merged into it) is being
    erased. The registered personal fields (:mod:`kehu.core.personal_data`) are erased by the
    erasure itself; a handler erases what no column declaration can reach (files, caches)."""

    customer_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class TicketResolved(DomainEvent):
    """Ticket ``ticket_id`` of ``customer_id`` was resolved (``kind``: complaint, inquiry, ...)."""

    ticket_id: int
    customer_id: int
    kind: str


@dataclass(frozen=True, kw_only=True)
class PurchaseRecorded(DomainEvent):
    """An import recorded ``count`` purchases of ``customer_id`` (import batch ``import_id``);
    ``latest`` is the date of the newest of them."""

    customer_id: int
    import_id: int
    count: int
    latest: datetime


Event = TypeVar("Event", bound=DomainEvent)
Handler = Callable[[Session, Any], None]

_HANDLERS: defaultdict[type[DomainEvent], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[Event], handler: Callable[[Session, Event], None]) -> None:
    """Call ``handler(session, event)`` whenever an ``event_type`` (or a subclass) is published.
    Subscribing the same handler twice is one subscription."""
    if not (isinstance(event_type, type) and issubclass(event_type, DomainEvent)):
        raise TypeError(f"{event_type!r} is not a DomainEvent type")
    if handler not in _HANDLERS[event_type]:
        _HANDLERS[event_type].append(handler)


def unsubscribe(event_type: type[DomainEvent], handler: Handler) -> None:
    """Take a subscription back (tests)."""
    if handler in _HANDLERS.get(event_type, []):
        _HANDLERS[event_type].remove(handler)


def handlers_of(event_type: type[DomainEvent]) -> list[Handler]:
    """The handlers :func:`publish` calls for an event of ``event_type``, in order."""
    found: list[Handler] = []
    for kind in event_type.__mro__:
        if isinstance(kind, type) and issubclass(kind, DomainEvent):
            found.extend(h for h in _HANDLERS.get(kind, []) if h not in found)
    return found


def publish(session: Session, event: DomainEvent) -> int:
    """Call every handler subscribed to ``event``'s type in the caller's transaction; returns how
    many ran. An exception from a handler propagates (the transaction is then rolled back)."""
    handlers = handlers_of(type(event))
    for handler in handlers:
        handler(session, event)
    return len(handlers)
