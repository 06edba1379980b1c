"""``kehu worker``: leased job occurrences, the SLA check firing warnings, breaches and escalations
exactly once (also with two workers at once), and the command itself."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from desk import Desk, H, b, make_settings
from kehu.cli import main
from kehu.core.auth import SYSTEM
from kehu.core.config import get_settings
from kehu.core.jobs import JobContext, JobSpec, lease_due_job, run_due_jobs, runner, schedule
from kehu.core.jobs.tables import Job
from kehu.core.outbox import OutboxMessage
from kehu.core.users import service as users
from kehu.desk import routing, ticket_commands, ticket_merge, ticket_messages, ticket_queries
from kehu.desk.effort import ticket_effort
from kehu.desk.sla import alert_key
from kehu.desk.tables import FiredAlert, Ticket, TicketEvent
from kehu.desk.worker import sla_check
from kehu.desk.workflow import ACTIVE_CATEGORIES
from kehu.errors import ConflictError
from kehu.store.base import Base
from kehu.store.db import READ_ONLY_OPTION, Database
from store_support import downgrade


def sla_events(desk: Desk, ticket_id: int | None = None) -> list[tuple[int, str, str]]:
    with desk.database.session() as session:
        query = select(TicketEvent).where(TicketEvent.kind.in_(["sla_warning", "sla_breached"]))
        if ticket_id is not None:
            query = query.where(TicketEvent.ticket_id == ticket_id)
        return [
            (e.ticket_id, e.kind, e.after["key"])
            for e in session.scalars(query.order_by(TicketEvent.id))
        ]


# -- the SLA check ----------------------------------------------------------------------------


def test_warnings_and_breaches_fire_once_even_for_tickets_nobody_opened(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))  # first response due 13:00, warning at 75% = 12:00
    assert sla_check(desk.database, b(3, 23, 11, 59), settings=desk.settings).alerts == 0
    first = sla_check(desk.database, b(3, 23, 12, 30), settings=desk.settings)
    again = sla_check(desk.database, b(3, 23, 12, 31), settings=desk.settings)
    assert (first.alerts, again.alerts) == (1, 0)
    assert sla_events(desk, t) == [(t, "sla_warning", "first_response:warning:0.75")]
    breach = sla_check(desk.database, b(3, 23, 14), settings=desk.settings)
    assert breach.alerts == 1
    assert sla_check(desk.database, b(3, 23, 15), settings=desk.settings).alerts == 0
    assert [k for _, _, k in sla_events(desk, t)] == [
        "first_response:warning:0.75",
        "first_response:breach:-",
    ]
    with desk.database.session() as session:
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "sla_breached")).one()
        fired = session.scalars(select(FiredAlert).order_by(FiredAlert.id)).all()
    # dated when the promise broke (13:00), not when the check noticed it (14:00)
    assert event.actor_kind == "system" and event.at == b(3, 23, 13)
    assert event.after["alert_at"] == b(3, 23, 13).astimezone(event.at.tzinfo).isoformat()
    assert event.after["noticed_at"] == b(3, 23, 14).astimezone(event.at.tzinfo).isoformat()
    assert [f.alert_key for f in fired] == [
        "first_response:warning:0.75",
        "first_response:breach:-",
    ]


def test_a_late_check_dates_each_event_when_its_promise_broke_and_names_the_promise(
    desk: Desk,
) -> None:
    """A check that runs late (the worker was down for a day) fires the four alerts of a
    ticket -- a warning and a breach for each of its two promises -- each dated at its own
    moment with the promise it is about and its due time; the clock, the event order and the
    effort figures are those of a check that had run every minute."""
    t = desk.new_ticket(b(3, 23, 9))  # first response due 13:00, resolution 16 h: 24th 17:00
    late = b(3, 25, 10)
    assert sla_check(desk.database, late, settings=desk.settings).alerts == 4

    def utc(moment: datetime) -> str:
        return moment.astimezone(ZoneInfo("UTC")).isoformat()

    with desk.database.session() as session:
        events = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.kind.in_(["sla_warning", "sla_breached"]))
            .order_by(TicketEvent.at, TicketEvent.id)
        ).all()
        seen = [
            (e.at, e.kind, e.after["target"], e.after["due"], e.after["noticed_at"]) for e in events
        ]
    assert seen == [
        (b(3, 23, 12), "sla_warning", "first_response", utc(b(3, 23, 13)), utc(late)),
        (b(3, 23, 13), "sla_breached", "first_response", utc(b(3, 23, 13)), utc(late)),
        (b(3, 24, 13), "sla_warning", "resolution", utc(b(3, 24, 17)), utc(late)),
        (b(3, 24, 17), "sla_breached", "resolution", utc(b(3, 24, 17)), utc(late)),
    ]
    # events dated in the past change neither the clock nor the effort figures
    with desk.database.session() as session:
        ticket_messages.reply(
            session, desk.manager, t, "Sorry for the wait", now=late + H, settings=desk.settings
        )
        ticket_commands.resolve(session, desk.manager, t, now=late + 2 * H, settings=desk.settings)
    with desk.database.session() as session:
        status = ticket_queries.sla_status(session, desk.ticket(t), late + 3 * H)
        effort = ticket_effort(session, desk.manager, t)
        listed = [e.kind for e in ticket_queries.list_events(session, desk.manager, t)]
    assert status is not None
    assert status.first_response.breached_at == b(3, 23, 13)
    assert status.resolution.breached_at == b(3, 24, 17)
    assert status.first_response.stopped_at == late + H
    assert status.resolution.stopped_at == late + 2 * H
    assert (effort.agent_replies, effort.customer_contacts, effort.transfers) == (1, 1, 0)
    assert listed.index("sla_breached") < listed.index("replied") < listed.index("resolved")
    assert listed[0] == "created"
    assert sla_check(desk.database, late + 4 * H, settings=desk.settings).alerts == 0


def test_paused_and_resolved_tickets_do_not_alert(desk: Desk) -> None:
    waiting = desk.new_ticket(b(3, 23, 9))
    done = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.change_status(
            session,
            desk.manager,
            waiting,
            "waiting_on_customer",
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        ticket_commands.resolve(
            session, desk.manager, done, now=b(3, 23, 10), settings=desk.settings
        )
    assert sla_check(desk.database, b(3, 23, 16), settings=desk.settings).alerts == 0


def test_two_workers_at_once_fire_each_alert_exactly_once(desk: Desk) -> None:
    ids = [desk.new_ticket(b(3, 23, 9)) for _ in range(6)]
    barrier = threading.Barrier(2)
    reports = {}
    errors: list[BaseException] = []

    def work(owner: str) -> None:
        try:
            barrier.wait()
            reports[owner] = sla_check(
                desk.database, b(3, 23, 14), owner=owner, settings=desk.settings
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(owner,)) for owner in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert reports["w1"].alerts + reports["w2"].alerts == 2 * len(ids)  # warning + breach each
    events = sla_events(desk)
    assert len(events) == 2 * len(ids) == len(set(events))
    with desk.database.session() as session:
        assert session.scalar(select(func.count()).select_from(FiredAlert)) == 2 * len(ids)


def test_escalation_rules_act_once_per_ticket_and_threshold(desk: Desk) -> None:
    with desk.database.session() as session:
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="tell the lead",
            action="notify",
            target="first_response",
            alert_kind="warning",
            threshold=0.75,
            notify_email="lead@example.com",
        )
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="make it urgent",
            action="raise_priority",
            target="first_response",
            alert_kind="breach",
            priority="urgent",
        )
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="to billing",
            action="reassign",
            target="resolution",
            alert_kind="breach",
            team_id=desk.billing,
        )
    t = desk.new_ticket(b(3, 23, 9))
    for now in (b(3, 23, 12, 30), b(3, 23, 12, 45)):
        sla_check(desk.database, now, settings=desk.settings)
    with desk.database.session() as session:
        notes = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "escalation")
        ).all()
    assert [(n.recipient, n.customer_id) for n in notes] == [("lead@example.com", None)]
    for now in (b(3, 23, 14), b(3, 23, 14, 1)):
        sla_check(desk.database, now, settings=desk.settings)
    ticket = desk.ticket(t)
    assert ticket.priority == "urgent"
    # urgent promises resolution within 4 h: breached at 13:00 already, at the change instant
    assert ticket.team_id == desk.billing
    with desk.database.session() as session:
        kinds = [e.kind for e in ticket_queries.list_events(session, desk.manager, t)]
    assert kinds.count("escalated") == 3  # notify, raise priority, reassign: once each
    assert kinds.count("transferred") == 1
    assert kinds[0] == "created"


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        (
            "en",
            "[#{t}] Service promise nearly due (first response): Parcel arrived broken",
            "Ticket #{t} (Normal, New): the first response promise is due Mon, Mar 23, 2026 "
            "13:00 Central European Standard Time. As of Mon, Mar 23, 2026 12:00 Central "
            "European Standard Time it is nearly due.\n",
        ),
        (
            "zh-Hans",
            "[#{t}] 服务承诺即将到期（首次响应）：Parcel arrived broken",
            "工单 #{t}（普通，新建）：首次响应承诺的期限为 2026年3月23日周一 13:00 中欧标准时间。"
            "截至 2026年3月23日周一 12:00 中欧标准时间，该承诺即将到期。\n",
        ),
    ],
)
def test_a_staff_alert_names_the_promise_in_the_staff_language(
    desk: Desk, language: str, subject: str, body: str
) -> None:
    with desk.database.session() as session:
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="tell the lead",
            action="notify",
            target="first_response",
            alert_kind="warning",
            threshold=0.75,
            notify_email="lead@example.com",
        )
    t = desk.new_ticket(b(3, 23, 9))  # first response due 13:00 Berlin, warned at 12:00
    staff = desk.settings.model_copy(update={"staff_language": language})
    sla_check(desk.database, b(3, 23, 12, 30), settings=staff)
    with desk.database.session() as session:
        alert = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "escalation")
        ).one()
    assert (alert.subject, alert.body) == (subject.format(t=t), body.format(t=t))


def test_a_late_staff_alert_names_the_due_time_of_its_moment_as_the_event_does(
    desk: Desk,
) -> None:
    """The checker runs late: the warning was crossed at 12:00 (first response due 13:00), the
    ticket waits on the customer since 12:10, the check runs at 12:30. The mail names 13:00,
    the due time when the threshold was crossed, as the ticket's event does; it used to read
    the ticket's due time now (none while paused) and named 12:00."""
    with desk.database.session() as session:
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="tell the lead",
            action="notify",
            target="first_response",
            alert_kind="warning",
            threshold=0.75,
            notify_email="lead@example.com",
        )
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.change_status(
            session,
            desk.manager,
            t,
            "waiting_on_customer",
            now=b(3, 23, 12, 10),
            settings=desk.settings,
        )
    sla_check(desk.database, b(3, 23, 12, 30), settings=desk.settings)
    with desk.database.session() as session:
        alert = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "escalation")
        ).one()
        warning = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == t, TicketEvent.kind == "sla_warning")
        ).one()
    assert warning.after["due"] == b(3, 23, 13).astimezone(ZoneInfo("UTC")).isoformat()
    assert "is due Mon, Mar 23, 2026 13:00 Central European Standard Time" in alert.body


