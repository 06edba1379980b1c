"""An app over the test store, users of every role, and clients that log in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from office import Office, build_office

from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.core.users.tables import User
from kehu.store.db import Database

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its production cost makes every login ~0.1 s; the API tests log in often.
    (tests/core/users checks the real parameters.)"""
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(
        database_url=database.url,
        session_cookie_secure=False,
        login_max_failures_per_account_and_address=3,
        login_max_failures_per_address=6,
        max_request_bytes=16_384,
        api_max_page_size=50,
    )


# One app per distinct settings (the store aside) in a test process. FastAPI analyses every
# route's dependencies for each new app: building one per test was a quarter of the API tests'
# time. An app reads its store and settings from ``app.state`` (routes and middleware alike), so
# pointing a built app at the next test's store is all a new app would do differently.
_APPS: dict[str, FastAPI] = {}


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    key = settings.model_dump_json(exclude={"database_url"})
    built = _APPS.get(key)
    if built is None:
        built = _APPS[key] = create_app(settings, database)
    built.state.settings = settings
    built.state.database = database
    return built


@pytest.fixture
def make_user(database: Database, settings: Settings) -> Callable[..., User]:
    def make(email: str, role: str = "agent", password: str = PASSWORD) -> User:
        with database.session() as session:
            return users.create_user(
                session,
                SYSTEM,
                email=email,
                display_name=email.split("@")[0].title(),
                role=role,
                password=password,
                settings=settings,
            )

    return make


@pytest.fixture
def client_factory(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    clients: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(client_factory: Callable[[], TestClient]) -> TestClient:
    return client_factory()


def _login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log ``client`` in; returns the CSRF token (also set as the client's default header)."""
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return str(token)


@pytest.fixture
def login() -> Callable[..., str]:
    return _login


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin@example.com", "admin")


@pytest.fixture
def admin_client(admin: User, client_factory: Callable[[], TestClient]) -> TestClient:
    client = client_factory()
    _login(client, admin.email)
    return client


@pytest.fixture
def office(
    app: FastAPI,
    database: Database,
    make_user: Callable[..., User],
    client_factory: Callable[[], TestClient],
    tmp_path: Path,
) -> Office:
    """A small service desk with users of every role (see tests/api/office.py)."""
    return build_office(app, database, make_user, client_factory, tmp_path)
