"""Remembered responses of writes sent with an ``Idempotency-Key`` (the HTTP middleware of
:mod:`kehu.http.middleware` reads and writes them), and the ``idempotency_purge`` job that forgets
expired ones (hourly; a key is refused as expired from ``expires_at`` on whether purged or not).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint, delete
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import ID, Base, UTCDateTime, utc_now
from kehu.store.db import Database


class IdempotencyRecord(Base):
    """The first response to a write sent with ``Idempotency-Key``; ``status_code`` is NULL while
    that first request is still being handled. An answer that held a secret is kept only as
    the 409 that says so (see :func:`kehu.http.middleware._secret_withheld`)."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    principal_key: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    #: what the caller could do when the key was first used (roles, teams, token scopes)
    authority_digest: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("principal_key", "key"),)


#: How many expired keys one purge deletes per transaction (keeps each write short).
PURGE_BATCH = 5_000


def purge_expired_idempotency_keys(database: Database, now: datetime) -> int:
    """Delete the keys expired at ``now``, in batches; returns how many."""
    purged = 0
    while True:
        with database.session() as session:
            ids = list(
                session.scalars(
                    IdempotencyRecord.__table__.select()
                    .with_only_columns(IdempotencyRecord.id)
                    .where(IdempotencyRecord.expires_at <= now)
                    .limit(PURGE_BATCH)
                )
            )
            if not ids:
                return purged
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
            purged += len(ids)
