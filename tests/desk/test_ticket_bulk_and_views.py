"""Bulk actions on tickets (kehu.desk.ticket_bulk) and saved views of the queue
(kehu.desk.ticket_views), on SQLite and PostgreSQL: the allowed tickets change, the others are
listed with the reason, nothing is half-applied, one event and one audit entry per ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desk import Desk, b
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import Principal
from kehu.desk import ticket_commands
from kehu.desk.tables import TicketEvent
from kehu.desk.ticket_bulk import bulk_change
from kehu.desk.ticket_views import delete_view, list_views, save_view
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError

NOW = b(3, 24, 15)


@pytest.fixture
def three(desk: Desk) -> list[int]:
    """Two open front tickets and a closed one."""
    ids = [desk.new_ticket(b(3, 24, 9 + i), subject=f"Ticket {i}") for i in range(3)]
    with desk.database.session() as session:
        ticket_commands.close(
            session, desk.manager, ids[2], now=b(3, 24, 13), settings=desk.settings
        )
    return ids


def _counts(desk: Desk, ticket_ids: list[int], kind: str) -> dict[int, int]:
    with desk.database.session() as session:
        events = dict(
            session.execute(
                select(TicketEvent.ticket_id, func.count())
                .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.kind == kind)
                .group_by(TicketEvent.ticket_id)
            ).all()
        )
        audits = dict(
            session.execute(
                select(AuditEvent.entity_id, func.count())
                .where(AuditEvent.action == f"ticket.{kind}", AuditEvent.entity == "ticket")
                .group_by(AuditEvent.entity_id)
            ).all()
        )
    assert {int(k): v for k, v in audits.items()} == events
    return events


def test_a_bulk_assign_changes_the_allowed_and_lists_the_rest(desk: Desk, three: list[int]) -> None:
    other_team = desk.new_ticket(b(3, 24, 12), category_id=desk.refund_category)
    with desk.database.session() as session:
        outcomes = bulk_change(
            session,
            desk.front_agent,
            "assign",
            [*three, other_team, 999_999],
            assignee_id=21,
            now=NOW,
            settings=desk.settings,
        )
    assert [(o.ticket_id, o.outcome) for o in outcomes] == [
        (three[0], "changed"),
        (three[1], "changed"),
        (three[2], "closed"),
        (other_team, "not_found"),  # another team's ticket, like an unknown one
        (999_999, "not_found"),
    ]
    assert "closed" in (outcomes[2].detail or "")
    assert [desk.ticket(i).assignee_id for i in (*three, other_team)] == [21, 21, None, None]
    assert _counts(desk, [*three, other_team], "assigned") == {three[0]: 1, three[1]: 1}


def test_a_stale_ticket_is_left_whole(desk: Desk, three: list[int]) -> None:
    seen = {i: desk.ticket(i).version for i in three[:2]}
    with desk.database.session() as session:
        ticket_commands.change_priority(
            session, desk.manager, three[1], "low", now=b(3, 24, 14), settings=desk.settings
        )
    with desk.database.session() as session:
        outcomes = bulk_change(
            session,
            desk.manager,
            "priority",
            three[:2],
            priority="urgent",
            expected_versions=seen,
            now=NOW,
            settings=desk.settings,
        )
    assert [o.outcome for o in outcomes] == ["changed", "stale"]
    assert outcomes[0].version == desk.ticket(three[0]).version
    assert desk.ticket(three[0]).priority == "urgent"
    stale = desk.ticket(three[1])
    assert (stale.priority, stale.version) == ("low", seen[three[1]] + 1)


def test_bulk_transfer_and_close(desk: Desk, three: list[int]) -> None:
    with desk.database.session() as session:
        moved = bulk_change(
            session,
            desk.manager,
            "transfer",
            three,
            team_id=desk.billing,
            now=NOW,
            settings=desk.settings,
        )
        assert [o.outcome for o in moved] == ["changed", "changed", "closed"]
        again = bulk_change(
            session,
            desk.manager,
            "transfer",
            three[:1],
            team_id=desk.billing,
            settings=desk.settings,
        )
        assert again[0].outcome == "same_team"
        closed = bulk_change(session, desk.manager, "close", three[:2], settings=desk.settings)
        assert [o.outcome for o in closed] == ["changed", "changed"]
    assert {desk.ticket(i).status for i in three} == {"closed"}
    assert _counts(desk, three, "transferred") == {three[0]: 1, three[1]: 1}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "delete"}, "action"),
        ({"action": "assign", "assignee_id": 4242}, "assignee_id"),
        ({"action": "transfer", "team_id": 4242}, "team_id"),
        ({"action": "priority", "priority": "huge"}, "priority"),
        ({"action": "close", "ticket_ids": []}, "ticket_ids"),
    ],
)
def test_a_wrong_request_is_refused_whole(
    desk: Desk, three: list[int], kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"ticket_ids": three, **kwargs}
    before = desk.ticket(three[0]).version
    with desk.database.session() as session, pytest.raises(InputError) as raised:
        bulk_change(session, desk.manager, settings=desk.settings, **arguments)  # type: ignore[arg-type]
    assert raised.value.column == field
    assert desk.ticket(three[0]).version == before  # no ticket touched


def test_a_reader_may_not_bulk_change(desk: Desk, three: list[int]) -> None:
    with desk.database.session() as session, pytest.raises(PermissionDeniedError):
        bulk_change(session, desk.reader, "close", three, settings=desk.settings)


# -- saved views -------------------------------------------------------------------------------


def test_saved_views_own_and_shared(desk: Desk) -> None:
    agent, other = desk.front_agent, Principal.for_user(21, ["agent"], [desk.front])
    with desk.database.session() as session:
        mine = save_view(session, agent, " My  breached ", {"promise": "breached", "sort": "-due"})
        assert (mine.name, mine.params) == ("My breached", {"promise": "breached", "sort": "-due"})
        assert mine.query == "promise=breached&sort=-due"
        shared = save_view(
            session, desk.manager, "Billing backlog", {"team": str(desk.billing)}, shared=True
        )
        with pytest.raises(PermissionDeniedError):
            save_view(session, agent, "Everyone", {}, shared=True)
        with pytest.raises(ConflictError):
            save_view(session, agent, "My breached", {})
        with pytest.raises(InputError) as raised:
            save_view(session, agent, "Bad", {"promise": "maybe"})
        assert raised.value.column == "promise"
        with pytest.raises(InputError) as raised:
            save_view(session, agent, "", {})
        assert raised.value.column == "name"
        with pytest.raises(InputError) as raised:
            save_view(session, agent, "Odd", {"colour": "red"})
        assert raised.value.column == "colour"
    with desk.database.session() as session:
        assert [v.name for v in list_views(session, agent)] == ["Billing backlog", "My breached"]
        assert [v.name for v in list_views(session, other)] == ["Billing backlog"]
        with pytest.raises(NotFoundError):
            delete_view(session, other, mine.id)  # someone else's own view
        with pytest.raises(PermissionDeniedError):
            delete_view(session, agent, shared.id)  # a shared view is the lead's to delete
        delete_view(session, agent, mine.id)
        delete_view(session, desk.manager, shared.id)
    with desk.database.session() as session:
        assert list_views(session, agent) == []
