"""One middleware makes every write idempotent under an Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from office import Office
from sqlalchemy import func, select

from kehu.core.idempotency import IdempotencyRecord
from kehu.core.users.tables import ApiToken, User
from kehu.customers.tables import Customer
from kehu.store.base import utc_now
from kehu.store.db import Database

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


# --- a replay is answered only to the caller the first answer was for (issue 6, defect 2) ------


def _token(office: Office, who: str, scopes: list[str]) -> tuple[int, TestClient]:
    created = office.client(who).post("/api/tokens", json={"name": "w", "scopes": scopes})
    assert created.status_code == 201, created.text
    client = office._client_factory()
    client.headers["Authorization"] = f"Bearer {created.json()['secret']}"
    return int(created.json()["id"]), client


CUSTOMER = {"kind": "person", "name": "Replay Person"}


def test_a_revoked_token_gets_no_replay(office: Office) -> None:
    token_id, caller = _token(office, "manager", ["customers:write"])
    headers = {"Idempotency-Key": "revoked-1"}
    first = caller.post("/api/customers", json=CUSTOMER, headers=headers)
    assert first.status_code == 201, first.text
    revoked = office.client("manager").delete(f"/api/tokens/{token_id}")
    assert revoked.status_code == 204
    replay = caller.post("/api/customers", json=CUSTOMER, headers=headers)
    assert replay.status_code == 401, replay.text
    assert "idempotent-replayed" not in replay.headers
    assert "Replay Person" not in replay.text


def test_an_expired_token_gets_no_replay(office: Office, database: Database) -> None:
    token_id, caller = _token(office, "manager", ["customers:write"])
    headers = {"Idempotency-Key": "expired-1"}
    assert caller.post("/api/customers", json=CUSTOMER, headers=headers).status_code == 201
    with database.session() as session:
        token = session.get(ApiToken, token_id)
        assert token is not None
        token.expires_at = utc_now() - timedelta(seconds=1)
    replay = caller.post("/api/customers", json=CUSTOMER, headers=headers)
    assert replay.status_code == 401, replay.text
    assert "idempotent-replayed" not in replay.headers


def test_an_ended_session_gets_no_replay(office: Office) -> None:
    manager = office.client("manager")
    headers = {"Idempotency-Key": "session-1"}
    assert manager.post("/api/customers", json=CUSTOMER, headers=headers).status_code == 201
    cookies = dict(manager.cookies)
    csrf = manager.headers["X-CSRF-Token"]
    assert manager.post("/api/auth/logout").status_code == 204
    stale = office._client_factory()
    stale.cookies.update(cookies)
    replay = stale.post("/api/customers", json=CUSTOMER, headers={**headers, "X-CSRF-Token": csrf})
    assert replay.status_code == 401, replay.text
    assert "idempotent-replayed" not in replay.headers


def test_a_replay_without_the_csrf_token_is_refused(office: Office) -> None:
    manager = office.client("manager")
    headers = {"Idempotency-Key": "csrf-1"}
    assert manager.post("/api/customers", json=CUSTOMER, headers=headers).status_code == 201
    csrf = manager.headers.pop("X-CSRF-Token")
    try:
        replay = manager.post("/api/customers", json=CUSTOMER, headers=headers)
    finally:
        manager.headers["X-CSRF-Token"] = csrf
    assert replay.status_code == 403, replay.text
    assert "idempotent-replayed" not in replay.headers


def test_a_caller_whose_rights_changed_gets_no_replay(office: Office) -> None:
    agent = office.client("agent_a")
    headers = {"Idempotency-Key": "demoted-1"}
    assert agent.post("/api/customers", json=CUSTOMER, headers=headers).status_code == 201
    user_id = office.users["agent_a"].id
    demoted = office.client("admin").patch(f"/api/users/{user_id}", json={"role": "read_only"})
    assert demoted.status_code == 200, demoted.text
    replay = agent.post("/api/customers", json=CUSTOMER, headers=headers)
    assert replay.status_code == 409, replay.text
    assert "idempotent-replayed" not in replay.headers
    assert replay.json()["error"]["field"] == "Idempotency-Key"
    assert "Replay Person" not in replay.text
    assert _count_customers(office.database, "Replay Person") == 1


def _count_customers(database: Database, name: str) -> int:
    with database.session() as session:
        return int(
            session.execute(
                select(func.count()).select_from(Customer).where(Customer.name == name)
            ).scalar_one()
        )


# --- answers that hold a secret shown once are not kept -----------------------------------------


def _stored_bodies(database: Database) -> list[bytes]:
    with database.session() as session:
        return [
            body
            for body in session.execute(select(IdempotencyRecord.response_body)).scalars()
            if body is not None
        ]


def test_a_new_tokens_secret_is_not_kept_nor_replayed(office: Office, database: Database) -> None:
    manager = office.client("manager")
    headers = {"Idempotency-Key": "token-1"}
    request = {"name": "ci", "scopes": ["tickets:read"]}
    first = manager.post("/api/tokens", json=request, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["secret"]
    assert first.headers["cache-control"] == "no-store"
    assert not any(secret.encode() in body for body in _stored_bodies(database))
    replay = manager.post("/api/tokens", json=request, headers=headers)
    assert replay.status_code == 409, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert secret not in replay.text
    error = replay.json()["error"]
    assert error["first_status"] == 201
    assert "shown only once" in error["message"]
    listed = manager.get("/api/tokens").json()["items"]
    assert [token["name"] for token in listed].count("ci") == 1  # made once


def test_a_status_links_token_is_not_kept_nor_replayed(office: Office, database: Database) -> None:
    ticket = office.ticket()
    manager = office.client("manager")
    headers = {"Idempotency-Key": "link-1"}
    first = manager.post(f"/api/tickets/{ticket['id']}/status-links", headers=headers)
    assert first.status_code == 201, first.text
    token = first.json()["status_token"]
    assert not any(token.encode() in body for body in _stored_bodies(database))
    replay = manager.post(f"/api/tickets/{ticket['id']}/status-links", headers=headers)
    assert replay.status_code == 409
    assert token not in replay.text


def test_a_keyed_form_with_too_many_fields_is_refused_not_a_server_error(office: Office) -> None:
    """The middleware reads an urlencoded form's csrf_token to identify a cookie caller; a body
    of more fields than it reads made ``parse_qs`` raise (a 500)."""
    manager = office.client("manager")
    csrf = manager.headers.pop("X-CSRF-Token")
    try:
        response = manager.post(
            "/api/customers",
            content="&".join(f"f{i}=x" for i in range(1500)).encode(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "Idempotency-Key": "many-fields",
            },
        )
    finally:
        manager.headers["X-CSRF-Token"] = csrf
    assert response.status_code < 500, response.text
