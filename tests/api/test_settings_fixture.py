"""The API tests' settings are in force: three wrong passwords for one account from one address
lock it there (the fixture once passed the setting's old name, and the default of 5 applied)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from kehu.core.config import Settings
from kehu.core.users.tables import User


def test_the_fixture_locks_an_account_after_three_failures(
    settings: Settings, client: TestClient, make_user: Callable[..., User]
) -> None:
    assert settings.login_max_failures_per_account_and_address == 3
    make_user("ida@example.com")
    for _ in range(3):
        wrong = client.post(
            "/api/auth/login", json={"email": "ida@example.com", "password": "wrong password"}
        )
        assert wrong.status_code == 401
    right = client.post(
        "/api/auth/login", json={"email": "ida@example.com", "password": "correct horse battery"}
    )
    assert right.status_code == 429
