"""Liveness, readiness, OpenAPI and a docs page that loads nothing from the internet."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from kehu.app import create_app
from kehu.core.config import Settings
from kehu.store.db import Database


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_readyz_refuses_an_unmigrated_store(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    settings = Settings(database_url=database.url)
    with TestClient(create_app(settings, database)) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "StoreError"
    assert "kehu db upgrade" in response.json()["error"]["message"]
    database.dispose()


def test_openapi_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/auth/login",
        "/api/users",
        "/api/tokens",
        "/api/value/scores",
        "/api/transactions",
        "/api/customers/{external_id}/score",
        "/readyz",
    ):
        assert path in spec["paths"]


def test_docs_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "/openapi.json" in html
    assert "cdn" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/redoc").status_code == 404


def test_security_headers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
