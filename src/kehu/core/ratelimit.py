"""Sliding-window rate limits kept in the store (so every process of a deployment counts the same
requests): the public complaint door today, survey answers and member pages later.

A hit is one counted request: ``action`` (``complaint``, ``reply``, ``lookup``, ...) and
``bucket`` (whose: ``address:<client address>``, ``email:<sha256 of the address>``, never a
personal value in clear). :func:`throttle` refuses a request when a bucket already holds its
limit within the window, else counts it; :func:`count_hits` counts without checking (a refused
request counts too, so a flood of refused ones reaches the limit); :func:`check_limit` checks
without counting. Hits older than the window are deleted when their bucket is written again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kehu.errors import RateLimitedError
from kehu.store.base import ID, Base, UTCDateTime

__all__ = ["RateLimitHit", "check_limit", "count_hits", "throttle"]

TOO_MANY = "too many requests; please wait a little and try again"


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    bucket: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_rate_limit_hits_action_bucket_at", "action", "bucket", "at"),)


def check_limit(
    session: Session, action: str, bucket: str, limit: int, *, now: datetime, window: timedelta
) -> None:
    """Raise :class:`RateLimitedError` (with ``retry_after`` seconds) when ``bucket`` holds
    ``limit`` hits of ``action`` within ``window`` before ``now``."""
    count, oldest = session.execute(
        select(func.count(), func.min(RateLimitHit.at)).where(
            RateLimitHit.action == action,
            RateLimitHit.bucket == bucket,
            RateLimitHit.at > now - window,
        )
    ).one()
    if count >= limit:
        retry = max(1, math.ceil(((oldest or now) + window - now).total_seconds()))
        raise RateLimitedError(TOO_MANY, retry_after=retry)


def count_hits(
    session: Session, action: str, buckets: Sequence[str], *, now: datetime, window: timedelta
) -> None:
    """Count one hit of ``action`` in each bucket (and forget that bucket's expired hits)."""
    since = now - window
    for bucket in buckets:
        session.execute(
            delete(RateLimitHit).where(
                RateLimitHit.action == action,
                RateLimitHit.bucket == bucket,
                RateLimitHit.at <= since,
            )
        )
        session.add(RateLimitHit(action=action, bucket=bucket, at=now))
    session.flush()


def throttle(
    session: Session,
    action: str,
    buckets: Sequence[tuple[str, int]],
    *,
    now: datetime,
    window: timedelta,
) -> None:
    """Count one ``action`` in each ``(bucket, limit)``, or raise :class:`RateLimitedError`
    (nothing counted) when a bucket already holds its limit within the sliding ``window``."""
    for bucket, limit in buckets:
        check_limit(session, action, bucket, limit, now=now, window=window)
    count_hits(session, action, [bucket for bucket, _limit in buckets], now=now, window=window)
