"""Every list, search, "similar tickets", timeline and export goes through the one permission
layer: an agent of team A (Front) never sees team B's (Billing) tickets anywhere, and a record
outside the caller's scope is a 404 with the same message as an unknown id. Roles and token
scopes limit writes."""

from __future__ import annotations

import csv
import io

import pytest
from office import Office


@pytest.fixture
def two_teams(office: Office) -> dict[str, dict]:
    """The same customer with one ticket for each team, on related matters."""
    return {
        "a": office.ticket(subject="Parcel broken (Front)", category_id=office.delivery),
        "b": office.ticket(subject="Parcel refund (Billing)", category_id=office.refund),
        "b2": office.ticket(subject="Parcel invoice (Billing)", category_id=office.billing),
    }


def _ids(page: dict) -> set[int]:
    return {t["id"] for t in page["items"]}


def test_queue_list_and_search_exclude_other_teams(
    office: Office, two_teams: dict[str, dict]
) -> None:
    a, b = two_teams["a"]["id"], two_teams["b"]["id"]
    agent, manager = office.client("agent_a"), office.client("manager")
    assert _ids(agent.get("/api/tickets/queue").json()) == {a}
    assert _ids(agent.get("/api/tickets").json()) == {a}
    assert _ids(agent.get("/api/tickets", params={"q": "parcel"}).json()) == {a}
    assert _ids(agent.get("/api/tickets", params={"q": "refund"}).json()) == set()
    # Filtering on the other team does not open it up.
    assert _ids(agent.get("/api/tickets", params={"team": office.team_b}).json()) == set()
    assert agent.get("/api/tickets", params={"customer": office.customer}).json()["total"] == 1
    # The manager sees both teams; agent B sees only B's.
    assert {a, b} <= _ids(manager.get("/api/tickets/queue").json())
    b_sees = _ids(office.client("agent_b").get("/api/tickets").json())
    assert a not in b_sees and b in b_sees


