"""A domain kehu does not have yet (a loyalty programme) plugs into the platform with the
platform's own registries alone: permissions and grants, a job with its context, an event
handler, a single-use link, an outbox message with marketing consent, personal fields. Nothing
here edits or imports another domain (see docs/architecture.md, "Adding a domain")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.orm import Session

import kehu.domains  # noqa: F401  (the installed domains, as in production)
from kehu.core import events, outbox
from kehu.core.auth import SYSTEM, Principal
from kehu.core.auth import permissions as permission_registry
from kehu.core.config import Settings
from kehu.core.jobs import JOB_REGISTRY, JobContext, JobSpec, run_due_jobs
from kehu.core.links import issue_link, use_link
from kehu.core.outbox import OutboxMessage
from kehu.core.personal_data import PersonalDataRegistry
from kehu.errors import NotFoundError
from kehu.store.db import Database

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_permissions_and_grants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(permission_registry, "_PERMISSIONS", dict(permission_registry._PERMISSIONS))
    monkeypatch.setattr(
        permission_registry,
        "_GRANTS",
        {role: set(granted) for role, granted in permission_registry._GRANTS.items()},
    )
    permission_registry.register_permissions(
        "loyalty",
        {"loyalty:read": "see points", "loyalty:adjust": "correct a balance"},
        grants={"manager": ["loyalty:read", "loyalty:adjust"], "agent": ["loyalty:read"]},
    )
    agent = Principal.for_user(5, ["agent"])
    manager = Principal.for_user(6, ["manager"])
    admin = Principal.for_user(7, ["admin"])
    assert agent.can("loyalty:read") and not agent.can("loyalty:adjust")
    assert manager.can("loyalty:adjust") and admin.can("loyalty:adjust")
    assert SYSTEM.can("loyalty:adjust")  # registered after SYSTEM was made
    with pytest.raises(ValueError, match="already registered by 'desk'"):
        permission_registry.register_permissions("loyalty", {"tickets:read": "mine now"})
    with pytest.raises(ValueError, match="unknown permission"):
        agent.can("loyalty:redeem")


def test_a_job_gets_the_workers_settings_and_an_event_handler_runs_in_the_transaction(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, outbox_dir=tmp_path / "outbox")  # type: ignore[call-arg]
    seen: list[tuple[Settings, datetime]] = []

    def expire_points(context: JobContext) -> None:
        seen.append((context.settings, context.now))

    monkeypatch.setitem(
        JOB_REGISTRY, "loyalty_expiry", JobSpec("loyalty_expiry", expire_points, timedelta(days=1))
    )
    outcomes = run_due_jobs(database, NOW, "w1", settings=settings)
    assert "loyalty_expiry" in [o.run.name for o in outcomes] and seen == [(settings, NOW)]

    awarded: list[int] = []

    def award_points(session: Session, event: events.PurchaseRecorded) -> None:
        awarded.append(event.customer_id)
        outbox.enqueue(
            session,
            purpose="points_statement",
            subject="Your points",
            body="You earned points.",
            now=event.at,
            customer_id=event.customer_id,
            regarding=("loyalty_account", event.customer_id),
            consent="marketing",
        )

    events.subscribe(events.PurchaseRecorded, award_points)
    try:
        with pytest.raises(RuntimeError), database.session() as session:
            events.publish(
                session,
                events.PurchaseRecorded(customer_id=3, import_id=1, count=2, latest=NOW, at=NOW),
            )
            raise RuntimeError("the import fails after the event")
        with database.session() as session:
            # the handler's message went with the failed transaction
            assert session.query(OutboxMessage).count() == 0
            events.publish(
                session,
                events.PurchaseRecorded(customer_id=3, import_id=2, count=1, latest=NOW, at=NOW),
            )
        with database.session() as session:
            message = session.query(OutboxMessage).one()
            assert (message.regarding_type, message.consent) == ("loyalty_account", "marketing")
    finally:
        events.unsubscribe(events.PurchaseRecorded, award_points)
    assert awarded == [3, 3]


def test_a_single_use_link(database: Database) -> None:
    with database.session() as session:
        token = issue_link(
            session,
            "member_page",
            ("member", 7),
            now=NOW,
            lifetime=timedelta(days=30),
            single_use=True,
        ).token
    with database.session() as session:
        assert use_link(session, "member_page", token, now=NOW).subject_id == 7
    with database.session() as session, pytest.raises(NotFoundError):
        use_link(session, "member_page", token, now=NOW)  # spent
    with database.session() as session, pytest.raises(NotFoundError):
        use_link(session, "ticket_status", token, now=NOW)  # another purpose


def test_personal_fields_of_a_new_table() -> None:
    members = Table(
        "loyalty_members",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer),
        Column("nickname", String(100)),
        Column("level", String(20)),
    )
    registry = PersonalDataRegistry()
    registry.register_personal_fields(members, ["nickname"], erase="redact")
    registry.declare_not_personal(members, ["level"], "a level code")
    assert registry.unaccounted_columns(members.metadata) == []
