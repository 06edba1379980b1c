"""The in-app notifications' tables (see :mod:`kehu.core.notifications`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import ID, Base, UTCDateTime, utc_now


class Notification(Base):
    """One notification to one staff user. ``regarding_type``/``regarding_id`` name what it is
    about (``ticket`` 12) without the platform knowing that table, like the outbox; ``title`` is
    rendered once, in the recipient's language, when the notification is made."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    # indexed by ix_notifications_recipient_unread, which starts with it
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(60))
    regarding_type: Mapped[str | None] = mapped_column(String(40))
    regarding_id: Mapped[int | None] = mapped_column(ID)
    # who caused it (None: the system); no foreign key, like a ticket's assignee
    actor_id: Mapped[int | None] = mapped_column(ID)
    title: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_notifications_recipient_unread", "recipient_id", "read_at"),
        Index("ix_notifications_regarding", "regarding_type", "regarding_id"),
    )


class NotificationPreference(Base):
    """A staff user's choice about notifications; no row: the defaults (e-mail on)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
