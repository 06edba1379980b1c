"""Login, logout, sessions held on the server, CSRF, login rate limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.core.users.tables import User, WebSession
from kehu.store.base import utc_now
from kehu.store.db import Database

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


def test_login_rate_limit_per_account_and_address(
    app: FastAPI, client_factory: Callable[[], TestClient], make_user: Callable[..., User]
) -> None:
    _configure(app, login_max_failures_per_account_and_address=3)
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


# --- what a token may do to its own account (issue 6, defect 6) --------------------------------


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _token(client: TestClient, scopes: list[str]) -> str:
    response = client.post("/api/tokens", json={"name": "script", "scopes": scopes})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


def test_a_token_without_profile_write_cannot_change_the_profile_or_log_out(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    make_user("kim@example.com", "agent")
    browser = client_factory()
    login(browser, "kim@example.com")
    secret = _token(browser, ["tickets:read"])
    bare = client_factory()
    me = bare.get("/api/auth/me", headers=_bearer(secret))
    assert me.status_code == 200
    assert me.json()["permissions"] == ["tickets:read"]
    renamed = bare.patch("/api/auth/me", headers=_bearer(secret), json={"display_name": "Mal"})
    assert renamed.status_code == 403
    assert "profile:write" in renamed.json()["error"]["message"]
    logout = bare.post("/api/auth/logout", headers=_bearer(secret))
    assert logout.status_code == 403
    assert "web session" in logout.json()["error"]["message"]
    assert "set-cookie" not in logout.headers
    # Neither the profile nor the token changed.
    assert browser.get("/api/auth/me").json()["user"]["display_name"] == "Kim"
    assert bare.get("/api/auth/me", headers=_bearer(secret)).status_code == 200
    # Every role holds profile:write, so a token may be given it; with it the profile changes.
    assert "profile:write" in browser.get("/api/auth/me").json()["permissions"]
    profiler = _token(browser, ["profile:write"])
    changed = bare.patch("/api/auth/me", headers=_bearer(profiler), json={"locale": "zh-Hans"})
    assert changed.status_code == 200
    assert changed.json()["locale"] == "zh-Hans"


def test_every_role_may_change_its_own_profile(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> None:
    for role in ("admin", "manager", "agent", "read_only"):
        make_user(f"{role}@example.com", role)
        client = client_factory()
        login(client, f"{role}@example.com")
        response = client.patch("/api/auth/me", json={"display_name": f"The {role}"})
        assert response.status_code == 200, (role, response.text)


# --- login limits per account and address; the client address (issue 6, defect 8) ---------------


class Clock:
    """A settable stand-in for ``utc_now`` in the users service."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(users, "utc_now", clock)
    return clock


@pytest.fixture
def client_at(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """Clients whose connections come from a given address (the direct peer)."""
    clients: list[TestClient] = []

    def make(address: str) -> TestClient:
        client = TestClient(app, client=(address, 50000))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _configure(app: FastAPI, **changes: object) -> None:
    settings: Settings = app.state.settings
    app.state.settings = Settings(**(settings.model_dump() | changes))


def _log_in(client: TestClient, email: str, password: str, **headers: str) -> int:
    response = client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers
    )
    return response.status_code


def test_failures_from_one_address_do_not_lock_the_account_out_elsewhere(
    app: FastAPI, client_at: Callable[[str], TestClient], make_user: Callable[..., User]
) -> None:
    _configure(
        app,
        login_max_failures_per_account_and_address=3,
        login_max_failures_per_address=10,
        login_account_backoff_after=50,
    )
    make_user("root@example.com", "admin")
    attacker, owner = client_at("203.0.113.66"), client_at("198.51.100.7")
    for _ in range(3):
        assert _log_in(attacker, "root@example.com", "guess guess guess") == 401
    limited = attacker.post(
        "/api/auth/login", json={"email": "root@example.com", "password": PASSWORD}
    )
    assert limited.status_code == 429  # the attacker's address, even with the right password
    assert 0 < int(limited.headers["retry-after"]) <= 900
    assert _log_in(owner, "root@example.com", PASSWORD) == 200
    # The owner's success does not reset the attacker's count.
    assert _log_in(attacker, "root@example.com", "guess guess guess") == 429


