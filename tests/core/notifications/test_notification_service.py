"""The platform's in-app notifications: the registry of kinds, a notification's title in the
recipient's language with its e-mail through the outbox, and reading and marking one's own
(through the permission layer: another's notification is "not found")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import kehu.domains  # noqa: F401  (every domain's registrations, the desk's kinds among them)
from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.notifications import (
    Notification,
    link_of,
    list_notifications,
    mark_all_read,
    mark_read,
    notify,
    register_notification_kind,
    set_email_wanted,
    unread_count,
)
from kehu.core.outbox import OutboxMessage
from kehu.core.users.tables import User
from kehu.errors import NotFoundError, PermissionDeniedError
from kehu.store.db import Database
from staff_support import add_staff

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
MENTIONED = "desk.mentioned"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        outbox_dir=tmp_path / "outbox",
        public_base_url="https://kehu.example.com",
        handling_cost_per_hour=Decimal("36"),
    )


@pytest.fixture
def staff(database: Database) -> Database:
    with database.session() as session:
        add_staff(session, 1, 2, 3)
        session.get_one(User, 2).locale = "zh-Hans"
        session.get_one(User, 2).display_name = "李娜"
        session.get_one(User, 3).is_active = False
    return database


def me(user_id: int) -> Principal:
    return Principal.for_user(user_id, ["agent"])


def _mention(session: Session, settings: Settings, recipient: int, **kw: object) -> object:
    return notify(
        session,
        recipient_id=recipient,
        kind=MENTIONED,
        values={"who": "Ana", "ticket_id": 12, "subject": "Parcel broken"},
        regarding=("ticket", 12),
        actor_id=kw.pop("actor_id", 1),  # type: ignore[arg-type]
        now=NOW,
        settings=settings,
    )


def test_a_notification_is_titled_in_the_recipients_language_and_mailed(
    staff: Database, settings: Settings
) -> None:
    with staff.session() as session:
        english = _mention(session, settings, 1, actor_id=2)
        chinese = _mention(session, settings, 2)
    with staff.session() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        mails = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert english is not None and chinese is not None
    assert [(n.recipient_id, n.kind, n.regarding_type, n.regarding_id) for n in rows] == [
        (1, MENTIONED, "ticket", 12),
        (2, MENTIONED, "ticket", 12),
    ]
    assert rows[0].title == "Ana mentioned you on ticket #12: Parcel broken"
    assert rows[1].title == "Ana在工单 #12 中提到了您:Parcel broken"
    assert rows[0].read_at is None and rows[0].created_at == NOW
    assert [(m.recipient, m.purpose, m.customer_id) for m in mails] == [
        ("staff1@example.com", "notification", None),
        ("staff2@example.com", "notification", None),
    ]
    assert mails[0].subject == "[kehu] Ana mentioned you on ticket #12: Parcel broken"
    assert "https://kehu.example.com/tickets/12" in mails[0].body
    assert "Open it in kehu" in mails[0].body
    assert (
        "在 kehu 中打开" in mails[1].body
        and "https://kehu.example.com/notifications" in mails[1].body
    )


def test_nobody_is_told_of_their_own_act_nor_when_deactivated(
    staff: Database, settings: Settings
) -> None:
    with staff.session() as session:
        assert _mention(session, settings, 1, actor_id=1) is None
        assert _mention(session, settings, 3) is None
        assert _mention(session, settings, 99) is None
        assert session.scalars(select(Notification)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_user_may_turn_the_emails_off_and_keeps_the_bell(
    staff: Database, settings: Settings
) -> None:
    with staff.session() as session:
        assert set_email_wanted(session, me(2), False, now=NOW) is False
        _mention(session, settings, 2)
        set_email_wanted(session, me(1), False, now=NOW)
        set_email_wanted(session, me(1), True, now=NOW)
        _mention(session, settings, 1, actor_id=2)
    with staff.session() as session:
        assert session.scalar(select(Notification.id).where(Notification.recipient_id == 2))
        assert [m.recipient for m in session.scalars(select(OutboxMessage))] == [
            "staff1@example.com"
        ]


def test_one_reads_and_marks_only_ones_own(staff: Database, settings: Settings) -> None:
    with staff.session() as session:
        first = _mention(session, settings, 1, actor_id=2)
        _mention(session, settings, 1, actor_id=2)
        theirs = _mention(session, settings, 2)
        assert isinstance(first, Notification) and isinstance(theirs, Notification)
        first_id, theirs_id = first.id, theirs.id
    with staff.session() as session:
        assert unread_count(session, me(1)) == 2
        assert unread_count(session, me(2)) == 1
        assert [n.recipient_id for n in list_notifications(session, me(1))] == [1, 1]
        with pytest.raises(NotFoundError):
            mark_read(session, me(1), theirs_id, now=NOW)
        read = mark_read(session, me(1), first_id, now=NOW + timedelta(minutes=1))
        assert read.read_at == NOW + timedelta(minutes=1)
        # reading it again keeps when it was first read
        again = mark_read(session, me(1), first_id, now=NOW + timedelta(hours=1))
        assert again.read_at == NOW + timedelta(minutes=1)
        assert unread_count(session, me(1)) == 1
        assert [n.id for n in list_notifications(session, me(1), unread_only=True)] != [first_id]
        assert mark_all_read(session, me(1), now=NOW + timedelta(hours=2)) == 1
        assert unread_count(session, me(1)) == 0
        assert unread_count(session, me(2)) == 1  # another's stay unread
        assert list_notifications(session, SYSTEM) == []


def test_reading_needs_the_permission(staff: Database) -> None:
    token = me(1).with_scopes(["tickets:read"])
    with staff.session() as session:
        with pytest.raises(PermissionDeniedError):
            unread_count(session, token)
        with pytest.raises(PermissionDeniedError):
            mark_all_read(session, token, now=NOW)


def test_kinds_are_registered_once_with_a_page_to_open() -> None:
    assert link_of(MENTIONED, 12) == "/tickets/12"
    assert link_of(MENTIONED, None) is None
    assert link_of("nobody.registered", 12) is None
    same = register_notification_kind(
        MENTIONED, title="desk.notification.mentioned", link="/tickets/{id}"
    )
    assert same.name == MENTIONED
    with pytest.raises(ValueError, match="already registered"):
        register_notification_kind(MENTIONED, title="desk.notification.assigned")
    with pytest.raises(ValueError, match=r"<domain>\.<what>"):
        register_notification_kind("mentioned", title="desk.notification.mentioned")
    with pytest.raises(ValueError, match="path"):
        register_notification_kind("x.y", title="desk.notification.mentioned", link="tickets/1")
    with pytest.raises(LookupError, match="no notification kind"):
        notify(
            None,  # type: ignore[arg-type]
            recipient_id=1,
            kind="nobody.registered",
            values={},
            now=NOW,
            settings=None,  # type: ignore[arg-type]
        )