def test_an_escalation_passes_over_an_assignee_deactivated_since_the_rule_was_made(
    desk: Desk,
) -> None:
    """Rules are checked when they are made; a user who leaves later is passed over, the
    team still gets the ticket, and the check does not fail."""
    with desk.database.session() as session:
        for name, team, assignee in (("to billing", desk.billing, 20), ("to 21", None, 21)):
            routing.create_escalation_rule(
                session,
                SYSTEM,
                name=name,
                action="reassign",
                target="first_response",
                alert_kind="breach",
                team_id=team,
                assignee_id=assignee,
            )
        for left in (20, 21):
            users.deactivate_user(session, SYSTEM, left)
    t = desk.new_ticket(b(3, 23, 9))

    report = sla_check(desk.database, b(3, 23, 14), settings=desk.settings)

    assert report.errors == 0
    ticket = desk.ticket(t)
    assert (ticket.team_id, ticket.assignee_id) == (desk.billing, None)


# -- only the tickets with an alert due -------------------------------------------------------

TICK = timedelta(microseconds=1)


@dataclass
class Transactions:
    """Transactions on a store, counted by what they did (read-only ones begin deferred)."""

    writers: int = 0  # began as writers (SQLite: BEGIN IMMEDIATE, the one write lock)
    wrote: int = 0  # committed an INSERT, UPDATE or DELETE


