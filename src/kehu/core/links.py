"""Signed links: one mechanism for every link kehu gives a customer instead of an account.

A link is a random 256-bit token in a URL (``/status/<token>``, later survey invitations, member
pages and unsubscribe links). The store keeps only its SHA-256 digest (a token that long needs no
slow hash), what it is for (``purpose``), what it opens (``subject_type`` / ``subject_id``), when
it expires, whether it was revoked and, for a **single-use** link, when it was used: using one is
a conditional ``UPDATE ... WHERE used_at IS NULL``, so two requests racing with the same link
cannot both use it.

Every way a link can fail (unknown, malformed, another purpose, expired, revoked, used) raises
the same :class:`~kehu.errors.NotFoundError` with the caller's message: the answer says nothing
about which links exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from kehu.errors import NotFoundError
from kehu.store.base import ID, Base, UTCDateTime, utc_now

__all__ = [
    "IssuedLink",
    "SignedLink",
    "issue_link",
    "resolve_link",
    "revoke_links",
    "token_digest",
    "use_link",
]

_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,200}$")
_DEFAULT_REFUSAL = "this link is not valid: it may have expired or been revoked"


class SignedLink(Base):
    __tablename__ = "signed_links"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))  # ticket_status, survey, unsubscribe ...
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(ID)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the token
    single_use: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a staff user; users are deactivated, never deleted: no ondelete (migration 0009)
    revoked_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id"), index=True)

    __table_args__ = (Index("ix_signed_links_subject", "subject_type", "subject_id", "purpose"),)


@dataclass(frozen=True)
class IssuedLink:
    """A new link: ``token`` is shown once (put it in the URL); ``link`` is the stored row."""

    token: str
    link: SignedLink


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token (what ``signed_links`` stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_link(
    session: Session,
    purpose: str,
    subject: tuple[str, int],
    *,
    now: datetime,
    lifetime: timedelta,
    single_use: bool = False,
) -> IssuedLink:
    """A new link for ``purpose`` opening ``subject`` (``("ticket", 12)``), valid for
    ``lifetime`` from ``now``, in the caller's transaction."""
    if lifetime <= timedelta(0):
        raise ValueError("a link needs a positive lifetime")
    token = secrets.token_urlsafe(32)
    link = SignedLink(
        purpose=purpose,
        subject_type=subject[0],
        subject_id=subject[1],
        digest=token_digest(token),
        single_use=single_use,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(link)
    session.flush()
    return IssuedLink(token, link)


def resolve_link(
    session: Session, purpose: str, token: object, *, now: datetime, refusal: str = _DEFAULT_REFUSAL
) -> SignedLink:
    """The live link of ``purpose`` behind ``token``; ``NotFoundError(refusal)`` otherwise
    (malformed, unknown, other purpose, expired, revoked, or a single-use link already used)."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        raise NotFoundError(refusal)
    link = session.scalar(select(SignedLink).where(SignedLink.digest == token_digest(token)))
    if (
        link is None
        or link.purpose != purpose
        or link.revoked_at is not None
        or link.expires_at <= now
        or (link.single_use and link.used_at is not None)
    ):
        raise NotFoundError(refusal)
    return link


def use_link(
    session: Session, purpose: str, token: object, *, now: datetime, refusal: str = _DEFAULT_REFUSAL
) -> SignedLink:
    """Resolve the link and, if it is single-use, spend it (once, whoever races for it)."""
    link = resolve_link(session, purpose, token, now=now, refusal=refusal)
    if link.single_use:
        spent = session.execute(
            update(SignedLink)
            .where(SignedLink.id == link.id, SignedLink.used_at.is_(None))
            .values(used_at=now),
            execution_options={"synchronize_session": "fetch"},
        )
        if not getattr(spent, "rowcount", 0):
            raise NotFoundError(refusal)
    return link


def revoke_links(
    session: Session, purpose: str, subject: tuple[str, int], *, now: datetime, by: int | None
) -> int:
    """End every live link of ``purpose`` to ``subject``; returns how many."""
    result = session.execute(
        update(SignedLink)
        .where(
            SignedLink.purpose == purpose,
            SignedLink.subject_type == subject[0],
            SignedLink.subject_id == subject[1],
            SignedLink.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_by=by),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(getattr(result, "rowcount", 0) or 0)
