"""The ticket queue's search, filters and sort (kehu.desk.ticket_queue over
kehu.desk.ticket_queries.search_tickets), on SQLite and PostgreSQL: words in subject, messages
and customer, assignee (a person, me, unassigned), promise state, value tier, customer tag,
sorting by column, the scope of an agent, and bad parameters named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from desk import Desk, b
from kehu.core.auth import SYSTEM, Principal
from kehu.customers import service as customers
from kehu.customers.search_keys import fill_missing_search_keys
from kehu.desk import ticket_commands, ticket_messages
from kehu.desk.tables import Ticket, TicketEvent
from kehu.desk.ticket_queries import promise_states, search_tickets, ticket_origins
from kehu.desk.ticket_queue import QueueQuery, page_of, parse_queue_query
from kehu.errors import InputError

NOW = b(3, 24, 15)


def _ids(desk: Desk, principal: Principal, query: QueueQuery) -> list[int]:
    with desk.database.session() as session:
        found = search_tickets(
            session,
            principal,
            query.search(principal, NOW),
            sort=query.sort,
            limit=100,
        )
        return [t.id for t in found.items]


def _query(**params: str) -> QueueQuery:
    return parse_queue_query(params)


@pytest.fixture
def tickets(desk: Desk) -> dict[str, int]:
    """Five tickets: front's broken parcel (messages, customer 王小明, VIP), front's late
    delivery (assigned to 10, high), billing's refund (customer Erika), a resolved one, and one
    overdue."""
    ids = {
        "parcel": desk.new_ticket(b(3, 24, 10), subject="Parcel arrived broken"),
        "late": desk.new_ticket(b(3, 24, 11), subject="Delivery is late", priority="high"),
        "refund": desk.new_ticket(
            b(3, 24, 12),
            subject="Refund missing",
            customer_id=desk.other_customer,
            category_id=desk.refund_category,
            kind="inquiry",
        ),
        "done": desk.new_ticket(b(3, 23, 9), subject="Invoice address"),
        "old": desk.new_ticket(b(3, 19, 9), subject="Wrong colour"),
    }
    with desk.database.session() as session:
        fill_missing_search_keys(session)
        customers.tag_customer(session, SYSTEM, desk.customer, "VIP")
        ticket_messages.add_note(
            session,
            desk.manager,
            ids["parcel"],
            "The courier SF-778 dropped it",
            now=b(3, 24, 10, 30),
            settings=desk.settings,
        )
        ticket_commands.assign(
            session, desk.manager, ids["late"], 10, now=b(3, 24, 11, 5), settings=desk.settings
        )
        ticket_messages.reply(
            session,
            desk.manager,
            ids["done"],
            "Changed it for you",
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        ticket_commands.resolve(
            session, desk.manager, ids["done"], now=b(3, 23, 11), settings=desk.settings
        )
        session.execute(update(Ticket).where(Ticket.id == ids["refund"]).values(value_tier="high"))
    return ids


def test_words_match_subject_messages_and_customer(desk: Desk, tickets: dict[str, int]) -> None:
    manager = desk.manager
    assert _ids(desk, manager, _query(q="broken")) == [tickets["parcel"]]
    assert _ids(desk, manager, _query(q="sf-778")) == [tickets["parcel"]]  # an internal note
    assert _ids(desk, manager, _query(q="mustermann")) == [tickets["refund"]]  # the customer
    # pinyin of the customer's name, through the customer search
    assert set(_ids(desk, manager, _query(q="wangxiaoming"))) == {
        tickets["parcel"],
        tickets["late"],
        tickets["old"],
    }
    assert _ids(desk, manager, _query(q="wangxiaoming late")) == [tickets["late"]]
    assert _ids(desk, manager, _query(q="100%")) == []


def test_assignee_mine_and_unassigned(desk: Desk, tickets: dict[str, int]) -> None:
    agent = desk.front_agent  # user 10
    assert _ids(desk, agent, _query(assignee="me")) == [tickets["late"]]
    assert _ids(desk, agent, _query(mine="1")) == [tickets["late"]]
    assert _ids(desk, desk.manager, _query(assignee="10")) == [tickets["late"]]
    assert tickets["late"] not in _ids(desk, agent, _query(assignee="unassigned"))
    assert tickets["parcel"] in _ids(desk, agent, _query(assignee="unassigned"))


def test_an_agent_sees_only_their_teams_tickets(desk: Desk, tickets: dict[str, int]) -> None:
    everything = set(_ids(desk, desk.front_agent, _query(status="all")))
    assert tickets["refund"] not in everything and tickets["parcel"] in everything
    assert _ids(desk, desk.front_agent, _query(team=str(desk.billing))) == []
    assert _ids(desk, desk.front_agent, _query(q="mustermann")) == []


def test_kind_priority_tier_tag_and_status(desk: Desk, tickets: dict[str, int]) -> None:
    manager = desk.manager
    assert _ids(desk, manager, _query(kind="inquiry")) == [tickets["refund"]]
    assert _ids(desk, manager, _query(priority="high,urgent")) == [tickets["late"]]
    assert _ids(desk, manager, _query(tier="high")) == [tickets["refund"]]
    assert set(_ids(desk, manager, _query(tag="VIP"))) == {
        tickets["parcel"],
        tickets["late"],
        tickets["old"],
    }
    assert _ids(desk, manager, _query(tag="VIP", status="resolved")) == [tickets["done"]]
    assert tickets["done"] not in _ids(desk, manager, _query())


def test_promise_states(desk: Desk, tickets: dict[str, int]) -> None:
    with desk.database.session() as session:
        states = promise_states(session, desk.manager, tickets.values(), NOW)
        assert states[tickets["old"]] == "breached"  # five days unanswered
        assert states[tickets["done"]] == "kept"
        assert states[tickets["refund"]] == "on_track"
        assert states[tickets["late"]] == "at_risk"  # due at 15:00, within the hour
        # a warning the SLA check recorded puts a running promise at risk
        session.add(
            TicketEvent(
                ticket_id=tickets["refund"],
                kind="sla_warning",
                actor_kind="system",
                at=NOW - timedelta(minutes=5),
                after={"target": "first_response"},
            )
        )
        session.execute(
            update(Ticket)
            .where(Ticket.id == tickets["parcel"])
            .values(sla_policy_version_id=None, sla_due_at=None)
        )
    assert _ids(desk, desk.manager, _query(promise="at_risk")) == [
        tickets["late"],
        tickets["refund"],
    ]
    assert _ids(desk, desk.manager, _query(promise="breached")) == [tickets["old"]]
    assert _ids(desk, desk.manager, _query(promise="kept", status="all")) == [tickets["done"]]
    assert _ids(desk, desk.manager, _query(promise="none")) == [tickets["parcel"]]
    # breached first when sorting by the promise
    assert _ids(desk, desk.manager, _query(sort="promise")) == [
        tickets["old"],
        tickets["late"],
        tickets["refund"],
        tickets["parcel"],
    ]


def test_sorting_by_columns(desk: Desk, tickets: dict[str, int]) -> None:
    manager = desk.manager
    by_subject = _ids(desk, manager, _query(sort="subject"))
    assert by_subject == [tickets["late"], tickets["parcel"], tickets["refund"], tickets["old"]]
    assert _ids(desk, manager, _query(sort="-subject")) == by_subject[::-1]
    assert _ids(desk, manager, _query(sort="team"))[-1] == tickets["old"]  # Front after Billing
    assert _ids(desk, manager, _query(sort="team"))[0] == tickets["refund"]
    assert _ids(desk, manager, _query(sort="assignee"))[0] == tickets["late"]  # others: none
    assert _ids(desk, manager, _query(sort="-priority"))[0] == tickets["late"]
    assert _query(sort="subject").sorted_by("subject").sort == "-subject"
    assert _query().sorted_by("subject").sort == "subject"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"team": "front"}, "team"),
        ({"assignee": "someone"}, "assignee"),
        ({"kind": "complaint,rant"}, "kind"),
        ({"priority": "huge"}, "priority"),
        ({"promise": "maybe"}, "promise"),
        ({"tier": "gold"}, "tier"),
        ({"sort": "colour"}, "sort"),
        ({"q": "x" * 201}, "q"),
        ({"status": ["open", "closed"]}, "status"),
    ],
)
def test_bad_parameters_name_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_queue_query(params)
    assert raised.value.column == field


def test_pages_and_params_round_trip() -> None:
    assert page_of({}) == (1, 50)
    assert page_of({"page": "3", "page_size": "10"}) == (3, 10)
    for bad, field in (({"page": "0"}, "page"), ({"page_size": "7"}, "page_size")):
        with pytest.raises(InputError) as raised:
            page_of(bad)
        assert raised.value.column == field
    query = _query(q="退款", team="3", promise="breached,at_risk", kind="complaint", sort="-due")
    assert query.params() == {
        "q": "退款",
        "team": "3",
        "kind": "complaint",
        "promise": "breached,at_risk",
        "sort": "-due",
    }
    assert parse_queue_query(query.params()) == query


def test_ticket_origins_gives_the_customer_and_creation_of_tickets_in_scope(desk: Desk) -> None:
    """Pinned: the customers and times the test files the tickets with."""
    at = b(3, 2, 9)
    front = desk.new_ticket(at, team_id=desk.front)
    billing = desk.new_ticket(
        at + timedelta(hours=1), customer_id=desk.other_customer, team_id=desk.billing
    )
    with desk.database.session() as session:
        every = ticket_origins(session, desk.manager, [front, billing, front, 999_999])
        assert {k: (v.customer_id, v.created_at) for k, v in every.items()} == {
            front: (desk.customer, at),
            billing: (desk.other_customer, at + timedelta(hours=1)),
        }
        assert set(ticket_origins(session, desk.front_agent, [front, billing])) == {front}
        assert ticket_origins(session, desk.manager, []) == {}