@contextmanager
def counting_transactions(database: Database) -> Iterator[Transactions]:
    counts = Transactions()
    writing: dict[int, bool] = {}

    def began(connection: Connection) -> None:
        if not connection.get_execution_options().get(READ_ONLY_OPTION):
            counts.writers += 1
        writing[id(connection)] = False

    def executed(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writing[id(connection)] = True

    def committed(connection: Connection) -> None:
        counts.wrote += writing.pop(id(connection), False)

    listeners = (("begin", began), ("before_cursor_execute", executed), ("commit", committed))
    for name, listener in listeners:
        event.listen(database.engine, name, listener)
    try:
        yield counts
    finally:
        for name, listener in listeners:
            event.remove(database.engine, name, listener)


def next_alert_at(desk: Desk, ticket_id: int) -> datetime | None:
    return desk.ticket(ticket_id).sla_next_alert_at


def test_the_check_reads_only_the_tickets_with_an_alert_due(desk: Desk) -> None:
    due = desk.new_ticket(b(3, 23, 9))  # warning at 12:00
    later = [desk.new_ticket(b(3, 23, 11)) for _ in range(5)]  # warnings at 14:00
    with desk.database.session() as session:
        ticket_commands.change_status(
            session,
            desk.manager,
            later[0],
            "waiting_on_customer",
            now=b(3, 23, 11),
            settings=desk.settings,
        )
        ticket_commands.resolve(
            session, desk.manager, later[1], now=b(3, 23, 11), settings=desk.settings
        )
    assert next_alert_at(desk, due) == b(3, 23, 12)
    assert [next_alert_at(desk, t) for t in later] == [None, None, *[b(3, 23, 14)] * 3]

    with counting_transactions(desk.database) as counts:
        report = sla_check(desk.database, b(3, 23, 12, 30), settings=desk.settings)
    assert (report.tickets, report.alerts) == (1, 1)
    assert (counts.writers, counts.wrote) == (1, 1)  # one ticket checked, in one transaction
    assert next_alert_at(desk, due) == b(3, 23, 13) + TICK  # the breach, just past 13:00

    with counting_transactions(desk.database) as counts:
        quiet = sla_check(desk.database, b(3, 23, 12, 31), settings=desk.settings)
    assert (quiet.tickets, quiet.alerts, counts.writers, counts.wrote) == (0, 0, 0, 0)

    with counting_transactions(desk.database) as counts:
        report = sla_check(desk.database, b(3, 23, 14, 0, 30), settings=desk.settings)
    assert (report.tickets, report.alerts) == (4, 4)  # the breach, and three warnings at 14:00
    assert (counts.writers, counts.wrote) == (4, 4)


def test_every_change_keeps_when_the_next_alert_is_due(desk: Desk) -> None:
    m = desk.manager
    t = desk.new_ticket(b(3, 23, 9))
    assert next_alert_at(desk, t) == b(3, 23, 12)  # first response warning, 75% of 4 h

    def change(action: Any, *args: Any, **options: Any) -> datetime | None:
        with desk.database.session() as session:
            action(session, m, t, *args, settings=desk.settings, **options)
        return next_alert_at(desk, t)

    # answered at 10:00: the first response is met; resolution's warning after 12 of 16 h
    assert change(ticket_messages.reply, "Which parcel?", now=b(3, 23, 10)) == b(3, 24, 13)
    # waiting on the customer from 11:00: the clock stops, nothing to alert
    assert change(ticket_commands.change_status, "waiting_on_customer", now=b(3, 23, 11)) is None
    # the customer answers Wednesday 09:00 (2 h used): 10 h to the warning -> Thursday 11:00
    with desk.database.session() as session:
        ticket_messages.add_customer_reply(
            session, SYSTEM, t, "The blue one", now=b(3, 25, 9), settings=desk.settings
        )
    assert next_alert_at(desk, t) == b(3, 26, 11)
    # urgent (always open, 4 h): 2 h 50 min consumed; its warning at 75% = 3 h, 10 min later
    assert change(ticket_commands.change_priority, "urgent", now=b(3, 25, 9, 50)) == b(3, 25, 10)
    assert change(ticket_commands.resolve, now=b(3, 25, 9, 55)) is None
    # reopened at 11:00 with 2 h 55 min consumed: the warning 5 minutes later
    assert change(ticket_commands.reopen, now=b(3, 25, 11)) == b(3, 25, 11, 5)
    assert change(ticket_commands.close, now=b(3, 25, 12)) is None

    source = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        target = ticket_merge.merge_tickets(
            session,
            m,
            source,
            desk.new_ticket(b(3, 23, 9)),
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        assert target.sla_next_alert_at == b(3, 23, 12)
    assert next_alert_at(desk, source) is None  # merged away: closed


def test_a_warning_reported_before_a_pause_still_fires(desk: Desk) -> None:
    """As when every ticket was checked: a warning the clock reached before the ticket began
    waiting, and nobody fired yet, is fired by the next check."""
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.change_status(
            session,
            desk.manager,
            t,
            "waiting_on_customer",
            now=b(3, 23, 12, 0, 30),
            settings=desk.settings,
        )
    assert next_alert_at(desk, t) == b(3, 23, 12)
    assert sla_check(desk.database, b(3, 23, 12, 1), settings=desk.settings).alerts == 1
    assert sla_events(desk, t) == [(t, "sla_warning", "first_response:warning:0.75")]
    assert next_alert_at(desk, t) is None


def test_a_check_that_began_before_a_change_schedules_from_the_change(desk: Desk) -> None:
    """A check runs with the instant it began; a resume an agent stored meanwhile (later than
    that instant) must still leave the breach scheduled."""
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.change_status(
            session,
            desk.manager,
            t,
            "waiting_on_customer",
            now=b(3, 23, 12, 0, 30),
            settings=desk.settings,
        )
        ticket_messages.add_customer_reply(
            session, SYSTEM, t, "Here it is", now=b(3, 23, 12, 2), settings=desk.settings
        )
    assert sla_check(desk.database, b(3, 23, 12, 1), settings=desk.settings).alerts == 1
    # 90 seconds paused: the first response is breached at 13:01:30
    assert next_alert_at(desk, t) == b(3, 23, 13, 1, 30) + TICK
    assert sla_check(desk.database, b(3, 23, 13, 2), settings=desk.settings).alerts == 1
    assert [k for _, _, k in sla_events(desk, t)][-1] == "first_response:breach:-"


def test_a_ticket_changed_while_it_is_checked_is_checked_again_next_time(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    real_sla_status = ticket_queries.sla_status

    def changed_meanwhile(session: Session, ticket: Ticket, now: datetime) -> Any:
        # an agent's change committed since the check read the ticket: its version moved on
        # (behind the session's back, as another transaction's would)
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(version=Ticket.version + 1)
            .execution_options(synchronize_session=False)
        )
        return real_sla_status(session, ticket, now)

    monkeypatch.setattr(ticket_queries, "sla_status", changed_meanwhile)
    deferred = sla_check(desk.database, b(3, 23, 12, 30), settings=desk.settings)
    assert (deferred.tickets, deferred.alerts, deferred.errors) == (1, 0, 1)
    assert sla_events(desk, t) == []  # rolled back with the stale write
    monkeypatch.setattr(ticket_queries, "sla_status", real_sla_status)
    again = sla_check(desk.database, b(3, 23, 12, 31), settings=desk.settings)
    assert (again.alerts, again.errors) == (1, 0)


def unfired_alerts(desk: Desk, now: datetime) -> set[tuple[int, str]]:
    """What a check of every open or waiting ticket (the check before it read only the due
    ones) fires at ``now``: each alert the clock reports and ``fired_alerts`` lacks."""
    with desk.database.session(read_only=True) as session:
        fired = {
            (row.ticket_id, row.alert_key)
            for row in session.execute(select(FiredAlert.ticket_id, FiredAlert.alert_key))
        }
        unfired = set()
        open_tickets = select(Ticket).where(
            Ticket.status_category.in_(ACTIVE_CATEGORIES),
            Ticket.sla_policy_version_id.is_not(None),
        )
        for ticket in session.scalars(open_tickets):
            status = ticket_queries.sla_status(session, ticket, now)
            assert status is not None
            unfired |= {(ticket.id, alert_key(a)) for a in status.alerts} - fired
    return unfired


def fired_alerts(desk: Desk) -> set[tuple[int, str]]:
    with desk.database.session(read_only=True) as session:
        rows = session.execute(select(FiredAlert.ticket_id, FiredAlert.alert_key))
        return {(row.ticket_id, row.alert_key) for row in rows}


def desk_timeline(rng: random.Random) -> list[tuple[datetime, str, int]]:
    """Tickets filed Monday to Wednesday and worked in random order: (instant, action, ticket)."""
    timeline = []
    for n in range(16):
        created = b(3, 23, 8) + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        timeline.append((created, "create", n))
        at = created
        for _ in range(rng.randrange(0, 6)):
            at += timedelta(minutes=rng.randrange(10, 8 * 60))
            action = rng.choice(
                ["reply", "wait", "customer", "resolve", "reopen", "urgent", "close"]
            )
            timeline.append((at, action, n))
    return sorted(timeline)


def test_the_check_fires_what_checking_every_ticket_fired(desk: Desk) -> None:
    """A desk worked at random for four days, checked every half hour: each check fires
    exactly what a check of every open ticket would, and checks no ticket without an alert
    due (escalations raising the priority switch policies during the checks)."""
    with desk.database.session() as session:
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="make it urgent",
            action="raise_priority",
            target="first_response",
            alert_kind="breach",
            priority="urgent",
        )
    rng = random.Random(8)
    actions = desk_timeline(rng)
    ids: dict[int, int] = {}
    now, end = b(3, 23, 8), b(3, 27, 8)
    checked = fired = 0
    while now < end:
        while actions and actions[0][0] <= now:
            at, action, n = actions.pop(0)
            if action == "create":
                ids[n] = desk.new_ticket(at)
                continue
            try:
                with desk.database.session() as session:
                    if action in ("reply", "wait"):
                        ticket_messages.reply(
                            session,
                            desk.manager,
                            ids[n],
                            "On it",
                            wait_for_customer=action == "wait",
                            now=at,
                            settings=desk.settings,
                        )
                    elif action == "customer":
                        ticket_messages.add_customer_reply(
                            session, SYSTEM, ids[n], "Any news?", now=at, settings=desk.settings
                        )
                    elif action == "resolve":
                        ticket_commands.resolve(
                            session, desk.manager, ids[n], now=at, settings=desk.settings
                        )
                    elif action == "reopen":
                        ticket_commands.reopen(
                            session, desk.manager, ids[n], now=at, settings=desk.settings
                        )
                    elif action == "urgent":
                        ticket_commands.change_priority(
                            session, desk.manager, ids[n], "urgent", now=at, settings=desk.settings
                        )
                    elif action == "close":
                        ticket_commands.close(
                            session, desk.manager, ids[n], now=at, settings=desk.settings
                        )
            except ConflictError:
                continue  # refused in the ticket's state: nothing recorded
        expected = unfired_alerts(desk, now)
        before = fired_alerts(desk)
        report = sla_check(desk.database, now, settings=desk.settings)
        assert fired_alerts(desk) - before == expected, now
        assert (report.tickets, report.alerts, report.errors) == (
            len({t for t, _ in expected}),
            len(expected),
            0,
        ), now
        checked += report.tickets
        fired += report.alerts
        now += timedelta(minutes=30)
    assert not actions
    assert fired > 30 and checked < fired  # several alerts per checked ticket, often
    assert unfired_alerts(desk, end) == set()


def test_the_upgrade_has_every_open_ticket_checked_once(desk: Desk) -> None:
    """Revision 0007 schedules existing open tickets at their creation: the first check
    evaluates each of them and stores its real next alert; closed ones are left alone."""
    running = desk.new_ticket(b(3, 23, 9))
    waiting = desk.new_ticket(b(3, 23, 9))
    done = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.change_status(
            session,
            desk.manager,
            waiting,
            "waiting_on_customer",
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        ticket_commands.resolve(
            session, desk.manager, done, now=b(3, 23, 10), settings=desk.settings
        )
    downgrade(desk.database, "0006")
    desk.database.upgrade()
    assert [next_alert_at(desk, t) for t in (running, waiting, done)] == [
        b(3, 23, 9),
        b(3, 23, 9),
        None,
    ]
    report = sla_check(desk.database, b(3, 23, 11), settings=desk.settings)
    assert (report.tickets, report.alerts) == (2, 0)
    assert [next_alert_at(desk, t) for t in (running, waiting, done)] == [b(3, 23, 12), None, None]


# -- the job runner ---------------------------------------------------------------------------


def counting_registry(calls: list[str]) -> dict[str, JobSpec]:
    def handler(context: JobContext) -> None:
        calls.append(f"{context.run.key}@{context.run.owner}")

    return {"tick": JobSpec("tick", handler, timedelta(minutes=1))}


def test_periodic_job_runs_once_per_period_whoever_asks(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    calls: list[str] = []
    registry = counting_registry(calls)
    now = b(3, 23, 9, 0, 30)
    run_due_jobs(database, now, "w1", registry=registry, settings=settings)
    run_due_jobs(database, now, "w2", registry=registry, settings=settings)
    run_due_jobs(database, now + timedelta(seconds=20), "w2", registry=registry, settings=settings)
    assert calls == ["2026-03-23T08:00:00+00:00@w1"]
    run_due_jobs(database, now + timedelta(minutes=1), "w2", registry=registry, settings=settings)
    assert calls[-1] == "2026-03-23T08:01:00+00:00@w2" and len(calls) == 2


def test_an_expired_lease_is_retaken(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    calls: list[str] = []
    registry = {"once": JobSpec("once", counting_registry(calls)["tick"].handler)}
    now = b(3, 23, 9)
    assert schedule(database, "once", "k1", now)
    assert not schedule(database, "once", "k1", now)  # the same occurrence is added once
    crashed = lease_due_job(database, now, "crashed-worker", timedelta(minutes=5))
    assert crashed is not None and crashed.attempts == 1
    # the lease is alive: nobody else takes it
    assert (
        run_due_jobs(
            database, now + timedelta(minutes=4), "w2", registry=registry, settings=settings
        )
        == []
    )
    outcomes = run_due_jobs(
        database, now + timedelta(minutes=6), "w2", registry=registry, settings=settings
    )
    assert [(o.run.owner, o.run.attempts, o.ok) for o in outcomes] == [("w2", 2, True)]
    assert calls == ["k1@w2"]
    # the crashed worker coming back cannot mark what it no longer holds
    runner._finish(database, crashed, now + timedelta(minutes=7), "late", settings)
    with database.session() as session:
        job = session.scalars(select(Job)).one()
    assert (job.lease_owner, job.attempts, job.last_error) == ("w2", 2, None)
    assert job.done_at == now + timedelta(minutes=6)


def test_a_failing_job_backs_off_then_gives_up(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, job_max_attempts=2)

    def broken(_context: JobContext) -> None:
        raise RuntimeError("mail server down")

    registry = {"broken": JobSpec("broken", broken)}
    now = b(3, 23, 9)
    schedule(database, "broken", "k", now)
    first = run_due_jobs(database, now, "w", registry=registry, settings=settings)
    assert first[0].error == "RuntimeError: mail server down"
    assert (
        run_due_jobs(
            database, now + timedelta(seconds=10), "w", registry=registry, settings=settings
        )
        == []
    )
    second = run_due_jobs(
        database, now + timedelta(seconds=31), "w", registry=registry, settings=settings
    )
    assert second[0].run.attempts == 2
    with database.session() as session:
        job = session.scalars(select(Job)).one()
    assert job.failed and job.done_at is not None and "mail server" in (job.last_error or "")
    schedule(database, "nobody-handles-this", "k", now)
    unknown = run_due_jobs(database, now, "w", registry=registry, settings=settings)
    assert unknown[0].error == "no handler registered for job 'nobody-handles-this'"


def test_the_default_jobs_check_slas_and_deliver_the_outbox(desk: Desk, tmp_path: Path) -> None:
    # the handlers work with the settings the worker was given (desk.settings: outbox_dir in
    # tmp_path), not with the environment
    t = desk.new_ticket(b(3, 23, 9))
    outcomes = run_due_jobs(desk.database, b(3, 23, 14), "w1", settings=desk.settings)
    assert sorted(o.run.name for o in outcomes) == [
        "feedback.follow_up.auto_open",  # kehu.feedback.follow_up (does nothing while off)
        "idempotency_purge",
        "outbox_deliver",
        "sla_check",
        "survey_invitations",  # kehu.feedback.invitations
        "theme_tagging",  # kehu.feedback.themes
    ]
    assert all(o.ok for o in outcomes)
    assert len(sla_events(desk, t)) == 2
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # the acknowledgement


def test_kehu_worker_run_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'kehu.db'}"
    database = Database(url)
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    database.dispose()
    monkeypatch.setenv("KEHU_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["worker", "run", "--once", "--owner", "test-worker"])
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code in (0, None)
    output = capsys.readouterr().out
    assert "ran sla_check" in output and "ran outbox_deliver" in output
    assert "ran idempotency_purge" in output
    assert "ran survey_invitations" in output
    assert "ran theme_tagging" in output and "ran feedback.follow_up.auto_open" in output
    assert "worker test-worker: 6 job(s) run, 0 failed" in output
