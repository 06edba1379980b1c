"""Tables of the public complaint door (:mod:`kehu.desk.public`): the status links a
complainant follows their ticket with, and the hits the public rate limits count.

A status link's token is never stored: only its SHA-256 digest (a 256-bit random token needs no
slow hash, like the API tokens of :mod:`kehu.core.users`). Rate-limit hits name their bucket by the
client address or by a digest of the email address, never the address itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import Base, UTCDateTime, utc_now

ID = BigInteger().with_variant(Integer, "sqlite")


class TicketStatusLink(Base):
    """A link (``/status/<token>``) through which the customer follows one ticket and replies.

    Expires at ``expires_at``; staff revoke it (``revoked_at``). A ticket may have several links
    (a new one is issued after a revocation)."""

    __tablename__ = "ticket_status_links"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[int | None] = mapped_column(BigInteger)  # user id; no FK yet


class PublicRateLimitHit(Base):
    """One counted request of the public door, for the sliding-window limits.

    ``bucket`` is ``address:<client address>``, ``email:<sha256 of the normalised email>`` or
    ``link:<status link id>``; ``action`` is ``complaint``, ``reply`` or ``lookup``. Hits older
    than the window are deleted when the bucket is written again."""

    __tablename__ = "public_rate_limits"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    bucket: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_public_rate_limits_action_bucket_at", "action", "bucket", "at"),)
