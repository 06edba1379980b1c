"""The public door of the API: file without an account, follow and reply through the status link,
429 with Retry-After, refused requests counted, staff revoke links; links on the configured
address whatever the Host header says, and X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import DEVELOPMENT_BASE_URL, Settings
from kehu.core.outbox import OutboxMessage
from kehu.core.users.tables import User
from kehu.desk import routing, sla_store, ticket_messages
from kehu.desk.calendars import BusinessCalendar
from kehu.desk.tables import TicketMessage
from kehu.errors import ConfigurationError
from kehu.store.db import Database
from settings_support import DEFAULT_SETTINGS

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database.url,
        session_cookie_secure=False,
        max_request_bytes=16_384,
        secret_key="api-test-secret-long-enough",
        data_dir=tmp_path / "data",
        public_max_complaints_per_address=3,
        public_max_complaints_per_email=2,
        public_max_failed_lookups_per_address=3,
    )


@pytest.fixture(autouse=True)
def desk(database: Database) -> int:
    """A 24x7 calendar in Shanghai, a 2 h / 24 h promise, one team; returns the team id."""
    with database.session() as session:
        calendar = sla_store.create_calendar(
            session, SYSTEM, BusinessCalendar.always_open("Asia/Shanghai", name="always")
        )
        sla_store.create_policy(
            session,
            SYSTEM,
            name="web promise",
            first_response=timedelta(hours=2),
            resolution=timedelta(hours=24),
            calendar_id=calendar.id,
        )
        team = routing.create_team(session, SYSTEM, "Front")
        routing.create_routing_rule(session, SYSTEM, name="all", team_id=team.id)
        return team.id


def complaint(**fields: Any) -> dict[str, Any]:
    return {
        "name": "张伟",
        "email": "zhang.wei@example.cn",
        "subject": "快递损坏",
        "description": "包裹到货时已经破损。",
        "contact_by_email": True,
        "language": "zh-Hans",
        "timezone": "Asia/Shanghai",
        **fields,
    }


def test_file_follow_and_reply_without_an_account(client: TestClient, database: Database) -> None:
    before = datetime.now(UTC)
    response = client.post("/api/public/complaints", json=complaint())
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    ack = response.json()
    token = ack["status_token"]
    assert ack["reference"] == f"#{ack['ticket_id']}"
    # no KEHU_PUBLIC_BASE_URL, development: kehu serve's default address, not the request's
    assert ack["status_url"] == f"{DEVELOPMENT_BASE_URL}/status/{token}"
    assert ack["status_api_url"] == f"{DEVELOPMENT_BASE_URL}/api/public/status/{token}"
    promise = ack["promise"]
    assert promise["first_response_target_seconds"] == 7200
    assert promise["timezone"] == "Asia/Shanghai"
    due = datetime.fromisoformat(promise["first_response_due"])
    assert timedelta(hours=2) <= due - before < timedelta(hours=2, minutes=1)
    assert promise["first_response_due_local"].endswith("+08:00")
    assert promise["text"].startswith("服务承诺：我们将在 ")
    assert "policy_name" not in promise  # internal names stay inside
    with database.session() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None and token in message.body

    status = client.get(f"/api/public/status/{token}?language=en")
    assert status.status_code == 200
    body = status.json()
    assert body["subject"] == "快递损坏" and body["status"] == "new" and body["messages"] == []
    assert body["promise"]["text"].startswith("Our service promise: we will reply by ")
    assert status.headers["referrer-policy"] == "no-referrer"

    with database.session() as session:
        ticket_messages.add_note(
            session, SYSTEM, ack["ticket_id"], "internal only", settings=DEFAULT_SETTINGS
        )
        ticket_messages.reply(
            session,
            SYSTEM,
            ack["ticket_id"],
            "请提供订单号。",
            wait_for_customer=True,
            settings=DEFAULT_SETTINGS,
        )
    waiting = client.get(f"/api/public/status/{token}").json()
    assert waiting["status"] == "waiting_on_customer" and waiting["promise"]["paused"]
    assert [m["author"] for m in waiting["messages"]] == ["service"]

    replied = client.post(
        f"/api/public/status/{token}/replies", json={"body": "订单号 4711 " + SCRIPT}
    )
    assert replied.status_code == 201, replied.text
    after = replied.json()
    assert after["status"] == "in_progress"
    assert [(m["author"], m["body"]) for m in after["messages"]] == [
        ("service", "请提供订单号。"),
        ("customer", "订单号 4711 " + SCRIPT),
    ]
    assert "internal only" not in replied.text
    with database.session() as session:
        stored = session.scalars(select(TicketMessage.body)).all()
        assert "订单号 4711 " + SCRIPT in stored  # stored as typed, escaped where shown


def test_bad_input_names_the_field(client: TestClient) -> None:
    for fields, field in (
        ({"subject": "x" * 201}, "subject"),
        ({"email": "nope"}, "email"),
        ({"kind": "threat"}, "kind"),
        ({"description": "a\x00b"}, "description"),
    ):
        response = client.post("/api/public/complaints", json=complaint(**fields))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field


def test_oversized_body_is_413(client: TestClient) -> None:
    response = client.post("/api/public/complaints", json=complaint(description="x" * 20_000))
    assert response.status_code == 413


def test_rate_limited_with_retry_after_and_refused_requests_count(client: TestClient) -> None:
    assert client.post("/api/public/complaints", json=complaint(website="spam")).status_code == 422
    assert client.post("/api/public/complaints", json=complaint(email="x")).status_code == 422
    assert client.post("/api/public/complaints", json=complaint()).status_code == 201
    response = client.post("/api/public/complaints", json=complaint(email="new@example.com"))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 3500
    assert response.json()["error"]["type"] == "RateLimitedError"


def test_unknown_expired_revoked_links_are_one_404_and_guessing_is_limited(
    client: TestClient,
    client_factory: Callable[[], TestClient],
    admin: User,
    login: Callable[..., str],
) -> None:
    ack = client.post("/api/public/complaints", json=complaint()).json()
    token = ack["status_token"]
    staff = client_factory()
    login(staff, admin.email)
    revoked = staff.post(f"/api/tickets/{ack['ticket_id']}/status-links/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked"] == 1
    answers = {
        client.get(f"/api/public/status/{guess}").json()["error"]["message"]
        for guess in (token, "A" * 43)
    }
    assert len(answers) == 1
    assert (
        client.post(f"/api/public/status/{token}/replies", json={"body": "hi"}).status_code == 404
    )
    # three misses within the hour: the address must wait
    limited = client.get(f"/api/public/status/{'B' * 43}")
    assert limited.status_code == 429 and "retry-after" in limited.headers
    # staff give a new link
    issued = staff.post(f"/api/tickets/{ack['ticket_id']}/status-links")
    assert issued.status_code == 201
    assert issued.json()["status_url"].endswith(issued.json()["status_token"])


def test_revoking_needs_a_login(client: TestClient) -> None:
    ack = client.post("/api/public/complaints", json=complaint()).json()
    assert client.post(f"/api/tickets/{ack['ticket_id']}/status-links/revoke").status_code == 401


def test_the_door_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    schema = paths["/api/public/complaints"]["post"]["requestBody"]["content"]["application/json"]
    assert "subject" in schema["schema"]["properties"]
    assert "/api/public/status/{token}" in paths
    assert "/api/public/status/{token}/replies" in paths


# -- links are built on the configured address, never on the Host header ------------------------

EVIL_HOST = {"Host": "evil.example"}


@pytest.mark.parametrize(
    "configured", ["https://service.example.com", None], ids=["configured", "development"]
)
def test_a_forged_host_header_never_reaches_the_customers_links(
    configured: str | None,
    app: FastAPI,
    settings: Settings,
    client: TestClient,
    client_factory: Callable[[], TestClient],
    admin: User,
    login: Callable[..., str],
    database: Database,
) -> None:
    app.state.settings = settings.model_copy(update={"public_base_url": configured})
    base = configured or DEVELOPMENT_BASE_URL
    response = client.post("/api/public/complaints", json=complaint(), headers=EVIL_HOST)
    assert response.status_code == 201, response.text
    ack = response.json()
    token = ack["status_token"]
    assert ack["status_url"] == f"{base}/status/{token}"
    assert ack["status_api_url"] == f"{base}/api/public/status/{token}"
    with database.session() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None
        assert f"{base}/status/{token}" in message.body
        assert "evil.example" not in message.body

    staff = client_factory()
    login(staff, admin.email)
    issued = staff.post(f"/api/tickets/{ack['ticket_id']}/status-links", headers=EVIL_HOST)
    assert issued.status_code == 201, issued.text
    new_token = issued.json()["status_token"]
    assert issued.json()["status_url"] == f"{base}/status/{new_token}"


def test_production_without_the_public_address_refuses_to_start(
    settings: Settings, database: Database
) -> None:
    production = settings.model_copy(update={"environment": "production"})
    with pytest.raises(ConfigurationError, match="KEHU_PUBLIC_BASE_URL"):
        create_app(production, database)
    configured = production.model_copy(update={"public_base_url": "https://service.example.com"})
    assert create_app(configured, database).state.settings is configured


# -- the limits count the client address, X-Forwarded-For only from trusted proxies -----------


def _complaints_from(client: TestClient, forwarded_for: list[str]) -> list[int]:
    """One complaint per X-Forwarded-For value, each from another email address (the per-email
    limit stays out of the way); the answers' status codes."""
    return [
        client.post(
            "/api/public/complaints",
            json=complaint(email=f"sender{number}@example.com"),
            headers={"X-Forwarded-For": address},
        ).status_code
        for number, address in enumerate(forwarded_for)
    ]


