"""Assignment through the API: "take it" (claim), unassign, a team's automatic assignment mode
and users' absence (``kehu.api.routes.assignment``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from office import Office


def _events(office: Office, ticket_id: int) -> list[dict[str, Any]]:
    response = office.client("manager").get(f"/api/tickets/{ticket_id}/events")
    assert response.status_code == 200
    return list(response.json())


def test_an_agent_takes_a_ticket_of_their_team(office: Office) -> None:
    ticket = office.ticket()
    agent = office.users["agent_a"]
    taken = office.client("agent_a").post(
        f"/api/tickets/{ticket['id']}/claim", json={"expected_version": ticket["version"]}
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee_id"] == agent.id
    assigned = [e for e in _events(office, ticket["id"]) if e["kind"] == "assigned"]
    assert assigned[-1]["after"] == {"assignee_id": agent.id, "claimed": True}
    assert assigned[-1]["actor_id"] == agent.id


def test_a_stale_claim_is_a_conflict_with_the_reason(office: Office) -> None:
    ticket = office.ticket()
    office.client("manager").post(
        f"/api/tickets/{ticket['id']}/assign", json={"assignee_id": office.users["agent_a"].id}
    )
    stale = office.client("agent_a").post(
        f"/api/tickets/{ticket['id']}/claim", json={"expected_version": ticket["version"]}
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.text


def test_another_teams_ticket_cannot_be_taken(office: Office) -> None:
    ticket = office.ticket()  # routed to Front (A)
    refused = office.client("agent_b").post(f"/api/tickets/{ticket['id']}/claim", json={})
    assert refused.status_code == 404


def test_the_assign_endpoint_unassigns(office: Office) -> None:
    ticket = office.ticket()
    client = office.client("agent_a")
    client.post(f"/api/tickets/{ticket['id']}/claim", json={})
    freed = client.post(f"/api/tickets/{ticket['id']}/assign", json={"assignee_id": None})
    assert freed.status_code == 200
    assert freed.json()["assignee_id"] is None
    last = _events(office, ticket["id"])[-1]
    assert (last["kind"], last["before"], last["after"]) == (
        "assigned",
        {"assignee_id": office.users["agent_a"].id},
        {"assignee_id": None},
    )


def _round_robin_front(office: Office) -> None:
    manager = office.client("manager")
    for who in ("agent_a", "agent_b"):
        added = manager.post(
            f"/api/teams/{office.team_a}/members", json={"user_id": office.users[who].id}
        )
        assert added.status_code == 200
    mode = manager.put(
        f"/api/teams/{office.team_a}/assignment", json={"assignment_mode": "round_robin"}
    )
    assert mode.status_code == 200, mode.text
    assert mode.json()["assignment_mode"] == "round_robin"


def test_round_robin_gives_arriving_tickets_to_the_members_in_turn(office: Office) -> None:
    _round_robin_front(office)
    a, b = office.users["agent_a"].id, office.users["agent_b"].id
    assignees = [office.ticket()["assignee_id"] for _ in range(4)]
    # the read-only member of Front is never given work
    assert set(assignees) == {a, b}
    assert assignees[0] != assignees[1] and assignees[:2] == assignees[2:]
    ticket_id = office.ticket()["id"]
    auto = [e for e in _events(office, ticket_id) if e["kind"] == "assigned"]
    assert auto[0]["actor_kind"] == "system"
    assert auto[0]["after"]["rule"] == "round_robin"


def test_an_absent_member_is_passed_over_until_they_are_back(office: Office) -> None:
    _round_robin_front(office)
    a, b = office.users["agent_a"].id, office.users["agent_b"].id
    away = office.client("manager").put(f"/api/users/{b}/absence", json={"absent": True})
    assert away.status_code == 200, away.text
    assert away.json()["absent"] is True
    assert {office.ticket()["assignee_id"] for _ in range(3)} == {a}
    back = office.client("agent_b").put(f"/api/users/{b}/absence", json={"absent": False})
    assert back.status_code == 200
    assert b in {office.ticket()["assignee_id"] for _ in range(2)}


def test_an_absence_with_an_until_date(office: Office) -> None:
    b = office.users["agent_b"].id
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    away = office.client("agent_b").put(
        f"/api/users/{b}/absence", json={"absent": True, "absent_until": until.isoformat()}
    )
    assert away.status_code == 200, away.text
    assert datetime.fromisoformat(away.json()["absent_until"]) == until
    past = office.client("agent_b").put(
        f"/api/users/{b}/absence",
        json={"absent": True, "absent_until": "2020-01-01T00:00:00+00:00"},
    )
    assert past.status_code == 422
    assert "absent_until" in past.text


def test_who_may_set_absences_and_modes(office: Office) -> None:
    a = office.users["agent_a"].id
    other = office.client("agent_b").put(f"/api/users/{a}/absence", json={"absent": True})
    assert other.status_code == 403
    mode = office.client("agent_a").put(
        f"/api/teams/{office.team_a}/assignment", json={"assignment_mode": "round_robin"}
    )
    assert mode.status_code == 403
    unknown = office.client("manager").put(
        f"/api/teams/{office.team_a}/assignment", json={"assignment_mode": "lottery"}
    )
    assert unknown.status_code == 422


def test_least_open_gives_the_ticket_to_the_member_with_the_fewest(office: Office) -> None:
    _round_robin_front(office)
    manager = office.client("manager")
    manager.put(f"/api/teams/{office.team_a}/assignment", json={"assignment_mode": "least_open"})
    a, b = office.users["agent_a"].id, office.users["agent_b"].id
    first = office.ticket()
    assert first["assignee_id"] == a  # nobody holds any: the lower id
    assert office.ticket()["assignee_id"] == b
    manager.post(f"/api/tickets/{first['id']}/resolve", json={})
    assert office.ticket()["assignee_id"] == a  # a holds none open now, b one


def test_a_transfer_into_an_auto_assigning_team_is_assigned(office: Office) -> None:
    manager = office.client("manager")
    b = office.users["agent_b"].id
    manager.put(f"/api/teams/{office.team_b}/assignment", json={"assignment_mode": "round_robin"})
    ticket = office.ticket()
    moved = manager.post(
        f"/api/tickets/{ticket['id']}/transfer", json={"team_id": office.team_b, "reason": "money"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee_id"] == b
    kinds = [e["kind"] for e in _events(office, ticket["id"])]
    assert kinds[-2:] == ["transferred", "assigned"]
