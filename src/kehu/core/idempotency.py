"""Tables of the API front door: remembered responses of writes sent with an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import Base, UTCDateTime, utc_now

ID = BigInteger().with_variant(Integer, "sqlite")


class IdempotencyRecord(Base):
    """The first response to a write sent with ``Idempotency-Key``; ``status_code`` is NULL while
    that first request is still being handled. An answer that held a secret is kept only as
    the 409 that says so (see :func:`kehu.api.middleware._secret_withheld`)."""

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
