"""Tables of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import Base, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(Base):
    """One change, in the order of ``seq``. Rows are only ever added; the one permitted update
    is erasing ``before``/``after``/``salt`` (personal data), which the chain survives because it
    is built over ``payload_digest``, not over the payload."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_token_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    # Random per-event salt, so that an erased payload cannot be guessed back from its digest.
    salt: Mapped[str | None] = mapped_column(String(32))
    payload_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_audit_events_entity_entity_id", "entity", "entity_id"),)


class AuditChainHead(Base):
    """The end of the chain (a single row): appenders lock it, so concurrent writers on
    PostgreSQL never fork the chain, and truncating the log's tail is detected."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
