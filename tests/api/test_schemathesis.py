"""Schemathesis over the whole API, as an administrator and as an agent, each calling with an API
token that holds every scope of its user.

What must hold for every generated request, valid or not, in its path, query, headers and body:
no server error (5xx); and a success answer matches the schema the OpenAPI document gives for it.
Error answers are not held to the document: FastAPI documents 422 as ``HTTPValidationError``,
while kehu answers every error with ``{"error": {...}}`` (see :mod:`kehu.http.errors`).

Each caller works on a store of its own, a migrated SQLite file (and a PostgreSQL database when
``KEHU_TEST_POSTGRES_URL`` is set) holding the small service desk of ``office.py`` and a ticket,
so that small generated ids name real rows; the store lives for the module, so later operations
also meet the rows earlier ones created. Requests go to the app in-process, and nothing is
written outside the module's temporary directory (Hypothesis' example database is off).

The short form runs a few examples per operation with a fixed seed, in the normal test command;
``KEHU_SCHEMATHESIS_EXAMPLES=100`` is the long form (it adds schemathesis' coverage phase: the
boundary values of every parameter).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis.configuration import set_hypothesis_home_dir
from office import PASSWORD, Office, build_office
from pydantic import SecretStr
from schemathesis import Case, Response
from schemathesis.python import asgi

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings, get_settings
from kehu.core.users import service as users
from kehu.core.users.tables import User
from kehu.errors import AuthenticationError
from kehu.store.db import Database
from store_support import DIALECTS, store_at

EXAMPLES = int(os.environ.get("KEHU_SCHEMATHESIS_EXAMPLES", "10"))
SECRET_KEY = "schemathesis-secret-long-enough"

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 6,
        # Reported as Python warnings, which fail this test suite; the checks say enough.
        "warnings": False,
        "generation": {
            "mode": "all",  # valid and invalid requests
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            # The boundary values of every parameter (one past each maximum, every other
            # method on each path...): triples the time, so the long form only.
            "coverage": {"enabled": EXAMPLES >= 100},
            "stateful": {"enabled": False},
        },
    }
)


def _document() -> dict[str, object]:
    """The OpenAPI document (it does not depend on the store, which is never opened here)."""
    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    return create_app(settings, Database("sqlite://")).openapi()


# Loaded at import, so that every operation is a test of its own; the stores and apps are
# fixtures, and each case is sent to its caller's app. (schemathesis.pytest.from_fixture would
# load it from a fixture, but 4.32 reads a Function._nodeid that pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


@dataclass
class TokenCaller:
    """Calls the API with an API token of one user, and keeps that user able to call: when a
    generated request took the token away (``DELETE /api/tokens/{id}``, a password reset) or
    changed the user (another role, deactivated), the next case finds them as they were."""

    app: FastAPI
    database: Database
    settings: Settings
    user_id: int
    role: str
    secret: str = ""

    def restore(self) -> None:
        with self.database.session() as session:
            user = session.get(User, self.user_id)
            assert user is not None
            if not user.is_active:
                users.activate_user(session, SYSTEM, user.id)
            if user.role != self.role:
                users.update_user(session, SYSTEM, user.id, role=self.role)
            try:
                users.resolve_api_token(session, self.secret)
                return
            except AuthenticationError:
                pass
            principal = users.principal_for(session, user)
            self.secret = users.create_api_token(
                session,
                principal,
                name="schemathesis",
                scopes=sorted(principal.permissions),
                settings=self.settings,
            ).secret

    def call(self, case: Case) -> Response:
        response = case.call(app=self.app, headers={"Authorization": f"Bearer {self.secret}"})
        if response.status_code == 401 or case.path.startswith("/api/users"):
            self.restore()
        return response


@pytest.fixture(scope="module", params=["admin", "agent_a"])
def role(request: pytest.FixtureRequest) -> str:
    """Who calls: the office's administrator, or an agent of its front team."""
    return str(request.param)


@pytest.fixture(scope="module")
def workdir(role: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The caller's directory. Code that reads the process-wide settings (the outbox, the
    signing key) keeps to it too, and so does Hypothesis, which caches Unicode tables for the
    strings schemathesis generates in ``./.hypothesis`` otherwise."""
    path = tmp_path_factory.mktemp(f"schemathesis-{role}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEHU_DATA_DIR", str(path / "data"))
        patch.setenv("KEHU_OUTBOX_DIR", str(path / "outbox"))
        patch.setenv("KEHU_SECRET_KEY", SECRET_KEY)
        get_settings.cache_clear()
        set_hypothesis_home_dir(path / "hypothesis")
        yield path
    set_hypothesis_home_dir(None)  # back to HYPOTHESIS_STORAGE_DIRECTORY or ./.hypothesis
    get_settings.cache_clear()


@pytest.fixture(scope="module", params=DIALECTS)
def store(request: pytest.FixtureRequest, workdir: Path) -> Iterator[Database]:
    """A freshly migrated store of the caller's own (as tests/conftest.py's ``database``, for
    the module)."""
    with store_at(request.param, workdir, "head") as database:
        yield database


@pytest.fixture(scope="module")
def served(store: Database, workdir: Path) -> Iterator[tuple[FastAPI, Settings]]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=store.url,
        session_cookie_secure=False,
        max_request_bytes=16_384,
        api_max_page_size=50,
        data_dir=workdir / "data",
        outbox_dir=workdir / "outbox",
        secret_key=SecretStr(SECRET_KEY),
        # every generated complaint and lookup is handled, not refused as a flood
        public_max_complaints_per_address=1_000_000,
        public_max_complaints_per_email=1_000_000,
        public_max_failed_lookups_per_address=1_000_000,
    )
    yield create_app(settings, store), settings
    # schemathesis keeps an app's lifespan running until the process ends; end it with the store
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def caller(
    role: str, store: Database, served: tuple[FastAPI, Settings], workdir: Path
) -> TokenCaller:
    """The office of ``office.py`` and a ticket in the store, and ``role``'s caller."""
    app, settings = served
    clients: list[TestClient] = []

    def make_user(email: str, user_role: str = "agent", password: str = PASSWORD) -> User:
        with store.session() as session:
            return users.create_user(
                session,
                SYSTEM,
                email=email,
                display_name=email.split("@")[0].title(),
                role=user_role,
                password=password,
                settings=settings,
            )

    def make_client() -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    office: Office = build_office(app, store, make_user, make_client, workdir)
    office.ticket()
    for client in clients:
        client.__exit__(None, None, None)
    user = office.users[role]
    token_caller = TokenCaller(app, store, settings, user.id, user.role)
    token_caller.restore()
    return token_caller


@schema.parametrize()
def test_no_server_error(case: Case, caller: TokenCaller) -> None:
    response = caller.call(case)
    checks: list[schemathesis.CheckFunction] = [schemathesis.checks.not_a_server_error]
    if 200 <= response.status_code < 300:
        checks.append(schemathesis.checks.response_schema_conformance)
    case.validate_response(response, checks=checks)
