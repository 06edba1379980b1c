"""The 360 timeline: registered sources, newest first, before-cursor pages, permissions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import pytest
import time_machine
from customer_helpers import AGENT, NOBODY, READER, add_purchase, add_run, add_score, at
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.customers import timeline
from kehu.customers.service import tag_customer
from kehu.customers.timeline import (
    TimelineEntry,
    customer_timeline,
    register_timeline_source,
)
from kehu.errors import InputError, NotFoundError, PermissionDeniedError


@pytest.fixture
def customer(session: Session, person: Callable[..., int]) -> int:
    with time_machine.travel(at(1, 9), tick=False):
        customer_id = person("张伟")
    with time_machine.travel(at(3, 9), tick=False):
        tag_customer(session, AGENT, customer_id, "VIP")
    add_purchase(session, customer_id, at(2), 1500)
    add_purchase(session, customer_id, at(4), -500)
    add_score(session, customer_id, add_run(session, at(5)))
    return customer_id


def test_newest_first_across_sources(session: Session, customer: int) -> None:
    page = customer_timeline(session, READER, customer)
    assert [(e.at, e.kind, e.source) for e in page.entries] == [
        (at(5), "value_score", "value_scores"),
        (at(4), "return", "purchases"),
        (at(3, 9), "tagged", "customer_events"),
        (at(2), "purchase", "purchases"),
        (at(1, 9), "created", "customer_events"),
    ]
    assert page.next_cursor is None
    assert page.entries[1].detail["amount_minor"] == -500
    assert page.entries[0].detail["value_tier"] == "high"


def test_scores_need_value_read(session: Session, customer: int) -> None:
    kinds = [e.kind for e in customer_timeline(session, AGENT, customer).entries]
    assert "value_score" not in kinds
    assert "purchase" in kinds


def test_pages_neither_repeat_nor_skip_even_on_equal_times(session: Session, customer: int) -> None:
    for _ in range(7):
        add_purchase(session, customer, at(10))
    everything = customer_timeline(session, READER, customer, limit=200).entries
    assert len(everything) == 12
    seen: list[TimelineEntry] = []
    cursor = None
    for _ in range(10):
        page = customer_timeline(session, READER, customer, before=cursor, limit=3)
        seen.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == everything
    assert [e.at for e in seen] == sorted((e.at for e in seen), reverse=True)
    since = customer_timeline(session, READER, customer, since=at(4)).entries
    assert min(e.at for e in since) == at(4)


def test_bad_cursor_and_limit(session: Session, customer: int) -> None:
    with pytest.raises(InputError) as cursor:
        customer_timeline(session, READER, customer, before="nonsense")
    assert cursor.value.column == "before"
    with pytest.raises(InputError) as limit:
        customer_timeline(session, READER, customer, limit=0)
    assert limit.value.column == "limit"


def test_through_the_permission_layer(session: Session, customer: int) -> None:
    with pytest.raises(PermissionDeniedError):
        customer_timeline(session, NOBODY, customer)
    with pytest.raises(NotFoundError, match="customer 424242 not found"):
        customer_timeline(session, READER, 424242)


@pytest.fixture
def tickets_source() -> Iterator[None]:
    """A later domain's source (here: fake tickets), registered then removed again."""

    def tickets(
        session: Session,
        customer_id: int,
        principal: Principal,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> Iterable[TimelineEntry]:
        if not principal.can("tickets:read"):
            return []
        entries = [
            TimelineEntry(at(day), "ticket", f"Ticket {day}", {"day": day}, ref=f"ticket:{day}")
            for day in (9, 6, 3)
        ]
        return [
            e
            for e in entries
            if (since is None or e.at >= since) and (until is None or e.at <= until)
        ][:limit]

    real = timeline._SOURCES.get("tickets")
    register_timeline_source("tickets", tickets)
    yield
    # put the service desk's source back: later tests (the 360 page, the API) show real tickets
    timeline._SOURCES.pop("tickets")
    if real is not None:
        register_timeline_source("tickets", real)


def test_later_sources_plug_in(session: Session, customer: int, tickets_source: None) -> None:
    entries = customer_timeline(session, READER, customer).entries
    assert [e.title for e in entries if e.source == "tickets"] == [
        "Ticket 9",
        "Ticket 6",
        "Ticket 3",
    ]
    assert entries[0].kind == "ticket"
    assert len(entries) == 8
    paged = customer_timeline(session, READER, customer, limit=2)
    second = customer_timeline(session, READER, customer, limit=2, before=paged.next_cursor)
    assert [e.kind for e in paged.entries + second.entries] == [e.kind for e in entries[:4]]
