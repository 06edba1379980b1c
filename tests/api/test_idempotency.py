"""One middleware makes every write idempotent under an Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kehu.store.db import Database
from kehu.users.tables import User

NEW_USER = {
    "email": "kim@example.com",
    "display_name": "Kim",
    "role": "agent",
    "password": "long enough password",
}


def _users(database: Database) -> int:
    with database.session() as session:
        return int(session.execute(select(func.count()).select_from(User)).scalar_one())


def test_a_replay_returns_the_first_response_without_writing_again(
    admin_client: TestClient, database: Database
) -> None:
    before = _users(database)
    headers = {"Idempotency-Key": "create-kim-1"}
    first = admin_client.post("/api/users", json=NEW_USER, headers=headers)
    assert first.status_code == 201
    replay = admin_client.post("/api/users", json=NEW_USER, headers=headers)
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert _users(database) == before + 1
    # Without the key, the same request is a second write (here: refused, email taken).
    assert admin_client.post("/api/users", json=NEW_USER).status_code == 409


def test_the_same_key_with_a_different_request_is_refused(admin_client: TestClient) -> None:
    headers = {"Idempotency-Key": "k-2"}
    assert admin_client.post("/api/users", json=NEW_USER, headers=headers).status_code == 201
    other = dict(NEW_USER, email="lee@example.com")
    response = admin_client.post("/api/users", json=other, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "Idempotency-Key reused with a different request"
    assert error["field"] == "Idempotency-Key"
    elsewhere = admin_client.post(
        "/api/tokens", json={"name": "t", "scopes": ["value:read"]}, headers=headers
    )
    assert elsewhere.status_code == 422


def test_error_responses_are_replayed_too(admin_client: TestClient) -> None:
    headers = {"Idempotency-Key": "dup"}
    admin_client.post("/api/users", json=NEW_USER)
    first = admin_client.post("/api/users", json=NEW_USER, headers=headers)
    assert first.status_code == 409
    replay = admin_client.post("/api/users", json=NEW_USER, headers=headers)
    assert replay.status_code == 409
    assert replay.headers["idempotent-replayed"] == "true"


def test_refusals_that_may_pass_later_release_the_key(
    admin_client: TestClient, database: Database
) -> None:
    headers = {"Idempotency-Key": "csrf-later"}
    token = admin_client.headers.pop("X-CSRF-Token")
    refused = admin_client.post("/api/users", json=NEW_USER, headers=headers)
    assert refused.status_code == 403
    admin_client.headers["X-CSRF-Token"] = token
    accepted = admin_client.post("/api/users", json=NEW_USER, headers=headers)
    assert accepted.status_code == 201
    assert "idempotent-replayed" not in accepted.headers


def test_keys_belong_to_their_user(
    admin_client: TestClient,
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    make_user("second@example.com", "admin")
    other = client_factory()
    login(other, "second@example.com")
    headers = {"Idempotency-Key": "shared-key"}
    first = admin_client.post("/api/users", json=NEW_USER, headers=headers)
    second = other.post("/api/users", json=dict(NEW_USER, email="max@example.com"), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_malformed_keys_are_refused(admin_client: TestClient) -> None:
    response = admin_client.post(
        "/api/users", json=NEW_USER, headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "Idempotency-Key"


def test_reads_ignore_the_key(admin_client: TestClient) -> None:
    headers = {"Idempotency-Key": "read"}
    assert admin_client.get("/api/users", headers=headers).status_code == 200
    assert "idempotent-replayed" not in admin_client.get("/api/users", headers=headers).headers