def test_out_of_scope_ids_are_404_like_unknown_ids(
    office: Office, two_teams: dict[str, dict]
) -> None:
    b = two_teams["b"]["id"]
    agent = office.client("agent_a")
    unknown = agent.get("/api/tickets/99999")
    hidden = agent.get(f"/api/tickets/{b}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"]["message"] == f"no ticket with id {b}"
    assert unknown.json()["error"]["message"] == "no ticket with id 99999"
    assert hidden.json()["error"].keys() == unknown.json()["error"].keys()
    for path in ("events", "messages", "attachments", "similar", "effort"):
        response = agent.get(f"/api/tickets/{b}/{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["message"] == f"no ticket with id {b}"
    for path, body in (
        ("reply", {"body": "hi"}),
        ("notes", {"body": "hi"}),
        ("assign", {"assignee_id": office.users["agent_a"].id}),
        ("resolve", {}),
        ("customer-reply", {"body": "hi"}),
    ):
        response = agent.post(f"/api/tickets/{b}/{path}", json=body)
        assert response.status_code == 404, path
    # An attachment of team B's ticket is "not found" for agent A too.
    upload = office.client("manager").post(
        f"/api/tickets/{b}/attachments", files={"file": ("a.txt", b"hello", "text/plain")}
    )
    attachment = upload.json()["id"]
    hidden_file = agent.get(f"/api/attachments/{attachment}")
    assert hidden_file.status_code == 404
    assert hidden_file.json()["error"]["message"] == f"no attachment with id {attachment}"
    assert office.client("agent_b").get(f"/api/attachments/{attachment}").status_code == 200


def test_similar_tickets_exclude_other_teams(office: Office, two_teams: dict[str, dict]) -> None:
    a, b, b2 = (two_teams[k]["id"] for k in ("a", "b", "b2"))
    manager_sees = {
        s["ticket"]["id"] for s in office.client("manager").get(f"/api/tickets/{a}/similar").json()
    }
    assert {b, b2} <= manager_sees  # same customer
    agent_sees = office.client("agent_a").get(f"/api/tickets/{a}/similar").json()
    assert agent_sees == []
    b_sees = {
        s["ticket"]["id"] for s in office.client("agent_b").get(f"/api/tickets/{b}/similar").json()
    }
    assert b_sees == {b2}


def test_timeline_shows_only_the_callers_tickets(
    office: Office, two_teams: dict[str, dict]
) -> None:
    def ticket_ids(who: str) -> set[int]:
        response = office.client(who).get(f"/api/customers/{office.customer}/timeline")
        assert response.status_code == 200, response.text
        return {
            e["detail"]["ticket_id"] for e in response.json()["entries"] if e["source"] == "tickets"
        }

    a, b, b2 = (two_teams[k]["id"] for k in ("a", "b", "b2"))
    assert ticket_ids("manager") == {a, b, b2}
    assert ticket_ids("agent_a") == {a}
    assert ticket_ids("agent_b") == {b, b2}
    # Customer entries are there for everyone who may read customers.
    entries = office.client("agent_a").get(f"/api/customers/{office.customer}/timeline").json()
    assert any(e["source"] == "customer_events" for e in entries["entries"])


def test_exports_exclude_other_teams(office: Office, two_teams: dict[str, dict]) -> None:
    def rows(who: str, path: str) -> list[dict[str, str]]:
        response = office.client(who).get(path)
        assert response.status_code == 200, response.text
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    a = two_teams["a"]["id"]
    assert {int(r["id"]) for r in rows("agent_a", "/api/tickets/export.csv")} == {a}
    assert len(rows("manager", "/api/tickets/export.csv")) == 3
    counts = {
        r["external_id"]: r["open_tickets"] for r in rows("agent_a", "/api/customers/export.csv")
    }
    assert counts == {"C-1": "1", "C-2": "0"}
    counts = {
        r["external_id"]: r["open_tickets"] for r in rows("manager", "/api/customers/export.csv")
    }
    assert counts == {"C-1": "3", "C-2": "0"}


def test_figures_count_only_the_callers_tickets(office: Office, two_teams: dict[str, dict]) -> None:
    agent_rows = office.client("agent_a").get("/api/service/effort").json()
    assert {r["team_id"] for r in agent_rows} == {office.team_a}
    assert sum(r["tickets"] for r in agent_rows) == 1
    manager_rows = office.client("manager").get("/api/service/effort").json()
    assert sum(r["tickets"] for r in manager_rows) == 3


def test_read_only_users_cannot_write(office: Office, two_teams: dict[str, dict]) -> None:
    reader = office.client("reader")
    a = two_teams["a"]["id"]
    assert reader.get(f"/api/tickets/{a}").status_code == 200  # reads their team's tickets
    assert reader.get(f"/api/customers/{office.customer}").status_code == 200
    writes = [
        reader.post(f"/api/tickets/{a}/reply", json={"body": "hello"}),
        reader.post(f"/api/tickets/{a}/notes", json={"body": "hello"}),
        reader.post(f"/api/tickets/{a}/resolve", json={}),
        reader.post(
            "/api/tickets",
            json={
                "customer_id": office.customer,
                "kind": "inquiry",
                "channel": "phone",
                "subject": "x",
            },
        ),
        reader.post("/api/customers", json={"name": "New person"}),
        reader.post(f"/api/customers/{office.customer}/tags", json={"tag": "vip"}),
        reader.post(
            f"/api/tickets/{a}/attachments", files={"file": ("a.txt", b"hi", "text/plain")}
        ),
        reader.post("/api/teams", json={"name": "Mine"}),
    ]
    for response in writes:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["type"] == "PermissionDeniedError"


def test_agents_cannot_change_desk_settings_or_merge_customers(office: Office) -> None:
    agent = office.client("agent_a")
    assert agent.post("/api/teams", json={"name": "Mine"}).status_code == 403
    assert agent.get("/api/teams").status_code == 200
    merge = agent.post(
        f"/api/customers/{office.customer}/merge", json={"merged_id": office.other_customer}
    )
    assert merge.status_code == 403


def test_a_token_with_only_tickets_read_cannot_reply(
    office: Office, two_teams: dict[str, dict]
) -> None:
    a = two_teams["a"]["id"]
    token = office.token_client("agent_a", ["tickets:read"])
    assert token.get(f"/api/tickets/{a}").status_code == 200
    assert _ids(token.get("/api/tickets").json()) == {a}  # still the agent's teams only
    replied = token.post(f"/api/tickets/{a}/reply", json={"body": "hello"})
    assert replied.status_code == 403
    assert "tickets:write" in replied.json()["error"]["message"]
    # Without customers:read, customers (and their export) are closed to it.
    assert token.get("/api/customers").status_code == 403
    assert token.get("/api/customers/export.csv").status_code == 403
