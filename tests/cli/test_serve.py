"""``kehu serve`` and the address of the links given to customers: production refuses to start
without KEHU_PUBLIC_BASE_URL (one line, exit 2, the store untouched), a bad address is refused
naming the setting, and the links of a served app are on the configured address, or in
development on the address it listens on, whatever Host header a request sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kehu.cli import main
from kehu.core.auth import SYSTEM
from kehu.core.config import get_settings
from kehu.core.outbox import OutboxMessage
from kehu.core.users import service as users
from kehu.store.db import Database

PASSWORD = "correct horse battery"

COMPLAINT = {
    "name": "Erika Mustermann",
    "email": "erika@example.com",
    "subject": "The parcel arrived broken",
    "description": "The vase is in pieces.",
    "contact_by_email": True,
}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """KEHU_* variables of a fresh SQLite store in ``tmp_path`` (settings cache cleared)."""
    path = tmp_path / "kehu.db"
    monkeypatch.chdir(tmp_path)  # no .env of the working tree
    monkeypatch.setenv("KEHU_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("KEHU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KEHU_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("COLUMNS", "60")  # narrower than the message: it must not be wrapped
    for name in ("KEHU_ENVIRONMENT", "KEHU_PUBLIC_BASE_URL", "KEHU_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[FastAPI]:
    """The apps ``kehu serve`` hands to uvicorn (which is not started)."""
    apps: list[FastAPI] = []

    def run(app: FastAPI, **_options: Any) -> None:
        apps.append(app)

    monkeypatch.setattr(uvicorn, "run", run)
    return apps


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def _one_error_line(captured: pytest.CaptureResult[str]) -> str:
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_production_without_the_public_address_refuses_to_start(
    store: Path,
    served: list[FastAPI],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KEHU_ENVIRONMENT", "production")
    assert run(["serve", "--port", "8123", "--no-worker"]) == 2
    line = _one_error_line(capsys.readouterr())
    assert "ConfigurationError" in line and "KEHU_PUBLIC_BASE_URL must be set" in line
    assert served == [] and not store.exists()  # refused before the store was opened


@pytest.mark.parametrize(
    "address", ["ftp://service.example.com", "https://service.example.com/?a=b", "https://"]
)
def test_a_bad_public_address_refuses_to_start_naming_the_setting(
    address: str,
    store: Path,
    served: list[FastAPI],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KEHU_PUBLIC_BASE_URL", address)
    assert run(["serve", "--port", "8123", "--no-worker"]) == 2
    line = _one_error_line(capsys.readouterr())
    assert "ConfigurationError" in line and "KEHU_PUBLIC_BASE_URL must be an absolute" in line
    assert served == [] and not store.exists()


def _complain_through_a_forged_host(app: FastAPI, database_path: Path) -> tuple[str, str]:
    """File a complaint with ``Host: evil.example``; the answer's status link and the body of
    the acknowledgement e-mail queued for the customer."""
    with TestClient(app) as client:
        response = client.post(
            "/api/public/complaints", json=COMPLAINT, headers={"Host": "evil.example"}
        )
    assert response.status_code == 201, response.text
    database = Database(f"sqlite:///{database_path}")
    try:
        with database.session() as session:
            body = session.scalars(select(OutboxMessage.body)).one()
    finally:
        database.dispose()
    return response.json()["status_url"], body


@pytest.mark.parametrize(
    ("environment", "configured", "listening", "base"),
    [
        ("development", None, ["--port", "8123"], "http://127.0.0.1:8123"),
        ("development", None, ["--host", "0.0.0.0", "--port", "8124"], "http://127.0.0.1:8124"),
        ("development", "https://service.example.com/", [], "https://service.example.com"),
        ("production", "https://service.example.com", [], "https://service.example.com"),
    ],
    ids=["development", "development-every-address", "configured", "production"],
)
def test_served_links_are_on_the_configured_or_listening_address_never_the_host_header(
    environment: str,
    configured: str | None,
    listening: list[str],
    base: str,
    store: Path,
    served: list[FastAPI],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KEHU_ENVIRONMENT", environment)
    if configured is not None:
        monkeypatch.setenv("KEHU_PUBLIC_BASE_URL", configured)
    assert run(["serve", *listening, "--no-worker"]) == 0
    [app] = served
    status_url, email = _complain_through_a_forged_host(app, store)
    assert status_url.startswith(f"{base}/status/")
    assert f"\n{status_url}\n" in email
    assert "evil.example" not in status_url + email
    told = capsys.readouterr().out
    if configured is None:  # the operator is told where development links lead
        assert f"links in messages to customers point to {base}" in told
    else:
        assert "links in messages to customers" not in told


def test_staff_issued_links_of_a_served_app_ignore_the_host_header(
    store: Path, served: list[FastAPI]
) -> None:
    assert run(["serve", "--port", "8125", "--no-worker"]) == 0
    [app] = served
    database = Database(f"sqlite:///{store}")
    try:
        with database.session() as session:
            users.create_user(
                session,
                SYSTEM,
                email="admin@example.com",
                display_name="Admin",
                role="admin",
                password=PASSWORD,
                settings=get_settings(),
            )
    finally:
        database.dispose()
    with TestClient(app) as client:
        filed = client.post("/api/public/complaints", json=COMPLAINT).json()
        login = {"email": "admin@example.com", "password": PASSWORD}
        csrf = client.post("/api/auth/login", json=login).json()["csrf_token"]
        issued = client.post(
            f"/api/tickets/{filed['ticket_id']}/status-links",
            headers={"Host": "evil.example", "X-CSRF-Token": csrf},
        )
    assert issued.status_code == 201, issued.text
    link = issued.json()
    assert link["status_url"] == f"http://127.0.0.1:8125/status/{link['status_token']}"
