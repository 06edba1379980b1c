"""Customer effort and one-stop resolution per ticket and per team, category and month; handling
time costed into the value engine's cost-to-serve."""

from __future__ import annotations

import contextlib
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import available_timezones

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desk import Desk, H, b, make_settings
from kehu.core.auth import SYSTEM, Principal
from kehu.desk import sla_store, ticket_commands, ticket_merge, ticket_messages, ticket_queries
from kehu.desk.effort import (
    EffortRow,
    KeptPromiseRow,
    TicketEffort,
    _month_starts,
    cost_minor,
    customer_effort,
    effort_summary,
    kept_promise_rates,
    ticket_effort,
)
from kehu.desk.sla import reporting_month
from kehu.desk.tables import SlaPolicyVersion, Ticket, TicketEvent
from kehu.errors import ConflictError, InputError
from kehu.value.service import cost_to_serve_from_store
from kehu.value.tables import CostToServe


def test_one_stop_resolution(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_messages.reply(
            session,
            desk.front_agent,
            t,
            "Refunded.",
            handling_seconds=300,
            now=b(3, 23, 9, 10),
            settings=desk.settings,
        )
        ticket_commands.resolve(
            session,
            desk.front_agent,
            t,
            handling_seconds=60,
            now=b(3, 23, 9, 11),
            settings=desk.settings,
        )
    with desk.database.session() as session:
        effort = ticket_effort(session, desk.manager, t)
    assert effort.first_contact_resolution is True
    assert (effort.transfers, effort.handoffs, effort.customer_contacts) == (0, 0, 1)
    assert effort.handling_seconds == 360


def test_an_effortful_ticket(desk: Desk) -> None:
    first = desk.new_ticket(b(3, 2, 9), category_id=desk.delivery_category)
    t = desk.new_ticket(b(3, 4, 9), category_id=desk.delivery_category)  # a repeat
    m = desk.manager
    with desk.database.session() as session:
        ticket_commands.assign(session, m, t, 10, now=b(3, 4, 9, 5), settings=desk.settings)
        ticket_messages.reply(
            session,
            m,
            t,
            "Which parcel?",
            wait_for_customer=True,
            now=b(3, 4, 10),
            settings=desk.settings,
        )
        ticket_messages.add_customer_reply(
            session, SYSTEM, t, "The blue one, as I said.", now=b(3, 4, 11), settings=desk.settings
        )
        ticket_commands.transfer(
            session, m, t, desk.billing, assignee_id=20, now=b(3, 4, 12), settings=desk.settings
        )
        ticket_commands.assign(session, m, t, None, now=b(3, 4, 12, 30), settings=desk.settings)
        ticket_commands.assign(session, m, t, 21, now=b(3, 4, 13), settings=desk.settings)
        ticket_messages.reply(
            session, m, t, "Refund sent.", now=b(3, 4, 14), settings=desk.settings
        )
        ticket_commands.resolve(session, m, t, now=b(3, 4, 14), settings=desk.settings)
        ticket_commands.reopen(session, m, t, now=b(3, 5, 9), settings=desk.settings)
        ticket_commands.resolve(session, m, t, now=b(3, 5, 10), settings=desk.settings)
    with desk.database.session() as session:
        effort = ticket_effort(session, m, t)
        original = ticket_effort(session, m, first)
    assert effort.transfers == 1
    assert effort.handoffs == 2  # 10 -> 20 (transfer), 20 -> (unassigned) -> 21
    assert effort.customer_contacts == 2
    assert effort.agent_replies == 2
    assert effort.reopenings == 1
    assert effort.is_repeat and not original.is_repeat and original.repeated == 1
    assert effort.first_contact_resolution is False
    assert original.first_contact_resolution is None  # not resolved


def test_a_customers_effort_so_far_over_the_tickets_the_caller_may_read(desk: Desk) -> None:
    """The ticket page's customer panel: the customer's tickets, transfers, repeats, contacts
    and reopenings, summed over their tickets in the caller's row scope."""
    first = desk.new_ticket(b(3, 2, 9), team_id=desk.front, category_id=desk.delivery_category)
    again = desk.new_ticket(b(3, 4, 9), team_id=desk.front, category_id=desk.delivery_category)
    m = desk.manager
    with desk.database.session() as session:
        ticket_messages.add_customer_reply(
            session, SYSTEM, again, "Still broken.", now=b(3, 4, 11), settings=desk.settings
        )
        ticket_commands.transfer(
            session, m, again, desk.billing, now=b(3, 4, 12), settings=desk.settings
        )
        ticket_commands.resolve(session, m, first, now=b(3, 4, 13), settings=desk.settings)
        ticket_commands.reopen(session, m, first, now=b(3, 5, 9), settings=desk.settings)
    with desk.database.session() as session:
        everything = customer_effort(session, m, desk.customer)
        front_only = customer_effort(session, desk.front_agent, desk.customer)
        nobody = customer_effort(session, m, desk.other_customer)
    assert (everything.tickets, everything.transfers, everything.repeats) == (2, 1, 1)
    assert (everything.customer_contacts, everything.reopenings) == (3, 1)
    # the transferred ticket left the front agent's scope: only the first is counted
    assert (front_only.tickets, front_only.transfers, front_only.repeats) == (1, 0, 0)
    assert (front_only.customer_contacts, front_only.reopenings) == (1, 1)
    assert (nobody.tickets, nobody.customer_contacts) == (0, 0)


def test_effort_per_team_category_and_month(desk: Desk) -> None:
    m = desk.manager
    quick = desk.new_ticket(b(3, 23, 9), category_id=desk.delivery_category)
    slow = desk.new_ticket(b(3, 30, 9), category_id=desk.delivery_category)
    april = desk.new_ticket(b(4, 1, 9), category_id=desk.delivery_category)
    desk.new_ticket(b(3, 23, 9), category_id=desk.billing_category)
    with desk.database.session() as session:
        ticket_messages.reply(
            session,
            m,
            quick,
            "Done.",
            handling_seconds=600,
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        ticket_commands.resolve(session, m, quick, now=b(3, 23, 10), settings=desk.settings)
        ticket_messages.reply(session, m, slow, "Hm.", now=b(3, 30, 10), settings=desk.settings)
        ticket_messages.reply(
            session,
            m,
            slow,
            "Done.",
            handling_seconds=1200,
            now=b(3, 30, 11),
            settings=desk.settings,
        )
        ticket_commands.resolve(session, m, slow, now=b(3, 30, 11), settings=desk.settings)
        ticket_commands.resolve(session, m, april, now=b(4, 1, 10), settings=desk.settings)
    with desk.database.session() as session:
        rows = effort_summary(session, m, settings=desk.settings)
        front_only = effort_summary(session, desk.front_agent, settings=desk.settings)
    table = {(r.team_id, r.category_id, r.month): r for r in rows}
    march = table[(desk.front, desk.delivery_category, "2026-03")]
    assert (march.tickets, march.resolved, march.first_contact_resolutions) == (2, 2, 1)
    assert march.first_contact_resolution_rate == 0.5
    assert march.repeats == 1  # the second delivery ticket within 7 days
    assert march.handling_seconds == 1800
    assert march.contacts_per_ticket == 1.0
    assert table[(desk.front, desk.delivery_category, "2026-04")].first_contact_resolutions == 1
    billing = table[(desk.billing, desk.billing_category, "2026-03")]
    assert (billing.tickets, billing.resolved, billing.first_contact_resolution_rate) == (
        1,
        0,
        None,
    )
    assert {r.team_id for r in front_only} == {desk.front}


def test_handling_time_becomes_cost_to_serve(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        s = desk.settings
        ticket_messages.reply(
            session, desk.manager, t, "On it.", handling_seconds=600, now=b(3, 23, 10), settings=s
        )
        ticket_messages.add_note(
            session,
            desk.manager,
            t,
            "called the courier",
            handling_seconds=90,
            now=b(3, 23, 11),
            settings=s,
        )
        ticket_messages.add_note(session, desk.manager, t, "no cost", now=b(3, 23, 12), settings=s)
    with desk.database.session() as session:
        rows = session.scalars(select(CostToServe).order_by(CostToServe.id)).all()
        events = {
            e.id: e
            for e in session.scalars(select(TicketEvent).where(TicketEvent.handling_seconds > 0))
        }
    # 36 per hour: 600 s = 6.00, 90 s = 0.90 (minor units)
    assert [(r.customer_id, r.amount_minor) for r in rows] == [
        (desk.customer, 600),
        (desk.customer, 90),
    ]
    assert {r.source for r in rows} == {f"ticket_event:{i}" for i in events}
    assert rows[0].recorded_at == b(3, 23, 10)
    costs = cost_to_serve_from_store(desk.database)
    assert costs.to_dict() == {"C-1": 690}


def test_cost_rounding() -> None:
    assert cost_minor(1, Decimal("36"), 2) == 1  # 0.01
    assert cost_minor(3600, Decimal("29.99"), 2) == 2999
    assert cost_minor(50, Decimal("36"), 2) == 50
    assert cost_minor(45, Decimal("1"), 2) == 1  # 1.25 minor units -> 1 (half-even)
    assert cost_minor(0, Decimal("36"), 2) == 0


# -- the store's aggregates against a replay of the event log ---------------------------------


def replayed_effort(ticket: Ticket, events: list[TicketEvent], repeated: int) -> TicketEffort:
    """The figures by walking the ticket's events in Python, as the module docstring defines
    them (how kehu computed them before the store aggregated them): the oracle below."""
    transfers = handoffs = replies = reopenings = handling = 0
    contacts = 1
    owner: int | None = None
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        handling += event.handling_seconds
        if event.kind == "created":
            owner = event.after.get("assignee_id")
        elif event.kind == "transferred":
            transfers += 1
        elif event.kind == "customer_replied":
            contacts += 1
        elif event.kind == "replied":
            replies += 1
        elif event.kind == "reopened":
            reopenings += 1
        if event.kind in ("assigned", "transferred"):
            new_owner = event.after.get("assignee_id")
            if new_owner is not None:
                if owner is not None and new_owner != owner:
                    handoffs += 1
                owner = new_owner
    resolved = ticket.resolved_at is not None and ticket.merged_into_id is None
    one_stop = None
    if resolved:
        one_stop = transfers == 0 and replies <= 1 and contacts == 1 and reopenings == 0
    return TicketEffort(
        ticket_id=ticket.id,
        transfers=transfers,
        handoffs=handoffs,
        customer_contacts=contacts,
        agent_replies=replies,
        reopenings=reopenings,
        is_repeat=ticket.repeat_of_id is not None,
        repeated=repeated,
        handling_seconds=handling,
        resolved=resolved,
        first_contact_resolution=one_stop,
    )


def replayed_summary(
    session: Session, principal: Principal, timezone: str
) -> tuple[dict[int, TicketEffort], list[EffortRow], list[KeptPromiseRow]]:
    """Per-ticket figures, the effort summary and the kept-promise rates by replay."""
    visible = {t.id for t in ticket_queries.list_tickets(session, principal, limit=10_000)}
    every = session.scalars(select(Ticket).order_by(Ticket.id)).all()
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in session.scalars(select(TicketEvent)):
        events[event.ticket_id].append(event)
    repeated = Counter(t.repeat_of_id for t in every if t.repeat_of_id is not None)
    efforts = {t.id: replayed_effort(t, events[t.id], repeated[t.id]) for t in every}
    groups: dict[tuple[int | None, int | None, str], list[int]] = defaultdict(lambda: [0] * 10)
    kept: dict[tuple[int, int | None, str], list[int]] = defaultdict(lambda: [0, 0])
    names: dict[int, str] = {}
    for t in every:
        if t.id not in visible or t.merged_into_id is not None:
            continue
        e = efforts[t.id]
        group = groups[(t.team_id, t.category_id, reporting_month(t.created_at, timezone))]
        for i, value in enumerate(
            (
                1,
                e.resolved,
                bool(e.first_contact_resolution),
                e.transfers,
                e.handoffs,
                e.customer_contacts,
                e.is_repeat,
                e.reopenings,
                e.handling_seconds,
                e.resolved and e.reopenings > 0,
            )
        ):
            group[i] += int(value)
        if t.sla_kept is not None and t.resolved_at is not None:
            version = session.get(SlaPolicyVersion, t.sla_policy_version_id)
            assert version is not None
            names[version.policy_id] = version.name
            counts = kept[(version.policy_id, t.team_id, reporting_month(t.resolved_at, timezone))]
            counts[0] += bool(t.sla_kept)
            counts[1] += 1
    summary = sorted(
        (
            EffortRow(team, category, month, *values)
            for (team, category, month), values in groups.items()
        ),
        key=lambda r: (r.month, r.team_id or 0, r.category_id or 0),
    )
    rates = sorted(
        (
            KeptPromiseRow(policy, names[policy], team, month, k, n)
            for (policy, team, month), (k, n) in kept.items()
        ),
        key=lambda r: (r.month, r.policy_id, r.team_id or 0),
    )
    return efforts, summary, rates


def work_the_desk(desk: Desk, seed: int, count: int = 40) -> list[int]:
    """``count`` tickets over March and April 2026 (across the month's end in Berlin and the
    daylight-saving change), each worked by a random run of legal and refused actions."""
    rng = random.Random(seed)
    m = desk.manager
    categories = [None, desk.delivery_category, desk.billing_category, desk.refund_category]
    ids: list[int] = []
    start = b(3, 20, 8)
    for n in range(count):
        created = start + timedelta(hours=rng.randrange(0, 24 * 21), minutes=rng.randrange(60))
        if n % 10 == 0:  # the last microsecond of March in Berlin, and the first of April
            created = b(4, 1) - timedelta(microseconds=1 if n % 20 == 0 else 0)
        customer = desk.customer if rng.random() < 0.7 else desk.other_customer
        ids.append(
            desk.new_ticket(
                created,
                category_id=rng.choice(categories),
                assignee_id=rng.choice([None, None, 10, 20]),
                customer_id=customer,
            )
        )
        now = created
        for _ in range(rng.randrange(0, 9)):
            now += timedelta(minutes=rng.randrange(1, 600))
            action = rng.choice(
                [
                    "assign",
                    "unassign",
                    "transfer",
                    "reply",
                    "wait",
                    "customer",
                    "resolve",
                    "reopen",
                    "close",
                    "note",
                    "merge",
                    "urgent",
                ]
            )
            seconds = rng.choice([0, 0, 60, 333])
            t = ids[-1]
            try:
                with desk.database.session() as session:
                    if action == "assign":
                        ticket_commands.assign(
                            session, m, t, rng.choice([10, 20, 21]), now=now, settings=desk.settings
                        )
                    elif action == "unassign":
                        ticket_commands.assign(session, m, t, None, now=now, settings=desk.settings)
                    elif action == "transfer":
                        team = rng.choice([desk.front, desk.billing])
                        assignee = rng.choice([None, 10, 21])
                        ticket_commands.transfer(
                            session,
                            m,
                            t,
                            team,
                            assignee_id=assignee,
                            now=now,
                            settings=desk.settings,
                        )
                    elif action in ("reply", "wait"):
                        ticket_messages.reply(
                            session,
                            m,
                            t,
                            "About your parcel",
                            wait_for_customer=action == "wait",
                            handling_seconds=seconds,
                            now=now,
                            settings=desk.settings,
                        )
                    elif action == "customer":
                        ticket_messages.add_customer_reply(
                            session, SYSTEM, t, "Any news?", now=now, settings=desk.settings
                        )
                    elif action == "resolve":
                        ticket_commands.resolve(
                            session, m, t, handling_seconds=seconds, now=now, settings=desk.settings
                        )
                    elif action == "reopen":
                        ticket_commands.reopen(session, m, t, now=now, settings=desk.settings)
                    elif action == "close":
                        ticket_commands.close(session, m, t, now=now, settings=desk.settings)
                    elif action == "note":
                        ticket_messages.add_note(
                            session,
                            m,
                            t,
                            "called",
                            handling_seconds=seconds,
                            now=now,
                            settings=desk.settings,
                        )
                    elif action == "merge" and len(ids) > 1:
                        ticket_merge.merge_tickets(
                            session, m, t, rng.choice(ids[:-1]), now=now, settings=desk.settings
                        )
                    elif action == "urgent":
                        ticket_commands.change_priority(
                            session, m, t, "urgent", now=now, settings=desk.settings
                        )
            except (ConflictError, InputError):
                continue  # an action the ticket's state refuses: nothing was recorded
        if rng.random() < 0.6:  # most tickets end resolved, so one-stop resolution varies
            with contextlib.suppress(ConflictError), desk.database.session() as session:
                ticket_commands.resolve(
                    session, m, ids[-1], now=now + timedelta(minutes=5), settings=desk.settings
                )
    return ids


def one_stop_boundaries(desk: Desk) -> None:
    """Resolved tickets just inside and just outside one-stop resolution, one condition each."""
    m, day = desk.manager, b(3, 24, 9)
    cases: list[list[str]] = [
        [],
        ["reply"],
        ["reply", "reply"],
        ["customer"],
        ["transfer"],
        ["reopen"],
        ["merged"],
    ]
    target = desk.new_ticket(day)
    for steps in cases:
        t = desk.new_ticket(day)
        with desk.database.session() as session:
            for i, step in enumerate(steps):
                now = day + timedelta(minutes=10 * (i + 1))
                if step == "reply":
                    ticket_messages.reply(session, m, t, "Sorted.", now=now, settings=desk.settings)
                elif step == "customer":
                    ticket_messages.add_customer_reply(
                        session, SYSTEM, t, "Thanks", now=now, settings=desk.settings
                    )
                elif step == "transfer":
                    ticket_commands.transfer(
                        session, m, t, desk.billing, now=now, settings=desk.settings
                    )
                elif step == "reopen":
                    ticket_commands.resolve(session, m, t, now=now, settings=desk.settings)
                    ticket_commands.reopen(
                        session, m, t, now=now + timedelta(minutes=1), settings=desk.settings
                    )
                elif step == "merged":
                    ticket_commands.resolve(session, m, t, now=now, settings=desk.settings)
                    ticket_commands.reopen(session, m, t, now=now, settings=desk.settings)
                    ticket_merge.merge_tickets(
                        session,
                        m,
                        t,
                        target,
                        now=now + timedelta(minutes=1),
                        settings=desk.settings,
                    )
            if "merged" not in steps:
                ticket_commands.resolve(
                    session, m, t, now=day + timedelta(hours=2), settings=desk.settings
                )


def test_the_store_aggregates_what_a_replay_of_the_events_counts(desk: Desk) -> None:
    one_stop_boundaries(desk)
    ids = work_the_desk(desk, seed=7)
    timezone = desk.settings.reporting_timezone
    for principal in (desk.manager, desk.front_agent):
        with desk.database.session() as session:
            efforts, summary, rates = replayed_summary(session, principal, timezone)
            assert effort_summary(session, principal, settings=desk.settings) == summary
            assert kept_promise_rates(session, principal, settings=desk.settings) == rates
            visible = {t.id for t in ticket_queries.list_tickets(session, principal, limit=10_000)}
            assert {t: ticket_effort(session, principal, t) for t in visible} == {
                t: efforts[t] for t in visible
            }
    # the run exercised what the figures count (else the comparison proves little)
    assert {"transfers", "handoffs", "reopenings", "repeats"} <= {
        name
        for row in summary
        for name in ("transfers", "handoffs", "reopenings", "repeats")
        if getattr(row, name)
    }
    assert any(r.first_contact_resolutions for r in summary)
    assert {r.month for r in summary} == {"2026-03", "2026-04"}
    assert len(ids) == 40 and len({r.policy_name for r in rates}) == 2
    one_stop = [e.first_contact_resolution for e in efforts.values()]
    assert one_stop.count(True) >= 3 and one_stop.count(False) >= 5


def test_a_period_and_the_reporting_time_zone_are_applied_in_the_store(
    desk: Desk, tmp_path: Path
) -> None:
    last_of_march = desk.new_ticket(b(4, 1) - timedelta(microseconds=1))
    first_of_april = desk.new_ticket(b(4, 1))
    with desk.database.session() as session:
        ticket_commands.resolve(
            session, desk.manager, last_of_march, now=b(4, 1, 10), settings=desk.settings
        )
        ticket_commands.resolve(
            session, desk.manager, first_of_april, now=b(4, 1, 10), settings=desk.settings
        )
        berlin = effort_summary(session, desk.manager, settings=desk.settings)
        april_only = effort_summary(
            session, desk.manager, since=b(4, 1), until=b(5, 1), settings=desk.settings
        )
        shanghai = effort_summary(
            session,
            desk.manager,
            settings=make_settings(tmp_path, reporting_timezone="Asia/Shanghai"),
        )
        nothing = effort_summary(session, desk.manager, since=b(5, 1), settings=desk.settings)
        no_promises = kept_promise_rates(
            session, desk.manager, since=b(5, 1), settings=desk.settings
        )
    assert [(r.month, r.tickets) for r in berlin] == [("2026-03", 1), ("2026-04", 1)]
    assert [(r.month, r.tickets) for r in april_only] == [("2026-04", 1)]
    # 7 hours ahead of Berlin (summer time): both were created on 1 April there
    assert [(r.month, r.tickets) for r in shanghai] == [("2026-04", 2)]
    assert nothing == [] and no_promises == []


def test_month_starts_are_the_first_instants_of_each_local_month() -> None:
    """Every zone, 2000-2035: a month's first instant is in it and the microsecond before is
    in the month before (midnights lost to daylight saving included)."""
    tick = timedelta(microseconds=1)
    for zone in sorted(available_timezones()):
        if zone in ("Factory", "localtime"):
            continue
        first = datetime(2000, 1, 15, tzinfo=UTC)
        starts = _month_starts(first, datetime(2035, 12, 15, tzinfo=UTC), zone)
        assert len(starts) == 36 * 12, zone
        for label, start in starts[1:]:
            assert reporting_month(start, zone) == label, (zone, label)
            assert reporting_month(start - tick, zone) < label, (zone, label)


def test_a_policy_is_named_as_its_version_on_the_latest_ticket_counted(desk: Desk) -> None:
    """Versions copy the policy's name; should two differ (an edit in the store), the rates
    name the policy as the version of the highest ticket id counted does, as before."""
    m = desk.manager
    first = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        sla_store.revise_policy(session, m, desk.standard, first_response=2 * H)
    second = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        session.execute(
            update(SlaPolicyVersion)
            .where(SlaPolicyVersion.policy_id == desk.standard, SlaPolicyVersion.version == 2)
            .values(name="standard, revised")
        )
        for t in (second, first):
            ticket_commands.resolve(session, m, t, now=b(3, 23, 10), settings=desk.settings)
    with desk.database.session() as session:
        _, _, replayed = replayed_summary(session, m, desk.settings.reporting_timezone)
        rates = kept_promise_rates(session, m, settings=desk.settings)
    assert rates == replayed
    assert [(r.policy_name, r.kept, r.total) for r in rates] == [("standard, revised", 2, 2)]
