"""The outbox's table: every message to a customer or a colleague, written in the transaction of
the change that caused it and delivered later (see :mod:`kehu.core.outbox`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import ID, Base, UTCDateTime, utc_now


class OutboxMessage(Base):
    """One message. ``customer_id`` is the customer it goes to (``None``: an internal
    notification to ``recipient``); ``regarding_type``/``regarding_id`` name what it is about
    (``ticket`` 12, later a survey invitation or a loyalty statement) without the platform
    knowing those tables."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    # a customer id (the customers domain's); no foreign key: the platform knows no domain table
    customer_id: Mapped[int | None] = mapped_column(ID, index=True)
    regarding_type: Mapped[str | None] = mapped_column(String(40))
    regarding_id: Mapped[int | None] = mapped_column(ID)
    purpose: Mapped[str] = mapped_column(String(30))  # acknowledgement | reply | escalation ...
    channel: Mapped[str] = mapped_column(String(20), default="email")
    # what the customer's contact preferences are asked about: service messages need only the
    # channel not refused, marketing needs consent (kehu.customers.service.may_contact)
    consent: Mapped[str] = mapped_column(String(20), default="service")
    recipient: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # pending | sent | suppressed (contact preferences) | undeliverable | failed
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_outbox_messages_regarding", "regarding_type", "regarding_id"),)
