"""Integers past what the store's columns hold, and times UTC cannot hold, are a 422 naming the
field, in a path, a query, a header or a body (they were a 500: OverflowError on SQLite,
NumericValueOutOfRange on PostgreSQL); the largest values the bounds admit reach the store and
are answered as usual."""

from __future__ import annotations

from typing import Any

import pytest
from office import Office

from kehu.store.bounds import INT32_MAX, MAX_ID

BIG = 2**63  # one past bigint and SQLite's INTEGER
WIDE = 2**31  # one past PostgreSQL's integer (versions, positions, orders)
BEFORE_YEAR_1 = "0001-01-01T00:00:00+00:01"  # in UTC: 31 December of year 0
AFTER_9999 = "9999-12-31T23:59:59-00:01"  # in UTC: year 10000

TICKET = {"kind": "complaint", "channel": "email", "subject": "Parcel arrived broken"}

#: (method, path, query, body, headers, the field the 422 names); ``{customer}``, ``{ticket}``
#: and ``{team}`` are the office's rows.
OUT_OF_RANGE: list[tuple[str, str, dict[str, Any], Any, dict[str, str], str]] = [
    # path ids
    ("GET", f"/api/customers/{BIG}", {}, None, {}, "customer_id"),
    ("GET", f"/api/tickets/{BIG}/messages", {}, None, {}, "ticket_id"),
    ("DELETE", f"/api/teams/{{team}}/members/{BIG}", {}, None, {}, "user_id"),
    ("POST", f"/api/users/{BIG}/deactivate", {}, None, {}, "user_id"),
    ("DELETE", f"/api/tokens/{BIG}", {}, None, {}, "token_id"),
    # pages: the offset they make must fit the store's integer
    ("GET", "/api/customers", {"page": 2**62}, None, {}, "page"),
    ("GET", "/api/tickets", {"page": 2**62}, None, {}, "page"),
    # query ids
    ("GET", "/api/tickets", {"customer": BIG}, None, {}, "customer"),
    ("GET", "/api/tickets/queue", {"assignee": str(BIG)}, None, {}, "assignee"),
    ("GET", "/api/customers", {"owner": str(BIG)}, None, {}, "owner"),
    ("GET", "/api/customers/duplicates", {"customer_id": BIG}, None, {}, "customer_id"),
    ("GET", "/api/service/kept-promises", {"policy": BIG}, None, {}, "policy"),
    # body ids
    ("POST", "/api/tickets", {}, {**TICKET, "customer_id": BIG}, {}, "customer_id"),
    ("POST", "/api/customers/{customer}/merge", {}, {"merged_id": BIG}, {}, "merged_id"),
    (
        "POST",
        "/api/routing-rules",
        {},
        {"name": "r", "team_id": 1, "category_ids": [BIG]},
        {},
        "category_ids.0",
    ),
    # versions, positions and orders: PostgreSQL integer columns
    ("PATCH", "/api/customers/{customer}", {}, {"version": WIDE}, {}, "version"),
    (
        "POST",
        "/api/tickets/{ticket}/notes",
        {},
        {"body": "x", "expected_version": WIDE},
        {},
        "expected_version",
    ),
    (
        "POST",
        "/api/tickets/{ticket}/notes",
        {},
        {"body": "x"},
        {"If-Match": f'"{WIDE}"'},
        "If-Match",
    ),
    (
        "POST",
        "/api/routing-rules",
        {},
        {"name": "r", "team_id": 1, "position": WIDE},
        {},
        "position",
    ),
    (
        "POST",
        "/api/sla-policies",
        {},
        {"name": "p", "first_response": 60, "resolution": 60, "calendar_id": 1, "order": WIDE},
        {},
        "order",
    ),
    # times that have no UTC time
    ("GET", "/api/service/kept-promises", {"since": BEFORE_YEAR_1}, None, {}, "since"),
    ("GET", "/api/transactions", {"until": AFTER_9999}, None, {}, "until"),
    ("GET", "/api/customers/{customer}/timeline", {"since": BEFORE_YEAR_1}, None, {}, "since"),
    (
        "PUT",
        "/api/customers/{customer}/preferences",
        {},
        {"channel": "email", "consent": "granted", "source": "x", "recorded_at": AFTER_9999},
        {},
        "recorded_at",
    ),
]


def _rows(office: Office) -> dict[str, int]:
    return {"customer": office.customer, "ticket": office.ticket()["id"], "team": office.team_a}


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "headers", "field"),
    OUT_OF_RANGE,
    ids=[f"{case[0]} {case[1]} {case[5]}" for case in OUT_OF_RANGE],
)
def test_out_of_range_values_are_422_naming_the_field(
    office: Office,
    method: str,
    path: str,
    query: dict[str, Any],
    body: Any,
    headers: dict[str, str],
    field: str,
) -> None:
    response = office.client("admin").request(
        method, path.format(**_rows(office)), params=query, json=body, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_the_largest_values_the_bounds_admit_reach_the_store(office: Office) -> None:
    admin = office.client("admin")
    assert admin.get(f"/api/customers/{MAX_ID}").status_code == 404
    assert admin.get("/api/tickets", params={"customer": MAX_ID}).json()["total"] == 0
    rule = admin.post(
        "/api/routing-rules", json={"name": "last", "team_id": office.team_a, "position": INT32_MAX}
    )
    assert rule.status_code == 201, rule.text
    assert rule.json()["position"] == INT32_MAX
    customer = admin.get(f"/api/customers/{office.customer}").json()
    stale = admin.patch(
        f"/api/customers/{office.customer}", json={"version": INT32_MAX, "notes": "x"}
    )
    assert stale.status_code == 409, stale.text
    assert admin.get(f"/api/customers/{office.customer}").json()["version"] == customer["version"]


def test_text_with_the_nul_character_is_422_naming_the_field(office: Office) -> None:
    """PostgreSQL cannot store U+0000 in text (psycopg's DataError was a 500); the store
    refuses it on every dialect before the statement runs, and nothing is written."""
    admin = office.client("admin")
    ticket = office.ticket()
    note = admin.post(f"/api/tickets/{ticket['id']}/notes", json={"body": "a\u0000b"})
    assert note.status_code == 422, note.text
    assert note.json()["error"]["field"] == "body"
    assert "NUL" in note.json()["error"]["message"]
    messages = admin.get(f"/api/tickets/{ticket['id']}/messages").json()
    assert all("\u0000" not in message["body"] for message in messages)
    scores = admin.get("/api/value/scores", params={"segment": "\u0000"})
    assert scores.status_code in (404, 422), scores.text
