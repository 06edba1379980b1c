"""The public door of the API: file without an account, follow and reply through the status link,
429 with Retry-After, refused requests counted, staff revoke links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kehu.auth import SYSTEM
from kehu.config import Settings
from kehu.service import routing, sla_store, tickets
from kehu.service.calendars import BusinessCalendar
from kehu.service.tables import OutboxMessage, TicketMessage
from kehu.store.db import Database
from kehu.users.tables import User

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
    assert ack["status_url"] == f"http://testserver/status/{token}"
    assert ack["status_api_url"] == f"http://testserver/api/public/status/{token}"
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
        tickets.add_note(session, SYSTEM, ack["ticket_id"], "internal only")
        tickets.reply(session, SYSTEM, ack["ticket_id"], "请提供订单号。", wait_for_customer=True)
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
