"""Every user id taken from input names a real, active user (``kehu.core.users.assignees``).

The defect this pins (issue 6, defect 7): assignments and owners accepted user ids that do not
exist (``assignee_id`` 999999 -> 200); no column of these has a foreign key to ``users``. Now an
unknown or deactivated user is a 422 naming the field, and nothing is written. The same holds for
a service promise's calendar (was 404, as if the policy's page were missing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from office import Office
from sqlalchemy import func, select

from kehu.customers.tables import Customer, CustomerEvent
from kehu.desk.tables import EscalationRule, SlaPolicyVersion, TeamMember, Ticket, TicketEvent

UNKNOWN = 999_999

#: (office, a ticket of team A, the user id) -> the response
Call = Callable[[Office, dict[str, Any], int], httpx.Response]


def _file_ticket(office: Office, _ticket: dict[str, Any], user_id: int) -> httpx.Response:
    body = {
        "customer_id": office.customer,
        "kind": "inquiry",
        "channel": "phone",
        "subject": "Where is my parcel?",
        "assignee_id": user_id,
    }
    return office.client("manager").post("/api/tickets", json=body)


def _assign(office: Office, ticket: dict[str, Any], user_id: int) -> httpx.Response:
    return office.client("manager").post(
        f"/api/tickets/{ticket['id']}/assign", json={"assignee_id": user_id}
    )


def _transfer(office: Office, ticket: dict[str, Any], user_id: int) -> httpx.Response:
    return office.client("manager").post(
        f"/api/tickets/{ticket['id']}/transfer",
        json={"team_id": office.team_b, "assignee_id": user_id, "reason": "billing question"},
    )


def _add_customer(office: Office, _ticket: dict[str, Any], user_id: int) -> httpx.Response:
    return office.client("manager").post(
        "/api/customers", json={"name": "李雷", "owner_user_id": user_id}
    )


def _assign_owner(office: Office, _ticket: dict[str, Any], user_id: int) -> httpx.Response:
    return office.client("manager").put(
        f"/api/customers/{office.customer}/owner", json={"owner_user_id": user_id}
    )


def _import_customers(office: Office, _ticket: dict[str, Any], user_id: int) -> httpx.Response:
    csv = f"external_id,name,owner_user_id\r\nP-1,韩梅梅,{user_id}\r\n".encode()
    return office.client("manager").post(
        "/api/customers/import", files={"file": ("owners.csv", csv, "text/csv")}
    )


def _add_team_member(office: Office, _ticket: dict[str, Any], user_id: int) -> httpx.Response:
    return office.client("manager").post(
        f"/api/teams/{office.team_a}/members", json={"user_id": user_id}
    )


def _add_escalation_rule(office: Office, _ticket: dict[str, Any], user_id: int) -> httpx.Response:
    body = {"name": "late: to the supervisor", "action": "reassign", "assignee_id": user_id}
    return office.client("manager").post("/api/escalation-rules", json=body)


#: name -> (call, the field the error names, the status when the user is active)
CASES: dict[str, tuple[Call, str, int]] = {
    "ticket assignee on filing": (_file_ticket, "assignee_id", 201),
    "ticket assignee": (_assign, "assignee_id", 200),
    "ticket assignee on transfer": (_transfer, "assignee_id", 200),
    "customer owner on adding": (_add_customer, "owner_user_id", 201),
    "customer owner": (_assign_owner, "owner_user_id", 200),
    "customer owner in an import": (_import_customers, "owner_user_id", 200),
    "team member": (_add_team_member, "user_id", 200),
    "escalation rule assignee": (_add_escalation_rule, "assignee_id", 201),
}


def _written(office: Office) -> tuple[int, ...]:
    """What a write to tickets, customers, teams or rules would change."""
    with office.database.session() as session:
        return tuple(
            int(session.scalar(statement) or 0)
            for statement in (
                select(func.count()).select_from(Ticket),
                select(func.sum(Ticket.version)),
                select(func.count()).select_from(TicketEvent),
                select(func.count()).select_from(Customer),
                select(func.sum(Customer.version)),
                select(func.count()).select_from(CustomerEvent),
                select(func.count()).select_from(TeamMember),
                select(func.count()).select_from(EscalationRule),
            )
        )


def _deactivate(office: Office, who: str) -> int:
    user_id = office.users[who].id
    response = office.client("admin").post(f"/api/users/{user_id}/deactivate")
    assert response.status_code == 200, response.text
    return user_id


@pytest.mark.parametrize("case", CASES)
def test_an_unknown_user_is_refused_naming_the_field(office: Office, case: str) -> None:
    call, field, _ = CASES[case]
    ticket = office.ticket("manager")
    before = _written(office)

    response = call(office, ticket, UNKNOWN)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["type"], error["field"]) == ("InputError", field)
    assert "no such user" in error["message"]
    assert _written(office) == before


@pytest.mark.parametrize("case", CASES)
def test_a_deactivated_user_is_refused_with_the_reason(office: Office, case: str) -> None:
    call, field, _ = CASES[case]
    ticket = office.ticket("manager")
    left = _deactivate(office, "agent_b")
    before = _written(office)

    response = call(office, ticket, left)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["type"], error["field"]) == ("InputError", field)
    assert f"user {left} is deactivated" in error["message"]
    assert _written(office) == before


@pytest.mark.parametrize("case", CASES)
def test_an_active_user_is_accepted(office: Office, case: str) -> None:
    call, _, ok = CASES[case]
    ticket = office.ticket("manager")

    response = call(office, ticket, office.users["agent_b"].id)

    assert response.status_code == ok, response.text


def test_clearing_an_assignment_held_by_a_deactivated_user_is_allowed(office: Office) -> None:
    ticket = office.ticket("manager")
    manager = office.client("manager")
    agent_b = office.users["agent_b"].id
    assert _assign(office, ticket, agent_b).status_code == 200
    assert _assign_owner(office, ticket, agent_b).status_code == 200
    _deactivate(office, "agent_b")

    unassigned = manager.post(f"/api/tickets/{ticket['id']}/assign", json={"assignee_id": None})
    assert unassigned.status_code == 200 and unassigned.json()["assignee_id"] is None
    owner = manager.put(f"/api/customers/{office.customer}/owner", json={"owner_user_id": None})
    assert owner.status_code == 200 and owner.json()["owner_user_id"] is None


def test_a_service_promise_needs_a_calendar_that_exists(office: Office) -> None:
    manager = office.client("manager")
    with office.database.session() as session:
        versions = session.scalar(select(func.count()).select_from(SlaPolicyVersion))
    created = manager.post(
        "/api/sla-policies",
        json={
            "name": "vip",
            "first_response": "PT1H",
            "resolution": "PT4H",
            "calendar_id": UNKNOWN,
        },
    )
    revised = manager.patch(f"/api/sla-policies/{office.policy}", json={"calendar_id": UNKNOWN})
    team = manager.post("/api/teams", json={"name": "Night shift", "calendar_id": UNKNOWN})

    for response in (created, revised, team):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == "calendar_id"
        assert "no such calendar" in response.json()["error"]["message"]
    with office.database.session() as session:
        assert session.scalar(select(func.count()).select_from(SlaPolicyVersion)) == versions
