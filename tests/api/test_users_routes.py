"""Administration of users, and who may do it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from kehu.core.users.tables import User


def test_read_only_and_agents_cannot_list_users(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    for email, role in (
        ("ro@example.com", "read_only"),
        ("ag@example.com", "agent"),
        ("mg@example.com", "manager"),
    ):
        make_user(email, role)
        client = client_factory()
        login(client, email)
        response = client.get("/api/users")
        assert response.status_code == 403, role
        assert response.json()["error"]["type"] == "PermissionDeniedError"


def test_admin_lists_filters_sorts_and_pages_users(
    admin_client: TestClient, make_user: Callable[..., User]
) -> None:
    for number in range(5):
        make_user(f"user{number}@example.com", "agent" if number % 2 else "read_only")
    page = admin_client.get("/api/users", params={"page_size": 2, "sort": "-email"}).json()
    assert page["total"] == 6
    assert [item["email"] for item in page["items"]] == ["user4@example.com", "user3@example.com"]
    last = admin_client.get("/api/users", params={"page_size": 2, "page": 3, "sort": "-email"})
    assert [item["email"] for item in last.json()["items"]] == [
        "user0@example.com",
        "admin@example.com",
    ]
    agents = admin_client.get("/api/users", params={"role": "agent"}).json()
    assert agents["total"] == 2
    found = admin_client.get("/api/users", params={"q": "USER3"}).json()
    assert [item["email"] for item in found["items"]] == ["user3@example.com"]


def test_admin_creates_changes_role_deactivates_and_activates(
    admin_client: TestClient,
) -> None:
    created = admin_client.post(
        "/api/users",
        json={
            "email": "Liu@Example.com",
            "display_name": "刘伟",
            "role": "agent",
            "password": "long enough password",
            "locale": "zh-Hans",
        },
    )
    assert created.status_code == 201
    user = created.json()
    assert user["email"] == "liu@example.com"
    assert user["locale"] == "zh-Hans"
    assert "password" not in user and "password_hash" not in user
    promoted = admin_client.patch(f"/api/users/{user['id']}", json={"role": "manager"})
    assert promoted.json()["role"] == "manager"
    off = admin_client.post(f"/api/users/{user['id']}/deactivate").json()
    assert off["is_active"] is False and off["deactivated_at"] is not None
    on = admin_client.post(f"/api/users/{user['id']}/activate").json()
    assert on["is_active"] is True
    reset = admin_client.post(
        f"/api/users/{user['id']}/password", json={"new_password": "another long one"}
    )
    assert reset.status_code == 204


def test_the_last_administrator_stays(admin_client: TestClient, admin: User) -> None:
    demote = admin_client.patch(f"/api/users/{admin.id}", json={"role": "manager"})
    assert demote.status_code == 409
    deactivate = admin_client.post(f"/api/users/{admin.id}/deactivate")
    assert deactivate.status_code == 409
    assert "last active administrator" in deactivate.json()["error"]["message"]


def test_user_changes_are_audited(admin_client: TestClient) -> None:
    created = admin_client.post(
        "/api/users",
        json={
            "email": "audit@example.com",
            "display_name": "A",
            "role": "agent",
            "password": "long enough password",
        },
    ).json()
    admin_client.patch(f"/api/users/{created['id']}", json={"role": "read_only"})
    events = admin_client.get(
        "/api/audit/events", params={"entity": "user", "entity_id": str(created["id"])}
    ).json()
    actions = [item["action"] for item in events["items"]]
    assert actions == ["user.updated", "user.created"]
    updated = events["items"][0]
    assert updated["before"]["role"] == "agent" and updated["after"]["role"] == "read_only"
    assert updated["actor_name"] == "Admin"
    assert "password_hash" not in str(events)
    assert admin_client.get("/api/audit/verify").json()["ok"] is True
