"""API tokens: secrets shown once, stored as digests, scopes intersected with the creator's
current rights on every request, revocable and expiring."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kehu.core.users.tables import ApiToken, User
from kehu.store.base import utc_now
from kehu.store.db import Database


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _create(client: TestClient, scopes: list[str], name: str = "script") -> dict:
    response = client.post("/api/tokens", json={"name": name, "scopes": scopes})
    assert response.status_code == 201, response.text
    return response.json()


def test_token_secret_is_shown_once_and_stored_as_a_digest(
    admin_client: TestClient, database: Database, client_factory: Callable[[], TestClient]
) -> None:
    created = _create(admin_client, ["users:admin", "value:read"])
    secret = created["secret"]
    assert secret.startswith("kehu_") and len(secret) > 40
    with database.session() as session:
        token = session.execute(select(ApiToken)).scalar_one()
        assert token.token_digest == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {token.token_digest, token.prefix}
    listed = admin_client.get("/api/tokens").json()
    assert listed["total"] == 1
    assert "secret" not in listed["items"][0]
    # A token works without cookies or CSRF.
    bare = client_factory()
    me = bare.get("/api/auth/me", headers=_bearer(secret)).json()
    assert me["authenticated_by"] == "token"
    assert sorted(me["permissions"]) == ["users:admin", "value:read"]
    created_user = bare.post(
        "/api/users",
        headers=_bearer(secret),
        json={
            "email": "new@example.com",
            "display_name": "New",
            "role": "agent",
            "password": "long enough password",
        },
    )
    assert created_user.status_code == 201


def test_a_read_only_token_cannot_write(
    admin_client: TestClient, client_factory: Callable[[], TestClient]
) -> None:
    secret = _create(admin_client, ["value:read"])["secret"]
    bare = client_factory()
    assert bare.get("/api/value/runs", headers=_bearer(secret)).status_code == 200
    denied = bare.get("/api/users", headers=_bearer(secret))
    assert denied.status_code == 403
    assert denied.json()["error"]["type"] == "PermissionDeniedError"
    write = bare.post(
        "/api/users",
        headers=_bearer(secret),
        json={"email": "x@example.com", "display_name": "X", "role": "agent", "password": "p" * 12},
    )
    assert write.status_code == 403


def test_scopes_beyond_ones_own_rights_are_refused(
    client: TestClient, make_user: Callable[..., User], login: Callable[..., str]
) -> None:
    make_user("agent@example.com", "agent")
    login(client, "agent@example.com")
    response = client.post("/api/tokens", json={"name": "t", "scopes": ["users:admin"]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "scopes"
    unknown = client.post("/api/tokens", json={"name": "t", "scopes": ["root"]})
    assert unknown.status_code == 422


def test_demoting_the_creator_removes_the_tokens_rights(
    admin_client: TestClient,
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    boss = make_user("boss@example.com", "manager")
    manager = client_factory()
    login(manager, boss.email)
    secret = _create(manager, ["value:read", "customers:read"])["secret"]
    bare = client_factory()
    assert bare.get("/api/value/scores", headers=_bearer(secret)).status_code == 200
    demoted = admin_client.patch(f"/api/users/{boss.id}", json={"role": "agent"})
    assert demoted.status_code == 200
    assert bare.get("/api/value/scores", headers=_bearer(secret)).status_code == 403
    me = bare.get("/api/auth/me", headers=_bearer(secret)).json()
    assert me["permissions"] == ["customers:read"]
    # Deactivating the creator kills the token.
    admin_client.post(f"/api/users/{boss.id}/deactivate")
    assert bare.get("/api/auth/me", headers=_bearer(secret)).status_code == 401


def test_revoked_and_expired_tokens_are_401(
    admin_client: TestClient, client_factory: Callable[[], TestClient], database: Database
) -> None:
    revoked = _create(admin_client, ["value:read"], "revoked")
    expired = _create(admin_client, ["value:read"], "expired")
    bare = client_factory()
    assert admin_client.delete(f"/api/tokens/{revoked['id']}").status_code == 204
    assert bare.get("/api/auth/me", headers=_bearer(revoked["secret"])).status_code == 401
    with database.session() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == expired["id"])
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    response = bare.get("/api/auth/me", headers=_bearer(expired["secret"]))
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "AuthenticationError"
    assert bare.get("/api/auth/me", headers=_bearer("kehu_made_up")).status_code == 401
    assert bare.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_tokens_cannot_create_tokens_or_change_passwords(
    admin_client: TestClient, client_factory: Callable[[], TestClient]
) -> None:
    secret = _create(admin_client, ["users:admin"])["secret"]
    bare = client_factory()
    response = bare.post(
        "/api/tokens", headers=_bearer(secret), json={"name": "child", "scopes": ["users:admin"]}
    )
    assert response.status_code == 403
    password = bare.post(
        "/api/auth/password",
        headers=_bearer(secret),
        json={"current_password": "whatever", "new_password": "whatever else"},
    )
    assert password.status_code == 403


def test_others_tokens_cannot_be_revoked(
    admin_client: TestClient,
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    token = _create(admin_client, ["value:read"])
    make_user("mallory@example.com", "manager")
    mallory = client_factory()
    login(mallory, "mallory@example.com")
    response = mallory.delete(f"/api/tokens/{token['id']}")
    assert response.status_code == 404
    assert mallory.delete("/api/tokens/999999").json() == response.json()


# --- tokens end with the password and with deactivation (issue 6, defect 9) --------------------


def test_an_administrators_password_reset_revokes_the_users_tokens(
    admin_client: TestClient,
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    lee = make_user("lee@example.com", "agent")
    browser = client_factory()
    login(browser, lee.email)
    secret = _create(browser, ["tickets:read"])["secret"]
    bare = client_factory()
    assert bare.get("/api/auth/me", headers=_bearer(secret)).status_code == 200
    reset = admin_client.post(
        f"/api/users/{lee.id}/password", json={"new_password": "a password from the admin"}
    )
    assert reset.status_code == 204
    assert bare.get("/api/auth/me", headers=_bearer(secret)).status_code == 401
    listed = admin_client.get("/api/tokens", params={"all": True, "include_revoked": True})
    assert [item["revoked_at"] is not None for item in listed.json()["items"]] == [True]


def test_deactivation_revokes_the_users_tokens_for_good(
    admin_client: TestClient,
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    may = make_user("may@example.com", "agent")
    browser = client_factory()
    login(browser, may.email)
    secret = _create(browser, ["tickets:read"])["secret"]
    bare = client_factory()
    assert admin_client.post(f"/api/users/{may.id}/deactivate").status_code == 200
    assert bare.get("/api/auth/me", headers=_bearer(secret)).status_code == 401
    assert admin_client.post(f"/api/users/{may.id}/activate").status_code == 200
    assert bare.get("/api/auth/me", headers=_bearer(secret)).status_code == 401
    # The reactivated user logs in again and makes new tokens; those work.
    again = client_factory()
    login(again, may.email)
    fresh = _create(again, ["tickets:read"])["secret"]
    assert bare.get("/api/auth/me", headers=_bearer(fresh)).status_code == 200


def test_changing_ones_own_password_revokes_ones_tokens(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    ned = make_user("ned@example.com", "agent")
    other = make_user("other@example.com", "agent")
    browser, colleague = client_factory(), client_factory()
    login(browser, ned.email)
    login(colleague, other.email)
    secret = _create(browser, ["tickets:read"])["secret"]
    untouched = _create(colleague, ["tickets:read"])["secret"]
    changed = browser.post(
        "/api/auth/password",
        json={"current_password": "correct horse battery", "new_password": "a brand new password"},
    )
    assert changed.status_code == 200
    bare = client_factory()
    assert bare.get("/api/auth/me", headers=_bearer(secret)).status_code == 401
    assert bare.get("/api/auth/me", headers=_bearer(untouched)).status_code == 200
    # The browser that changed it keeps working, and may make a new token.
    browser.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
    fresh = _create(browser, ["tickets:read"])["secret"]
    assert bare.get("/api/auth/me", headers=_bearer(fresh)).status_code == 200