@pytest.fixture
def behind_proxy(app: FastAPI, settings: Settings) -> None:
    """kehu behind the reverse proxies of 10.0.0.0/8 (KEHU_TRUSTED_PROXIES)."""
    app.state.settings = settings.model_copy(
        update={"trusted_proxies": (ip_network("10.0.0.0/8"),)}
    )


@pytest.mark.usefixtures("behind_proxy")
def test_x_forwarded_for_from_an_untrusted_peer_does_not_move_the_limit(app: FastAPI) -> None:
    # 198.51.100.9 is no proxy of ours: the header it sends is the client's own invention
    with TestClient(app, client=("198.51.100.9", 40000)) as client:
        forged = [f"203.0.113.{number}" for number in range(1, 5)]
        assert _complaints_from(client, forged) == [201, 201, 201, 429]  # 3 per address


@pytest.mark.usefixtures("behind_proxy")
def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(app: FastAPI) -> None:
    with TestClient(app, client=("10.0.0.2", 40000)) as proxy:
        # four clients behind the proxy: each has its own limit, not the proxy's one
        clients = [f"203.0.113.{number}" for number in range(1, 5)]
        assert _complaints_from(proxy, clients) == [201, 201, 201, 201]
        # the same client through the proxy is counted as itself
        assert _complaints_from(proxy, ["203.0.113.1"] * 3) == [201, 201, 429]
        # unknown status links too: three misses per client address, not per proxy
        misses = [
            proxy.get(f"/api/public/status/{'B' * 43}", headers={"X-Forwarded-For": address})
            for address in clients
        ]
        assert [miss.status_code for miss in misses] == [404, 404, 404, 404]
