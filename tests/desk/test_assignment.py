"""Assignment use cases: claim, assigning within the team, automatic assignment per team
(round robin, fewest open tickets) passing over away, deactivated and read-only members, and
round robin under concurrency (two sessions on PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from desk import Desk, b, make_settings
from kehu.core.auth import SYSTEM, Principal
from kehu.core.users import service as users
from kehu.core.users.tables import User
from kehu.desk import assignment, public, routing, ticket_commands
from kehu.desk.public import ComplaintForm
from kehu.desk.tables import TicketEvent
from kehu.errors import ConflictError, InputError, PermissionDeniedError

NOW = b(3, 23, 9)


def _front_round_robin(desk: Desk, *members: int, mode: str = "round_robin") -> None:
    with desk.database.session() as session:
        for user_id in members:
            routing.add_team_member(session, SYSTEM, desk.front, user_id)
        assignment.set_assignment_mode(session, desk.manager, desk.front, mode)


def _assignees(desk: Desk, count: int) -> list[int | None]:
    return [desk.ticket(desk.new_ticket(NOW)).assignee_id for _ in range(count)]


def test_claim_assigns_the_caller_and_says_so(desk: Desk) -> None:
    t = desk.new_ticket(NOW)
    with desk.database.session() as session:
        ticket = ticket_commands.claim(
            session, desk.front_agent, t, expected_version=1, settings=desk.settings
        )
        assert ticket.assignee_id == 10
        event = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == t).order_by(TicketEvent.id.desc())
        ).first()
        assert event is not None
        assert (event.kind, event.after) == ("assigned", {"assignee_id": 10, "claimed": True})


def test_a_stale_claim_is_refused(desk: Desk) -> None:
    t = desk.new_ticket(NOW)
    with desk.database.session() as session:
        ticket_commands.assign(session, desk.manager, t, 21, settings=desk.settings)
    with desk.database.session() as session, pytest.raises(ConflictError, match="version"):
        ticket_commands.claim(
            session, desk.front_agent, t, expected_version=1, settings=desk.settings
        )


def test_assigning_within_the_team_refuses_an_outsider(desk: Desk) -> None:
    t = desk.new_ticket(NOW)  # Front: only user 10 is a member
    with desk.database.session() as session, pytest.raises(InputError) as refused:
        ticket_commands.assign(
            session, desk.front_agent, t, 20, within_team=True, settings=desk.settings
        )
    assert refused.value.column == "assignee_id"
    with desk.database.session() as session:
        offered = assignment.assignable_staff(session, desk.front, NOW)
        assert [member.user_id for member in offered] == [10]


def test_round_robin_takes_the_members_in_turn_passing_over_who_cannot_work(desk: Desk) -> None:
    _front_round_robin(desk, 21, 30)
    with desk.database.session() as session:
        session.execute(update(User).where(User.id == 30).values(role="read_only"))
    assert _assignees(desk, 4) == [10, 21, 10, 21]
    with desk.database.session() as session:
        users.deactivate_user(session, SYSTEM, 21)
    assert _assignees(desk, 2) == [10, 10]
    with desk.database.session() as session:
        event = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.kind == "assigned")
            .order_by(TicketEvent.id.desc())
        ).first()
        assert event is not None
        assert (event.actor_kind, event.after["rule"]) == ("system", "round_robin")


def test_an_absence_ends_on_its_until_date(desk: Desk) -> None:
    _front_round_robin(desk, 21)
    with desk.database.session() as session:
        users.set_absence(
            session, desk.manager, 21, absent=True, until=NOW + timedelta(hours=1), now=NOW
        )
    assert _assignees(desk, 2) == [10, 10]
    later = NOW + timedelta(hours=2)
    assignees = [desk.ticket(desk.new_ticket(later)).assignee_id for _ in range(2)]
    assert 21 in assignees


def test_nobody_to_give_it_to_leaves_the_ticket_in_the_queue(desk: Desk) -> None:
    _front_round_robin(desk)
    with desk.database.session() as session:
        users.set_absence(session, desk.front_agent, 10, absent=True)
    assert _assignees(desk, 1) == [None]


def test_absence_permissions(desk: Desk) -> None:
    with desk.database.session() as session, pytest.raises(PermissionDeniedError):
        users.set_absence(session, desk.front_agent, 21, absent=True)
    with desk.database.session() as session:
        assert users.set_absence(session, desk.manager, 21, absent=True).absent


def test_least_open_counts_open_tickets(desk: Desk) -> None:
    _front_round_robin(desk, 21, mode="least_open")
    first, second = desk.new_ticket(NOW), desk.new_ticket(NOW)
    assert [desk.ticket(first).assignee_id, desk.ticket(second).assignee_id] == [10, 21]
    with desk.database.session() as session:
        ticket_commands.resolve(session, desk.manager, second, settings=desk.settings)
    assert _assignees(desk, 1) == [21]


@pytest.mark.postgres
def test_round_robin_under_concurrency_gives_two_tickets_to_two_members(desk: Desk) -> None:
    if desk.database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the row lock is PostgreSQL's")
    _front_round_robin(desk, 21)
    picked: dict[str, int | None] = {}

    def second_pick() -> None:
        with desk.database.session() as session:
            chosen = assignment.pick_assignee(session, desk.front, NOW)
            picked["second"] = chosen[0] if chosen else None

    with desk.database.session() as session:
        chosen = assignment.pick_assignee(session, desk.front, NOW)
        picked["first"] = chosen[0] if chosen else None
        other = threading.Thread(target=second_pick)
        other.start()
        time.sleep(0.5)
        # the second session waits on the team's row until the first commits
        assert other.is_alive()
    other.join(timeout=10)
    assert not other.is_alive()
    assert sorted([picked["first"], picked["second"]]) == [10, 21]  # type: ignore[type-var]


def test_only_settings_writers_set_the_mode(desk: Desk) -> None:
    agent = Principal.for_user(10, ["agent"], [desk.front])
    with desk.database.session() as session, pytest.raises(PermissionDeniedError):
        assignment.set_assignment_mode(session, agent, desk.front, "round_robin")
    with desk.database.session() as session, pytest.raises(InputError):
        assignment.set_assignment_mode(session, desk.manager, desk.front, "lottery")


def test_a_public_complaint_is_assigned_by_the_team_it_is_routed_to(
    desk: Desk, tmp_path: Path
) -> None:
    _front_round_robin(desk, 21)
    settings = make_settings(
        tmp_path,
        secret_key="a-test-secret-that-is-long-enough",
        data_dir=tmp_path / "data",
        public_base_url="https://service.example.com/",
    )
    complaint = ComplaintForm(
        name="Erika Mustermann",
        email="erika@example.com",
        subject="The parcel arrived broken",
        description="The vase inside is in pieces.",
        contact_by_email=True,
    )
    with desk.database.session() as session:
        told = public.file_complaint(
            session, complaint, now=NOW, client_address="203.0.113.7", settings=settings
        )
    ticket = desk.ticket(told.ticket_id)
    assert (ticket.team_id, ticket.assignee_id) == (desk.front, 10)
