"""Helpers of the public page tests: settings with a signing key, a service promise in the store,
and a complaint filed with a known status token."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.links import SignedLink
from kehu.desk import routing, sla_store, ticket_commands, ticket_messages
from kehu.desk.calendars import BusinessCalendar
from kehu.desk.tables import Ticket
from kehu.store.db import Database
from settings_support import DEFAULT_SETTINGS

#: A status token the tests know (real ones come from secrets.token_urlsafe(32)).
KNOWN_TOKEN = "known-status-token-for-the-page-tests-0123456"


def public_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "currency": "CNY",
        "timezone": "Asia/Shanghai",
        "secret_key": "web-test-secret-long-enough",
        "data_dir": tmp_path / "data",
        "public_min_fill_seconds": 0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def seed_promise(database: Database) -> None:
    """Office hours 09:00-18:00 Mon-Fri in Shanghai; a 4 h / 3 day promise; one team."""
    with database.session() as session:
        calendar = sla_store.create_calendar(
            session,
            SYSTEM,
            BusinessCalendar.office_hours("Asia/Shanghai", name="Shanghai office"),
        )
        sla_store.create_policy(
            session,
            SYSTEM,
            name="web promise",
            first_response=timedelta(hours=4),
            resolution=timedelta(hours=24),
            calendar_id=calendar.id,
        )
        team = routing.create_team(session, SYSTEM, "Front desk")
        routing.create_routing_rule(session, SYSTEM, name="all", team_id=team.id)


def seed_public_ticket(
    database: Database,
    customer_id: int,
    *,
    token: str = KNOWN_TOKEN,
    subject: str = "C-0042",
    description: str = "C-0043",
    reply: str | None = "C-0044",
    note: str | None = None,
) -> int:
    """A web-form ticket of ``customer_id`` with a status link of ``token`` (and a staff reply,
    and an internal note when given)."""
    from kehu.desk.schemas import TicketCreate

    now = datetime.now(UTC)
    with database.session() as session:
        ticket = ticket_commands.create_ticket(
            session,
            SYSTEM,
            TicketCreate(
                customer_id=customer_id,
                kind="complaint",
                channel="web_form",
                subject=subject,
                description=description,
            ),
            now=now - timedelta(minutes=5),
            acknowledge=False,
            settings=DEFAULT_SETTINGS,
        )
        session.add(
            SignedLink(
                purpose="ticket_status",
                subject_type="ticket",
                subject_id=ticket.id,
                digest=hashlib.sha256(token.encode()).hexdigest(),
                created_at=now - timedelta(minutes=5),
                expires_at=now + timedelta(days=90),
            )
        )
        if note:
            ticket_messages.add_note(
                session,
                SYSTEM,
                ticket.id,
                note,
                now=now - timedelta(minutes=3),
                settings=DEFAULT_SETTINGS,
            )
        if reply:
            ticket_messages.reply(
                session,
                SYSTEM,
                ticket.id,
                reply,
                now=now - timedelta(minutes=2),
                settings=DEFAULT_SETTINGS,
            )
        return ticket.id


def ticket(database: Database, ticket_id: int) -> Ticket:
    with database.session() as session:
        row = session.get(Ticket, ticket_id)
        assert row is not None
        session.expunge(row)
        return row