def test_the_account_wide_back_off_starts_after_many_failures_and_doubles(
    app: FastAPI,
    client_at: Callable[[str], TestClient],
    make_user: Callable[..., User],
    clock: Clock,
) -> None:
    _configure(
        app,
        login_max_failures_per_account_and_address=3,
        login_max_failures_per_address=10,
        login_account_backoff_after=6,
    )
    make_user("root@example.com", "admin")
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(2):  # each address stays under its own limit
            assert _log_in(client_at(address), "root@example.com", "wrong password") == 401
    owner = client_at("198.51.100.7")
    first = owner.post("/api/auth/login", json={"email": "root@example.com", "password": PASSWORD})
    assert first.status_code == 429
    assert first.headers["retry-after"] == "1"
    clock.advance(1)
    assert _log_in(client_at("203.0.113.4"), "root@example.com", "wrong password") == 401
    second = owner.post("/api/auth/login", json={"email": "root@example.com", "password": PASSWORD})
    assert second.status_code == 429
    assert second.headers["retry-after"] == "2"
    clock.advance(2)
    assert _log_in(owner, "root@example.com", PASSWORD) == 200
    # Another account is not slowed down.
    make_user("ann@example.com")
    assert _log_in(owner, "ann@example.com", PASSWORD) == 200


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    app: FastAPI,
    client_at: Callable[[str], TestClient],
    make_user: Callable[..., User],
    database: Database,
) -> None:
    _configure(
        app,
        login_max_failures_per_account_and_address=3,
        login_max_failures_per_address=10,
        login_account_backoff_after=50,
        trusted_proxies=["10.0.0.0/8"],
    )
    make_user("root@example.com", "admin")
    # Not from a trusted proxy: the header is the client's own claim, and ignored.
    direct = client_at("203.0.113.66")
    for number in range(3):
        forged = {"X-Forwarded-For": f"192.0.2.{number}"}
        assert _log_in(direct, "root@example.com", "guess guess guess", **forged) == 401
    assert _log_in(direct, "root@example.com", PASSWORD, **{"X-Forwarded-For": "192.0.2.9"}) == 429
    # Through the trusted proxy: the address it forwarded for is the client.
    proxy = client_at("10.0.0.2")
    attacker = {"X-Forwarded-For": "198.51.100.66"}
    for _ in range(3):
        assert _log_in(proxy, "root@example.com", "guess guess guess", **attacker) == 401
    assert _log_in(proxy, "root@example.com", PASSWORD, **attacker) == 429
    # A client cannot pick its address by writing the header itself: the proxy appends.
    spoofed = {"X-Forwarded-For": "198.51.100.7, 198.51.100.66"}
    assert _log_in(proxy, "root@example.com", PASSWORD, **spoofed) == 429
    owner = {"X-Forwarded-For": "198.51.100.7"}
    assert _log_in(proxy, "root@example.com", PASSWORD, **owner) == 200
    with database.session() as session:
        recorded = session.execute(select(WebSession.client_address)).scalars().all()
    assert recorded == ["198.51.100.7"]


def test_the_html_login_form_uses_the_same_client_address(
    app: FastAPI, client_at: Callable[[str], TestClient], make_user: Callable[..., User]
) -> None:
    _configure(
        app,
        login_max_failures_per_account_and_address=2,
        login_account_backoff_after=50,
        trusted_proxies=["10.0.0.2"],
    )
    make_user("web@example.com")
    proxy = client_at("10.0.0.2")

    def form_login(password: str, forwarded_for: str) -> str:
        response = proxy.post(
            "/auth/login",
            data={"username": "web@example.com", "password": password},
            headers={"X-Forwarded-For": forwarded_for},
            follow_redirects=False,
        )
        assert response.status_code == 303
        return response.headers["location"]

    for _ in range(2):
        assert form_login("nope", "198.51.100.66").startswith("/login?notice=invalid")
    assert form_login(PASSWORD, "198.51.100.66").startswith("/login?notice=rate_limited")
    assert form_login(PASSWORD, "198.51.100.7") == "/"


def test_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEHU_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.5")
    assert [str(network) for network in Settings().trusted_proxies] == [
        "10.0.0.0/8",
        "192.168.1.5/32",
    ]
    monkeypatch.setenv("KEHU_TRUSTED_PROXIES", "")
    assert Settings().trusted_proxies == ()
    monkeypatch.setenv("KEHU_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ValidationError):
        Settings()
