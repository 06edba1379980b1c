"""One request, one unit of work: authentication only reads, and the session's or token's
last-use time is recorded after the response, in a transaction of its own.

The defect this pins (issue 6, defect 1): after a minute idle, the first request of a web
session updated ``web_sessions.last_seen_at`` in one store session while the page wrote in
another; on SQLite the page's write waited for its own request's lock until ``busy_timeout`` and
failed with 503 "database is locked", and every other writer waited meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from office import Office, build_office
from sqlalchemy import select

from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.core.users.tables import ApiToken, User, WebSession
from kehu.store.base import utc_now
from kehu.store.db import Database

#: Short, so that a request waiting for a lock its own request holds fails fast (not in 30 s).
BUSY_TIMEOUT_SECONDS = 3.0
#: The last-use time is recorded again once it is this old: the idle gap below is real.
TOUCH_SECONDS = 1.0
PASSWORD = "correct horse battery"


@pytest.fixture
def office_on_sqlite(tmp_path: Path) -> Iterator[Office]:
    database = Database(
        f"sqlite:///{tmp_path / 'kehu.db'}", busy_timeout_seconds=BUSY_TIMEOUT_SECONDS
    )
    database.upgrade()
    settings = Settings(
        database_url=database.url,
        session_cookie_secure=False,
        session_touch_seconds=TOUCH_SECONDS,
        data_dir=tmp_path / "data",
    )
    app = create_app(settings, database)
    clients: list[TestClient] = []

    def make_client() -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    def make_user(email: str, role: str = "agent", password: str = PASSWORD) -> User:
        with database.session() as session:
            return users.create_user(
                session,
                SYSTEM,
                email=email,
                display_name=email.split("@")[0],
                role=role,
                password=password,
                settings=settings,
            )

    yield build_office(app, database, make_user, make_client, tmp_path)
    for client in clients:
        client.__exit__(None, None, None)
    database.dispose()


def _last_seen(database: Database, email: str) -> list[WebSession]:
    with database.session() as session:
        user_id = session.execute(select(User.id).where(User.email == email)).scalar_one()
        return list(
            session.execute(select(WebSession).where(WebSession.user_id == user_id)).scalars()
        )


def _timed(call: Callable[[], int]) -> tuple[int, float]:
    started = time.monotonic()
    status = call()
    return status, time.monotonic() - started


def test_a_form_sent_after_an_idle_gap_does_not_wait_for_its_own_bookkeeping(
    office_on_sqlite: Office,
) -> None:
    office = office_on_sqlite
    ticket = office.ticket("manager")
    other_ticket = office.ticket("manager", subject="Invoice total is wrong")
    agent = office.client("manager")
    other = office.token_client("admin", ["tickets:read", "tickets:write", "tickets:all_teams"])
    other.get("/api/auth/me")  # the token's first use is recorded now, not during the burst
    before = _last_seen(office.database, office.users["manager"].email)
    assert len(before) == 1

    time.sleep(TOUCH_SECONDS + 0.2)  # a real idle gap: the last-use time is due again

    results: dict[str, tuple[int, float]] = {}

    def post_form() -> None:
        results["form"] = _timed(
            lambda: (
                agent.post(
                    f"/tickets/{ticket['id']}/note",
                    data={
                        "expected_version": str(ticket["version"]),
                        "body": "Called the courier; a new cup is on its way.",
                        "csrf_token": agent.headers["X-CSRF-Token"],
                    },
                    follow_redirects=False,
                ).status_code
            )
        )

    def post_api_note() -> None:
        time.sleep(0.05)  # the second writer arrives while the form is being handled
        results["api"] = _timed(
            lambda: (
                other.post(
                    f"/api/tickets/{other_ticket['id']}/notes", json={"body": "Courier informed."}
                ).status_code
            )
        )

    writers = [threading.Thread(target=post_form), threading.Thread(target=post_api_note)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=4 * BUSY_TIMEOUT_SECONDS)

    form_status, form_seconds = results["form"]
    api_status, api_seconds = results["api"]
    assert form_status == 303, results
    assert api_status == 201, results
    # Neither writer waited for a lock until the busy timeout.
    assert form_seconds < BUSY_TIMEOUT_SECONDS * 0.8, results
    assert api_seconds < BUSY_TIMEOUT_SECONDS * 0.8, results

    # The bookkeeping still happened, after the response.
    after = _last_seen(office.database, office.users["manager"].email)
    assert after[0].last_seen_at > before[0].last_seen_at


def test_reading_pages_and_api_leaves_no_write_inside_the_request(
    office_on_sqlite: Office,
) -> None:
    """A GET authenticates and answers without writing in the request's transaction; the last-use
    times move forward once they are due, and only forward."""
    office = office_on_sqlite
    client = office.client("agent_a")
    token_client = office.token_client("agent_a", ["tickets:read"])
    assert token_client.get("/api/tickets").status_code == 200
    with office.database.session() as session:
        token = session.execute(select(ApiToken)).scalars().one()
        first_use = token.last_used_at
    assert first_use is not None

    # Within the touch interval nothing is written again.
    assert token_client.get("/api/tickets").status_code == 200
    with office.database.session() as session:
        assert session.execute(select(ApiToken.last_used_at)).scalar_one() == first_use

    time.sleep(TOUCH_SECONDS + 0.1)
    assert client.get("/tickets").status_code == 200
    assert token_client.get("/api/tickets").status_code == 200
    with office.database.session() as session:
        assert session.execute(select(ApiToken.last_used_at)).scalar_one() > first_use


def test_recording_last_use_never_moves_it_back(database: Database, settings: Settings) -> None:
    with database.session() as session:
        user = users.create_user(
            session,
            SYSTEM,
            email="a@example.com",
            display_name="A",
            role="agent",
            password=PASSWORD,
            settings=settings,
        )
        opened = users.open_web_session(session, user, settings)
        session_id, seen_at = opened.web_session.id, opened.web_session.last_seen_at
    earlier = users.LastSeen("web_session", session_id, seen_at - timedelta(minutes=5))
    users.record_last_seen(database, earlier)
    with database.session() as session:
        assert session.get(WebSession, session_id).last_seen_at == seen_at  # type: ignore[union-attr]

    due = users.last_seen_due("web_session", session_id, seen_at, settings, now=utc_now())
    assert due is None  # just opened: nothing to record yet
    later = users.last_seen_due(
        "web_session",
        session_id,
        seen_at,
        settings,
        now=seen_at + timedelta(seconds=settings.session_touch_seconds),
    )
    assert later is not None
    users.record_last_seen(database, later)
    with database.session() as session:
        assert session.get(WebSession, session_id).last_seen_at == later.at  # type: ignore[union-attr]
