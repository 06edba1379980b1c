"""Login, logout, sessions held on the server, CSRF, login rate limits."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from kehu.users.tables import User

PASSWORD = "correct horse battery"


def test_login_sets_a_server_side_session_cookie(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("ann@example.com", "manager")
    response = client.post(
        "/api/auth/login", json={"email": "Ann@Example.com ", "password": PASSWORD}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "kehu_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http in tests; see session_cookie_secure
    body = response.json()
    assert body["user"]["email"] == "ann@example.com"
    assert len(body["csrf_token"]) >= 32
    me = client.get("/api/auth/me").json()
    assert me["authenticated_by"] == "session"
    assert "value:read" in me["permissions"]
    assert me["csrf_token"] == body["csrf_token"]


def test_secure_cookie_when_configured(
    app: object, client: TestClient, make_user: Callable[..., User], settings: object
) -> None:
    make_user("sec@example.com")
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"session_cookie_secure": True}
    )
    response = client.post(
        "/api/auth/login", json={"email": "sec@example.com", "password": PASSWORD}
    )
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("bob@example.com")
    wrong = client.post("/api/auth/login", json={"email": "bob@example.com", "password": "nope"})
    unknown = client.post("/api/auth/login", json={"email": "who@example.com", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["type"] == "AuthenticationError"


def test_no_credentials_is_401(client: TestClient) -> None:
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "AuthenticationError"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_logout_revokes_the_session(
    client: TestClient, make_user: Callable[..., User], login: Callable[..., str]
) -> None:
    make_user("cat@example.com")
    login(client, "cat@example.com")
    stolen = client.cookies.get("kehu_session")
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/auth/me").status_code == 401
    # The old cookie is dead on the server, not only deleted in the browser.
    client.cookies.set("kehu_session", stolen)
    assert client.get("/api/auth/me").status_code == 401


def test_cookie_writes_need_the_csrf_token(
    client: TestClient, make_user: Callable[..., User], login: Callable[..., str]
) -> None:
    make_user("dan@example.com")
    token = login(client, "dan@example.com")
    del client.headers["X-CSRF-Token"]
    missing = client.post("/api/auth/logout")
    assert missing.status_code == 403
    assert "CSRF" in missing.json()["error"]["message"]
    wrong = client.post("/api/auth/logout", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert client.get("/api/auth/me").status_code == 200  # reads need no token
    form = client.post("/api/auth/logout", data={"csrf_token": token})
    assert form.status_code == 204


def test_password_change_revokes_every_session(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    make_user("eve@example.com")
    laptop, phone = client_factory(), client_factory()
    login(laptop, "eve@example.com")
    login(phone, "eve@example.com")
    short = laptop.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    assert short.json()["error"]["field"] == "new_password"
    wrong = laptop.post(
        "/api/auth/password",
        json={"current_password": "not it at all", "new_password": "a new long password"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "current_password"
    changed = laptop.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
    )
    assert changed.status_code == 200
    assert phone.get("/api/auth/me").status_code == 401
    # The browser that changed it got a fresh session and token.
    laptop.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
    assert laptop.get("/api/auth/me").status_code == 200
    assert laptop.post("/api/auth/logout").status_code == 204
    fresh = client_factory()
    assert (
        fresh.post(
            "/api/auth/login", json={"email": "eve@example.com", "password": PASSWORD}
        ).status_code
        == 401
    )
    login(fresh, "eve@example.com", "a new long password")


def test_deactivation_ends_sessions_and_blocks_login(
    admin_client: TestClient,
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    fay = make_user("fay@example.com")
    client = client_factory()
    login(client, "fay@example.com")
    assert admin_client.post(f"/api/users/{fay.id}/deactivate").status_code == 200
    assert client.get("/api/auth/me").status_code == 401
    again = client_factory().post(
        "/api/auth/login", json={"email": "fay@example.com", "password": PASSWORD}
    )
    assert again.status_code == 401


def test_login_rate_limit_per_account(
    client_factory: Callable[[], TestClient], make_user: Callable[..., User]
) -> None:
    make_user("gus@example.com")
    client = client_factory()
    for _ in range(3):
        response = client.post(
            "/api/auth/login", json={"email": "gus@example.com", "password": "wrong password"}
        )
        assert response.status_code == 401
    limited = client.post(
        "/api/auth/login", json={"email": "gus@example.com", "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "RateLimitedError"
    assert 0 < int(limited.headers["retry-after"]) <= 900


def test_login_rate_limit_per_client_address(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("hal@example.com")
    for number in range(6):
        response = client.post(
            "/api/auth/login", json={"email": f"guess{number}@example.com", "password": "x"}
        )
        assert response.status_code == 401
    limited = client.post(
        "/api/auth/login", json={"email": "hal@example.com", "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert "retry-after" in limited.headers


def test_successful_login_clears_the_account_failures(
    client: TestClient, make_user: Callable[..., User], login: Callable[..., str]
) -> None:
    make_user("ida@example.com")
    for _ in range(2):
        client.post("/api/auth/login", json={"email": "ida@example.com", "password": "nope"})
    login(client, "ida@example.com")
    for _ in range(2):
        response = client.post(
            "/api/auth/login", json={"email": "ida@example.com", "password": "nope"}
        )
        assert response.status_code == 401


def test_own_profile_update(
    client: TestClient, make_user: Callable[..., User], login: Callable[..., str]
) -> None:
    make_user("jo@example.com")
    login(client, "jo@example.com")
    response = client.patch("/api/auth/me", json={"locale": "zh-Hans", "display_name": "乔"})
    assert response.status_code == 200
    assert response.json()["locale"] == "zh-Hans"
    bad = client.patch("/api/auth/me", json={"locale": "fr"})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "locale"


def test_html_form_login_and_logout(client: TestClient, make_user: Callable[..., User]) -> None:
    make_user("web@example.com")
    wrong = client.post(
        "/auth/login",
        data={"username": "web@example.com", "password": "nope", "next": "/value"},
        follow_redirects=False,
    )
    assert wrong.status_code == 303
    assert wrong.headers["location"] == "/login?notice=invalid&next=/value"
    ok = client.post(
        "/auth/login",
        data={"username": "web@example.com", "password": PASSWORD, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    me = client.get("/api/auth/me").json()
    no_token = client.post("/auth/logout", follow_redirects=False)
    assert no_token.status_code == 403
    out = client.post("/auth/logout", data={"csrf_token": me["csrf_token"]}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login?notice=logged_out"
    assert client.get("/api/auth/me").status_code == 401
    forged = client.post(
        "/auth/login",
        data={"username": "web@example.com", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
