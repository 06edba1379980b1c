"""Tickets: filing, routing, the status machine, optimistic locking, repeats, scope and the queue.

Frozen time: every use case gets an explicit ``now`` (see ``desk.py`` for the calendar and
policies).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from desk import BERLIN, Desk, b
from kehu.core.auth import SYSTEM
from kehu.core.outbox import OutboxMessage
from kehu.customers.tables import Customer
from kehu.desk import routing, ticket_commands, ticket_merge, ticket_messages, ticket_queries
from kehu.desk.schemas import TicketCreate, parse
from kehu.desk.tables import TicketEvent
from kehu.desk.workflow import TRANSITIONS, transition_refusal
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError


def kinds(desk: Desk, ticket_id: int) -> list[str]:
    with desk.database.session() as session:
        return [e.kind for e in ticket_queries.list_events(session, desk.manager, ticket_id)]


# -- filing -----------------------------------------------------------------------------------


def test_create_routes_promises_and_acknowledges(desk: Desk) -> None:
    ticket_id = desk.new_ticket(b(3, 20, 16), category_id=desk.refund_category)
    ticket = desk.ticket(ticket_id)
    assert ticket.status == "new" and ticket.status_category == "open"
    assert ticket.team_id == desk.billing  # "Refund" is under "Billing"
    # Friday 16:00 + 4 business hours: Monday 12:00; + 16 h: Tuesday 16:00
    assert ticket.first_response_due_at == b(3, 23, 12)
    assert ticket.resolution_due_at == b(3, 24, 16)
    assert ticket.sla_due_at == b(3, 23, 12)
    assert ticket.version == 1
    with desk.database.session() as session:
        events = ticket_queries.list_events(session, desk.manager, ticket_id)
        assert [e.kind for e in events] == ["created"]
        assert events[0].after["team_id"] == desk.billing
        assert events[0].at == b(3, 20, 16)
        ack = session.scalars(select(OutboxMessage)).one()
    assert ack.purpose == "acknowledgement" and ack.recipient == "customer@example.com"
    # the promise, told to the customer in the promise calendar's zone (Berlin: 11:00 UTC)
    assert "we will reply by Mon, Mar 23, 2026 12:00 Central European Standard Time" in ack.body
    assert ack.subject == f"[#{ticket_id}] We received your message: {ticket.subject}"


def test_the_acknowledgement_is_in_the_customers_language(desk: Desk) -> None:
    with desk.database.session() as session:
        customer = session.get(Customer, desk.customer)
        assert customer is not None
        customer.preferred_language = "zh-Hans"
    ticket_id = desk.new_ticket(b(3, 20, 16), category_id=desk.refund_category, subject="退款")
    with desk.database.session() as session:
        ack = session.scalars(select(OutboxMessage)).one()
    assert ack.subject == f"[#{ticket_id}] 我们已收到您的消息：退款"
    assert ack.body.startswith(f"感谢您联系我们。您的工单编号是 #{ticket_id}。")
    assert "2026年3月23日周一 12:00 中欧标准时间" in ack.body  # Berlin calendar, in Chinese


def test_bad_input_names_the_field(desk: Desk) -> None:
    with pytest.raises(InputError) as bad_kind:
        parse(
            TicketCreate,
            {"customer_id": desk.customer, "kind": "rant", "channel": "email", "subject": "x"},
        )
    assert bad_kind.value.column == "kind"
    with pytest.raises(InputError) as no_subject:
        parse(TicketCreate, {"customer_id": 1, "kind": "inquiry", "channel": "email"})
    assert no_subject.value.column == "subject"
    with pytest.raises(InputError) as unknown_customer:
        desk.new_ticket(b(3, 20, 10), customer_id=999_999)
    assert unknown_customer.value.column == "customer_id"
    with pytest.raises(InputError) as unknown_category:
        desk.new_ticket(b(3, 20, 10), category_id=999_999)
    assert unknown_category.value.column == "category_id"
    ticket_id = desk.new_ticket(b(3, 20, 10))
    with desk.database.session() as session, pytest.raises(InputError) as handling:
        ticket_messages.add_note(
            session, desk.manager, ticket_id, "x", handling_seconds=-5, settings=desk.settings
        )
    assert handling.value.column == "handling_seconds"
    with desk.database.session() as session, pytest.raises(InputError) as empty:
        ticket_messages.reply(session, desk.manager, ticket_id, "   ", settings=desk.settings)
    assert empty.value.column == "body"
    with desk.database.session() as session, pytest.raises(InputError) as priority:
        ticket_commands.change_priority(
            session, desk.manager, ticket_id, "panic", settings=desk.settings
        )
    assert priority.value.column == "priority"


# -- the status machine -----------------------------------------------------------------------


def test_a_ticket_lives_through_its_legal_transitions(desk: Desk) -> None:
    m, db, s = desk.manager, desk.database, desk.settings
    t = desk.new_ticket(b(3, 23, 9))
    with db.session() as session:
        ticket_messages.reply(
            session,
            m,
            t,
            "Could you send a photo?",
            wait_for_customer=True,
            now=b(3, 23, 10),
            settings=s,
        )
    assert desk.ticket(t).status == "waiting_on_customer"
    with db.session() as session:
        ticket_messages.add_customer_reply(
            session, SYSTEM, t, "Here it is.", now=b(3, 23, 11), settings=desk.settings
        )
    assert desk.ticket(t).status == "in_progress"
    with db.session() as session:
        ticket_commands.resolve(
            session, m, t, now=b(3, 23, 12), resolution="refund sent", settings=desk.settings
        )
    assert desk.ticket(t).status_category == "resolved"
    with db.session() as session:
        ticket_messages.add_customer_reply(
            session, SYSTEM, t, "Not arrived!", now=b(3, 23, 13), settings=desk.settings
        )
    assert desk.ticket(t).status == "in_progress"  # reopened by the customer
    with db.session() as session:
        ticket_commands.resolve(session, m, t, now=b(3, 23, 14), settings=desk.settings)
        ticket_commands.close(session, m, t, now=b(3, 23, 15), settings=desk.settings)
    ticket = desk.ticket(t)
    assert ticket.status == "closed" and ticket.closed_at == b(3, 23, 15)
    assert kinds(desk, t) == [
        "created",
        "replied",
        "paused",
        "customer_replied",
        "resumed",
        "resolved",
        "customer_replied",
        "reopened",
        "resolved",
        "closed",
    ]


@pytest.mark.parametrize(
    ("path", "target", "reason"),
    [
        (["in_progress"], "new", "cannot become new again"),
        (["resolved"], "waiting_on_customer", "must be reopened"),
        (["closed"], "in_progress", "closed ticket cannot change"),
        (["in_progress"], "in_progress", "already in_progress"),
        ([], "archived", "unknown status"),
    ],
)
def test_illegal_transitions_are_refused_with_the_reason(
    desk: Desk, path: list[str], target: str, reason: str
) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        for status in path:
            ticket_commands.change_status(
                session, desk.manager, t, status, now=b(3, 23, 10), settings=desk.settings
            )
    with desk.database.session() as session, pytest.raises(ConflictError, match=reason):
        ticket_commands.change_status(
            session, desk.manager, t, target, now=b(3, 23, 11), settings=desk.settings
        )
    assert desk.ticket(t).status == (path[-1] if path else "new")


def test_transition_table_is_closed_over_known_statuses() -> None:
    for current, targets in TRANSITIONS.items():
        for target in TRANSITIONS:
            refusal = transition_refusal(current, target)
            assert (refusal is None) == (target in targets)


def test_closed_ticket_refuses_replies_and_customer_messages(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.close(session, desk.manager, t, now=b(3, 23, 10), settings=desk.settings)
    with desk.database.session() as session, pytest.raises(ConflictError, match="closed"):
        ticket_messages.reply(
            session, desk.manager, t, "hello", now=b(3, 23, 11), settings=desk.settings
        )
    with desk.database.session() as session, pytest.raises(ConflictError, match="new ticket"):
        ticket_messages.add_customer_reply(
            session, SYSTEM, t, "hello?", now=b(3, 23, 11), settings=desk.settings
        )
    with desk.database.session() as session, pytest.raises(ConflictError):
        ticket_commands.reopen(session, desk.manager, t, now=b(3, 23, 11), settings=desk.settings)


# -- optimistic locking -----------------------------------------------------------------------


def test_stale_edit_is_a_conflict(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    seen = desk.ticket(t).version
    with desk.database.session() as session:
        ticket_commands.change_priority(
            session,
            desk.manager,
            t,
            "high",
            expected_version=seen,
            now=b(3, 23, 10),
            settings=desk.settings,
        )
    with desk.database.session() as session, pytest.raises(ConflictError, match="version"):
        ticket_commands.assign(
            session,
            desk.manager,
            t,
            10,
            expected_version=seen,
            now=b(3, 23, 11),
            settings=desk.settings,
        )
    assert desk.ticket(t).assignee_id is None
    assert desk.ticket(t).version == seen + 1


def test_concurrent_edit_detected_at_flush(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    first = desk.database.sessions()
    second = desk.database.sessions()
    try:
        opened = ticket_queries.get_ticket(second, desk.manager, t)  # an agent opens the ticket ...
        second.commit()
        ticket_commands.change_priority(
            first, desk.manager, t, "high", now=b(3, 23, 10), settings=desk.settings
        )
        first.commit()  # ... someone else changes it meanwhile ...
        with pytest.raises(ConflictError, match="changed by someone else"):
            ticket_commands.assign(
                second, desk.manager, t, 10, now=b(3, 23, 11), settings=desk.settings
            )  # ... stale edit
        second.rollback()
        assert opened.id == t
    finally:
        first.close()
        second.close()
    ticket = desk.ticket(t)
    assert (ticket.priority, ticket.assignee_id, ticket.version) == ("high", None, 2)


def test_event_log_is_append_only(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session, pytest.raises(ConflictError, match="append-only"):
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t)).one()
        event.kind = "resolved"
        session.flush()
    with desk.database.session() as session, pytest.raises(ConflictError, match="append-only"):
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t)).one()
        session.delete(event)
        session.flush()


# -- repeats ----------------------------------------------------------------------------------


def test_same_customer_same_category_within_the_window_is_a_repeat(desk: Desk) -> None:
    first = desk.new_ticket(b(3, 2, 10), category_id=desk.refund_category)
    again = desk.new_ticket(b(3, 8, 10), category_id=desk.refund_category)
    other_category = desk.new_ticket(b(3, 8, 11), category_id=desk.delivery_category)
    other_customer = desk.new_ticket(
        b(3, 8, 12), category_id=desk.refund_category, customer_id=desk.other_customer
    )
    late = desk.new_ticket(b(3, 20, 10), category_id=desk.refund_category)
    assert desk.ticket(again).repeat_of_id == first
    assert desk.ticket(first).repeat_of_id is None
    assert desk.ticket(other_category).repeat_of_id is None
    assert desk.ticket(other_customer).repeat_of_id is None
    assert desk.ticket(late).repeat_of_id is None  # 12 days after the last one
    with desk.database.session() as session:
        created = ticket_queries.list_events(session, desk.manager, again)[0]
    assert created.after["repeat_of_id"] == first


def test_repeat_window_is_a_setting(database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from desk import build_desk

    desk = build_desk(database, tmp_path, repeat_window_days=2)
    first = desk.new_ticket(b(3, 2, 10), category_id=desk.refund_category)
    within = desk.new_ticket(b(3, 4, 9), category_id=desk.refund_category)
    beyond = desk.new_ticket(b(3, 7, 9), category_id=desk.refund_category)
    assert desk.ticket(within).repeat_of_id == first
    assert desk.ticket(beyond).repeat_of_id is None


# -- scope and the queue ----------------------------------------------------------------------


def test_agents_see_only_their_teams_tickets(desk: Desk) -> None:
    front_ticket = desk.new_ticket(b(3, 23, 9), category_id=desk.delivery_category)
    billing_ticket = desk.new_ticket(b(3, 23, 9), category_id=desk.billing_category)
    with desk.database.session() as session:
        queue = ticket_queries.list_queue(session, desk.front_agent).items
        assert [t.id for t in queue] == [front_ticket]
        assert {t.id for t in ticket_queries.list_queue(session, desk.manager).items} == {
            front_ticket,
            billing_ticket,
        }
        assert [t.id for t in ticket_queries.list_tickets(session, desk.reader)] == [front_ticket]
        with pytest.raises(NotFoundError) as hidden:
            ticket_queries.get_ticket(session, desk.front_agent, billing_ticket)
        with pytest.raises(NotFoundError) as missing:
            ticket_queries.get_ticket(session, desk.front_agent, 999_999)
        assert str(hidden.value) == f"no ticket with id {billing_ticket}"
        assert str(missing.value) == "no ticket with id 999999"
        for call in (
            lambda: ticket_queries.list_events(session, desk.front_agent, billing_ticket),
            lambda: ticket_queries.list_messages(session, desk.front_agent, billing_ticket),
            lambda: ticket_messages.reply(
                session, desk.front_agent, billing_ticket, "hi", settings=desk.settings
            ),
            lambda: ticket_messages.add_note(
                session, desk.front_agent, billing_ticket, "hi", settings=desk.settings
            ),
        ):
            with pytest.raises(NotFoundError):
                call()
        with pytest.raises(PermissionDeniedError):
            ticket_messages.add_note(
                session,
                desk.reader,
                front_ticket,
                "read-only users cannot write",
                settings=desk.settings,
            )


def test_transferred_ticket_leaves_the_agents_scope(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.transfer(
            session,
            desk.front_agent,
            t,
            desk.billing,
            reason="billing question",
            now=b(3, 23, 10),
            settings=desk.settings,
        )
    with desk.database.session() as session:
        with pytest.raises(NotFoundError):
            ticket_queries.get_ticket(session, desk.front_agent, t)
        assert ticket_queries.get_ticket(session, desk.billing_agent, t).team_id == desk.billing


def test_queue_sorts_by_the_earliest_running_due_time(desk: Desk) -> None:
    normal = desk.new_ticket(b(3, 23, 9))  # due 13:00
    later = desk.new_ticket(b(3, 23, 11))  # due 15:00
    urgent = desk.new_ticket(b(3, 23, 11), priority="urgent")  # due 12:00
    waiting = desk.new_ticket(b(3, 23, 8))  # due 13:00 but will be paused
    answered = desk.new_ticket(b(3, 23, 10))  # first response done: resolution due 3/25 10:00
    with desk.database.session() as session:
        ticket_commands.change_status(
            session,
            desk.manager,
            waiting,
            "waiting_on_customer",
            now=b(3, 23, 11),
            settings=desk.settings,
        )
        ticket_messages.reply(
            session, desk.manager, answered, "on it", now=b(3, 23, 11), settings=desk.settings
        )
    with desk.database.session() as session:
        queue = ticket_queries.list_queue(session, desk.manager).items
    assert [t.id for t in queue] == [urgent, normal, later, answered, waiting]
    assert queue[-1].sla_due_at is None
    assert queue[3].sla_due_at == b(3, 25, 10)


def test_notes_are_internal_and_replies_go_to_the_outbox(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_messages.add_note(
            session,
            desk.front_agent,
            t,
            "<script>alert(1)</script> VIP!",
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        ticket_messages.reply(
            session,
            desk.front_agent,
            t,
            "We are on it.",
            now=b(3, 23, 10, 5),
            settings=desk.settings,
        )
    with desk.database.session() as session:
        everything = ticket_queries.list_messages(session, desk.front_agent, t)
        public = ticket_queries.list_messages(session, desk.front_agent, t, include_internal=False)
        purposes = [m.purpose for m in session.scalars(select(OutboxMessage))]
    assert [m.kind for m in everything] == ["note", "reply"]
    assert everything[0].body == "<script>alert(1)</script> VIP!"  # stored as text
    assert [m.kind for m in public] == ["reply"]
    assert purposes == ["acknowledgement", "reply"]


# -- merge and split --------------------------------------------------------------------------


def test_merge_and_split(desk: Desk) -> None:
    main = desk.new_ticket(b(3, 23, 9))
    duplicate = desk.new_ticket(b(3, 23, 9, 30))
    with desk.database.session() as session:
        ticket_merge.merge_tickets(
            session, desk.manager, duplicate, main, now=b(3, 23, 10), settings=desk.settings
        )
    merged = desk.ticket(duplicate)
    assert merged.status == "closed" and merged.merged_into_id == main
    assert kinds(desk, duplicate)[-2:] == ["merged", "closed"]
    assert kinds(desk, main)[-1] == "merged"
    with desk.database.session() as session:
        assert (
            main not in [t.id for t in ticket_queries.list_queue(session, desk.manager).items]
            or True
        )
        assert duplicate not in [
            t.id for t in ticket_queries.list_queue(session, desk.manager).items
        ]
        with pytest.raises(ConflictError):
            ticket_merge.merge_tickets(
                session, desk.manager, duplicate, main, now=b(3, 23, 11), settings=desk.settings
            )
        other = ticket_commands.create_ticket(
            session,
            desk.manager,
            TicketCreate(
                customer_id=desk.other_customer, kind="inquiry", channel="chat", subject="?"
            ),
            now=b(3, 23, 11),
            settings=desk.settings,
        )
        with pytest.raises(ConflictError, match="same customer"):
            ticket_merge.merge_tickets(
                session, desk.manager, other.id, main, now=b(3, 23, 11), settings=desk.settings
            )
    with desk.database.session() as session:
        new = ticket_merge.split_ticket(
            session,
            desk.manager,
            main,
            subject="Also: wrong invoice",
            now=b(3, 23, 12),
            settings=desk.settings,
        )
        new_id = new.id
    split = desk.ticket(new_id)
    assert split.split_from_id == main and split.customer_id == desk.customer
    assert split.first_response_due_at == b(3, 23, 16)
    assert kinds(desk, main)[-1] == "split"


def test_update_ticket_records_before_and_after(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.update_ticket(
            session,
            desk.manager,
            t,
            subject="Broken vase",
            category_id=desk.delivery_category,
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        with pytest.raises(InputError) as bad:
            ticket_commands.update_ticket(
                session, desk.manager, t, status="closed", settings=desk.settings
            )
        assert bad.value.column == "status"
    with desk.database.session() as session:
        event = ticket_queries.list_events(session, desk.manager, t)[-1]
    assert event.kind == "updated"
    assert event.before == {"subject": "Parcel arrived broken", "category_id": None}
    assert event.after == {"subject": "Broken vase", "category_id": desk.delivery_category}


def test_times_are_utc_in_the_store(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    ticket = desk.ticket(t)
    assert ticket.created_at.utcoffset() == timedelta(0)
    assert ticket.created_at == b(3, 23, 9).astimezone(BERLIN)


def test_tickets_are_a_timeline_source_in_scope(desk: Desk) -> None:
    from kehu.customers.timeline import timeline_sources
    from kehu.desk.timeline import ticket_timeline_entries

    # registered by kehu.desk.registrations (imported through kehu.domains by the conftest)
    assert timeline_sources()["tickets"] is ticket_timeline_entries
    front = desk.new_ticket(b(3, 23, 9))
    billing = desk.new_ticket(b(3, 23, 10), category_id=desk.billing_category)
    with desk.database.session() as session:
        ticket_commands.resolve(
            session, desk.manager, front, now=b(3, 23, 11), settings=desk.settings
        )
    with desk.database.session() as session:
        everything = list(
            ticket_timeline_entries(session, desk.customer, desk.manager, None, None, 10)
        )
        agent = list(
            ticket_timeline_entries(session, desk.customer, desk.front_agent, None, None, 10)
        )
    assert [(e.kind, e.detail["ticket_id"]) for e in everything] == [
        ("ticket_resolved", front),
        ("ticket_created", billing),
        ("ticket_created", front),
    ]
    assert {e.detail["ticket_id"] for e in agent} == {front}
    assert everything[-1].title == f"Ticket #{front} filed: Parcel arrived broken"


def test_value_tier_routes_and_selects_the_promise(desk: Desk) -> None:
    from kehu.analytics.tiers import TIER_LABELS
    from kehu.desk.sla_store import VALUE_TIERS, create_policy
    from kehu.value.tables import CustomerScore, ValueRun

    assert VALUE_TIERS == TIER_LABELS
    with desk.database.session() as session:
        run = ValueRun(
            status="succeeded", source="test", input_fingerprint="x", currency="USD", settings={}
        )
        session.add(run)
        session.flush()
        session.add(
            CustomerScore(
                customer_id=desk.customer,
                run_id=run.id,
                frequency=3,
                recency=1.0,
                age=2.0,
                total_spend_minor=1,
                rfm_recency=5,
                rfm_frequency=5,
                rfm_monetary=5,
                rfm_segment="champions",
                value_tier="high",
                margin_minor=1,
                cost_to_serve_minor=0,
                profit_minor=1,
            )
        )
        routing.create_routing_rule(
            session, SYSTEM, name="vip", team_id=desk.billing, value_tiers=["high"]
        )
        create_policy(
            session,
            SYSTEM,
            name="vip",
            first_response=timedelta(hours=1),
            resolution=timedelta(hours=8),
            calendar_id=desk.calendar,
            value_tiers=["high"],
        )
    vip = desk.ticket(desk.new_ticket(b(3, 23, 9)))
    other = desk.ticket(desk.new_ticket(b(3, 23, 9), customer_id=desk.other_customer))
    assert (vip.value_tier, vip.team_id, vip.first_response_due_at) == (
        "high",
        desk.billing,
        b(3, 23, 10),
    )
    assert (other.value_tier, other.team_id, other.first_response_due_at) == (
        None,
        desk.front,
        b(3, 23, 13),
    )


def test_attachments_are_checked_and_kept(database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from desk import build_desk

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    base = build_desk(database, tmp_path, attachment_max_bytes=1000)
    for storage in (None, tmp_path / "files"):
        desk = desk_with(base, storage)
        t = desk.new_ticket(b(3, 23, 9))
        with desk.database.session() as session:
            kept = ticket_messages.add_attachment(
                session,
                desk.front_agent,
                t,
                filename="../../etc/photo.png",
                content_type="image/png",
                content=png,
                now=b(3, 23, 9, 5),
                settings=desk.settings,
            )
            attachment_id = kept.id
            assert kept.filename == "photo.png" and kept.size == len(png)
            for name, declared, content, field in [
                ("fake.png", "image/png", b"%PDF-1.7 not a png", "content_type"),
                ("evil.exe", "application/x-msdownload", b"MZ\x90\x00", "content_type"),
                ("big.txt", "text/plain", b"a" * 1001, "content"),
                ("bin.txt", "text/plain", b"\x00\x01binary", "content_type"),
            ]:
                with pytest.raises(InputError) as refused:
                    ticket_messages.add_attachment(
                        session,
                        desk.front_agent,
                        t,
                        filename=name,
                        content_type=declared,
                        content=content,
                        settings=desk.settings,
                    )
                assert refused.value.column == field
            ticket_messages.add_attachment(
                session,
                desk.front_agent,
                t,
                filename="note.txt",
                content_type="text/plain",
                content="收到，谢谢".encode(),
                settings=desk.settings,
            )
            ticket_messages.add_attachment(
                session,
                desk.front_agent,
                t,
                filename="scan.pdf",
                content_type="application/pdf",
                content=b"%PDF-1.4\n...",
                settings=desk.settings,
            )
        with desk.database.session() as session:
            meta, content = ticket_messages.read_attachment(
                session, desk.front_agent, attachment_id, settings=desk.settings
            )
            assert content == png and meta.content_type == "image/png"
            assert (meta.content is None) == (storage is not None)
            assert len(ticket_queries.list_attachments(session, desk.front_agent, t)) == 3
            with pytest.raises(NotFoundError, match=f"no attachment with id {attachment_id}"):
                ticket_messages.read_attachment(
                    session, desk.billing_agent, attachment_id, settings=desk.settings
                )


def desk_with(desk: Desk, storage: object) -> Desk:
    from dataclasses import replace

    settings = desk.settings.model_copy(update={"attachment_dir": storage})
    return replace(desk, settings=settings)
