"""A small service desk behind the API, with a user of every role and logged-in clients.

Teams "Front" (A) and "Billing" (B); categories "Billing" > "Refund" and "Delivery"; a routing
rule sends Billing (and its sub-categories) to Billing, everything else to Front. One service
promise, "standard": 4 h first response, 16 h resolution on a 24x7 calendar (so due times do not
depend on the day the tests run). Users: admin, manager, agent_a (Front), agent_b (Billing),
reader (read-only, Front).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kehu.core.auth import SYSTEM
from kehu.core.users.tables import User
from kehu.customers.schemas import ContactIn, CustomerCreate
from kehu.customers.service import create_customer
from kehu.desk import routing, sla_store
from kehu.store.db import Database

PASSWORD = "correct horse battery"
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}


@dataclass
class Office:
    database: Database
    app: FastAPI
    users: dict[str, User]
    team_a: int
    team_b: int
    calendar: int
    policy: int
    billing: int
    refund: int
    delivery: int
    customer: int
    other_customer: int
    _client_factory: Callable[[], TestClient]
    _clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, who: str) -> TestClient:
        """A client logged in as ``who`` (session cookie and CSRF header)."""
        if who not in self._clients:
            client = self._client_factory()
            response = client.post(
                "/api/auth/login", json={"email": self.users[who].email, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
            self._clients[who] = client
        return self._clients[who]

    def token_client(self, who: str, scopes: list[str]) -> TestClient:
        """A client that sends only an API token of ``who`` with ``scopes`` (no cookies)."""
        created = self.client(who).post("/api/tokens", json={"name": "t", "scopes": scopes})
        assert created.status_code == 201, created.text
        client = self._client_factory()
        client.headers["Authorization"] = f"Bearer {created.json()['secret']}"
        return client

    def ticket(self, who: str = "manager", **fields: Any) -> dict[str, Any]:
        data = {
            "customer_id": self.customer,
            "kind": "complaint",
            "channel": "email",
            "subject": "Parcel arrived broken",
            **fields,
        }
        response = self.client(who).post("/api/tickets", json=data)
        assert response.status_code == 201, response.text
        return dict(response.json())


def build_office(
    app: FastAPI,
    database: Database,
    make_user: Callable[..., User],
    client_factory: Callable[[], TestClient],
    tmp_path: Path,
) -> Office:
    # the desk reads the app's settings; the office's own limits replace the defaults (the
    # body-limit middleware keeps the app's larger limit, so the desk's own check answers)
    app.state.settings = app.state.settings.model_copy(
        update={
            "outbox_dir": tmp_path / "outbox",
            "attachment_max_bytes": 2_000,
            "repeat_window_days": 7,
        }
    )
    users = {
        "admin": make_user("admin@example.com", "admin"),
        "manager": make_user("manager@example.com", "manager"),
        "agent_a": make_user("agent.a@example.com", "agent"),
        "agent_b": make_user("agent.b@example.com", "agent"),
        "reader": make_user("reader@example.com", "read_only"),
    }
    with database.session() as session:
        calendar = sla_store.create_calendar(
            session,
            SYSTEM,
            sla_store.calendar_from_json(
                {"name": "24x7", "timezone": "UTC", "weekly_hours": ALL_DAY}
            ),
        )
        policy = sla_store.create_policy(
            session,
            SYSTEM,
            name="standard",
            first_response=timedelta(hours=4),
            resolution=timedelta(hours=16),
            calendar_id=calendar.id,
        )
        team_a = routing.create_team(session, SYSTEM, "Front")
        team_b = routing.create_team(session, SYSTEM, "Billing")
        billing = routing.create_category(session, SYSTEM, "Billing")
        refund = routing.create_category(session, SYSTEM, "Refund", parent_id=billing.id)
        delivery = routing.create_category(session, SYSTEM, "Delivery")
        routing.create_routing_rule(
            session,
            SYSTEM,
            name="billing",
            team_id=team_b.id,
            position=1,
            category_ids=[billing.id],
        )
        routing.create_routing_rule(session, SYSTEM, name="rest", team_id=team_a.id, position=9)
        routing.add_team_member(session, SYSTEM, team_a.id, users["agent_a"].id)
        routing.add_team_member(session, SYSTEM, team_b.id, users["agent_b"].id)
        routing.add_team_member(session, SYSTEM, team_a.id, users["reader"].id)
        customer = create_customer(
            session,
            SYSTEM,
            CustomerCreate(
                name="王小明",
                external_id="C-1",
                contacts=[ContactIn(type="email", value="wang@example.com")],
            ),
        )
        other = create_customer(
            session, SYSTEM, CustomerCreate(name="Erika Mustermann", external_id="C-2")
        )
        ids = (
            calendar.id,
            policy.policy_id,
            team_a.id,
            team_b.id,
            billing.id,
            refund.id,
            delivery.id,
            customer.id,
            other.id,
        )
    cal, pol, a, b, bil, ref, dlv, cus, oth = ids
    return Office(
        database=database,
        app=app,
        users=users,
        team_a=a,
        team_b=b,
        calendar=cal,
        policy=pol,
        billing=bil,
        refund=ref,
        delivery=dlv,
        customer=cus,
        other_customer=oth,
        _client_factory=client_factory,
    )
