"""One error body for every failure: 404, 409, 413, 422 naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kehu.app import create_app
from kehu.core.config import Settings
from kehu.store.db import Database


def test_unknown_route_and_unknown_id_are_404(admin_client: TestClient) -> None:
    route = admin_client.get("/api/nothing-here")
    assert route.status_code == 404
    assert route.json() == {"error": {"type": "NotFoundError", "message": "not found"}}
    user = admin_client.get("/api/users/424242")
    assert user.status_code == 404
    assert user.json()["error"]["type"] == "NotFoundError"
    run = admin_client.get("/api/value/runs/9")
    assert run.status_code == 404


def test_conflict_is_409(admin_client: TestClient) -> None:
    body = {
        "email": "admin@example.com",
        "display_name": "Again",
        "role": "agent",
        "password": "long enough password",
    }
    response = admin_client.post("/api/users", json=body)
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "ConflictError"


def test_oversized_body_is_413(admin_client: TestClient) -> None:
    body = {
        "email": "big@example.com",
        "display_name": "x" * 20_000,
        "role": "agent",
        "password": "long enough password",
    }
    response = admin_client.post("/api/users", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "PayloadTooLarge"

    def chunks():  # no Content-Length: counted while it streams
        for _ in range(20):
            yield b"x" * 1024

    streamed = admin_client.post(
        "/api/users", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["type"] == "PayloadTooLarge"


def test_the_upload_limit_is_the_apps_own_settings(settings: Settings, database: Database) -> None:
    # the attachment limit the app was given (not the environment's) bounds an upload's body
    small = settings.model_copy(update={"attachment_max_bytes": 1_000})
    with TestClient(create_app(small, database)) as client:
        over = client.post(
            "/api/tickets/1/attachments",
            content=b"x" * (1_000 + 70 * 1024),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        under = client.post(
            "/api/tickets/1/attachments",
            content=b"x" * (30 * 1024),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
    assert over.status_code == 413 and over.json()["error"]["type"] == "PayloadTooLarge"
    assert under.status_code != 413  # past the body limit: the route's own answer


def test_validation_errors_name_the_field(admin_client: TestClient) -> None:
    response = admin_client.post(
        "/api/users",
        json={
            "email": "a@example.com",
            "display_name": "A",
            "role": "boss",
            "password": "long enough password",
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "InputError"
    assert error["field"] == "role"
    missing = admin_client.post("/api/users", json={"email": "a@example.com"})
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] in {"display_name", "role", "password"}
    malformed = admin_client.post(
        "/api/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    bad_email = admin_client.post(
        "/api/users",
        json={
            "email": "not-an-email",
            "display_name": "A",
            "role": "agent",
            "password": "long enough password",
        },
    )
    assert bad_email.status_code == 422
    assert bad_email.json()["error"]["field"] == "email"


def test_query_errors_name_the_parameter(admin_client: TestClient) -> None:
    sort = admin_client.get("/api/users", params={"sort": "password_hash"})
    assert sort.status_code == 422
    assert sort.json()["error"]["field"] == "sort"
    assert "password_hash" in sort.json()["error"]["message"]
    size = admin_client.get("/api/users", params={"page_size": 51})
    assert size.status_code == 422
    assert size.json()["error"]["field"] == "page_size"
    page = admin_client.get("/api/users", params={"page": 0})
    assert page.status_code == 422
    assert page.json()["error"]["field"] == "page"
    path = admin_client.get("/api/users/abc")
    assert path.status_code == 422
    assert path.json()["error"]["field"] == "user_id"
