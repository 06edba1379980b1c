"""Stored possible duplicates (issue 8, defect 9): a weak match is flagged, not guessed.

A public complaint from an email address nobody has, with a phone number a customer already
has, is filed for a new customer (attaching it to the phone's owner would be a guess: phones are
shared, passed on, mistyped), and :func:`raise_flag` stores a flag "this new customer may be the
same as that one" (reason ``same_phone``), in the complaint's transaction. The flag is shown on
the ticket page and on both customers' pages until a staff member

- **confirms** it (:func:`confirm_flag`): the new customer is merged into the existing one with
  the domain's merge (:func:`kehu.customers.merge.merge_customers`, needs ``customers:merge``;
  the merge can be undone like any other), the flag records the merge, who and when; or
- **dismisses** it (:func:`dismiss_flag`, needs ``customers:write``): two different people
  after all; who and when are recorded, and the flag stays dismissed -- the pair is never
  flagged again (one flag per pair of customers, whichever way round).

Both changes carry the flag version the caller saw (optional in the API): a flag changed by
someone else meanwhile, or no longer open, is a conflict (409) with the reason. A flag whose
customers were merged some other way (on the 360 page) is no longer shown: only flags between
two active customers are open ones.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from kehu.core.auth import SYSTEM, Principal, scoped
from kehu.core.auth.principal import require
from kehu.customers.events import record_event
from kehu.customers.merge import merge_customers
from kehu.customers.tables import Customer, DuplicateFlag
from kehu.errors import ConflictError, NotFoundError
from kehu.store.base import utc_now

__all__ = [
    "REASONS",
    "DuplicateFlagOut",
    "confirm_flag",
    "dismiss_flag",
    "get_flag",
    "list_flags",
    "open_flags",
    "raise_flag",
]

#: Why a flag was raised.
REASONS = ("same_phone",)
STATUSES = ("open", "confirmed", "dismissed")


class DuplicateFlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    duplicate_of_id: int
    reason: str
    status: str
    raised_at: datetime
    resolved_at: datetime | None
    resolved_by_user_id: int | None
    merge_id: int | None
    version: int


def raise_flag(
    session: Session, customer_id: int, duplicate_of_id: int, reason: str, *, now: datetime
) -> DuplicateFlagOut | None:
    """Flag ``customer_id`` as a possible duplicate of ``duplicate_of_id`` (acting for the
    system, in the caller's transaction). ``None`` when the pair already has a flag, open,
    confirmed or dismissed, either way round: a dismissed pair stays dismissed."""
    if reason not in REASONS:
        raise ValueError(f"unknown duplicate reason {reason!r}")
    if customer_id == duplicate_of_id:
        return None
    pair = [customer_id, duplicate_of_id]
    known = session.scalar(
        select(DuplicateFlag.id).where(
            DuplicateFlag.customer_id.in_(pair), DuplicateFlag.duplicate_of_id.in_(pair)
        )
    )
    if known is not None:
        return None
    flag = DuplicateFlag(
        customer_id=customer_id, duplicate_of_id=duplicate_of_id, reason=reason, raised_at=now
    )
    session.add(flag)
    session.flush()
    record_event(
        session,
        customer_id,
        "duplicate_flagged",
        SYSTEM,
        {"flag_id": flag.id, "duplicate_of_id": duplicate_of_id, "reason": reason},
        at=now,
    )
    return DuplicateFlagOut.model_validate(flag)


def list_flags(
    session: Session, principal: Principal, customer_id: int, *, only_open: bool = False
) -> list[DuplicateFlagOut]:
    """The flags naming ``customer_id`` (either side) between customers the principal may see,
    oldest first; ``only_open``: those still to decide, between two active customers."""
    mine, theirs = aliased(Customer), aliased(Customer)
    statement = (
        select(DuplicateFlag)
        .join(mine, mine.id == DuplicateFlag.customer_id)
        .join(theirs, theirs.id == DuplicateFlag.duplicate_of_id)
        .where(
            or_(
                DuplicateFlag.customer_id == customer_id,
                DuplicateFlag.duplicate_of_id == customer_id,
            )
        )
        .order_by(DuplicateFlag.id)
    )
    if only_open:
        statement = statement.where(
            DuplicateFlag.status == "open",
            mine.merged_into_id.is_(None),
            theirs.merged_into_id.is_(None),
        )
    statement = scoped(statement, principal, DuplicateFlag)
    visible = scoped(select(Customer.id), principal, Customer)
    statement = statement.where(
        DuplicateFlag.customer_id.in_(visible), DuplicateFlag.duplicate_of_id.in_(visible)
    )
    return [DuplicateFlagOut.model_validate(f) for f in session.scalars(statement)]


def get_flag(session: Session, principal: Principal, flag_id: int) -> DuplicateFlagOut:
    """One flag (``NotFoundError`` if unknown or outside the caller's scope)."""
    statement = scoped(
        select(DuplicateFlag).where(DuplicateFlag.id == flag_id), principal, DuplicateFlag
    )
    flag = session.scalars(statement).first()
    if flag is None:
        raise NotFoundError(f"duplicate flag {flag_id} not found")
    return DuplicateFlagOut.model_validate(flag)


def open_flags(session: Session, principal: Principal, customer_id: int) -> list[DuplicateFlagOut]:
    """The flags of ``customer_id`` still to confirm or dismiss (see :func:`list_flags`)."""
    return list_flags(session, principal, customer_id, only_open=True)


def _open_flag(
    session: Session, principal: Principal, flag_id: int, expected_version: int | None
) -> DuplicateFlag:
    statement = scoped(
        select(DuplicateFlag).where(DuplicateFlag.id == flag_id), principal, DuplicateFlag
    )
    flag = session.scalars(statement.with_for_update()).first()
    if flag is None:
        raise NotFoundError(f"duplicate flag {flag_id} not found")
    if expected_version is not None and flag.version != expected_version:
        raise ConflictError(
            f"duplicate flag {flag_id} was changed by someone else (version {flag.version}, "
            f"not {expected_version})"
        )
    if flag.status != "open":
        raise ConflictError(f"duplicate flag {flag_id} is already {flag.status}")
    return flag


def dismiss_flag(
    session: Session,
    principal: Principal,
    flag_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> DuplicateFlagOut:
    """Two different customers after all: the flag is dismissed for good (who and when)."""
    require(principal, "customers:write")
    flag = _open_flag(session, principal, flag_id, expected_version)
    now = now or utc_now()
    flag.status = "dismissed"
    flag.resolved_at = now
    flag.resolved_by_user_id = principal.user_id
    session.flush()
    record_event(
        session,
        flag.customer_id,
        "duplicate_dismissed",
        principal,
        {"flag_id": flag.id, "duplicate_of_id": flag.duplicate_of_id},
        at=now,
    )
    return DuplicateFlagOut.model_validate(flag)


def confirm_flag(
    session: Session,
    principal: Principal,
    flag_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> DuplicateFlagOut:
    """The same customer: the flagged customer is merged into the one it duplicates
    (:func:`~kehu.customers.merge.merge_customers`, which ``require``s ``customers:merge`` and
    refuses two customers that cannot be merged with a conflict), and the flag records it."""
    require(principal, "customers:merge")
    flag = _open_flag(session, principal, flag_id, expected_version)
    merge = merge_customers(
        session,
        principal,
        flag.duplicate_of_id,
        flag.customer_id,
        reason=f"possible duplicate confirmed (flag {flag.id}, {flag.reason})",
    )
    flag = session.get_one(DuplicateFlag, flag_id)  # the merge expired what the session held
    flag.status = "confirmed"
    flag.resolved_at = now or utc_now()
    flag.resolved_by_user_id = principal.user_id
    flag.merge_id = merge.id
    session.flush()
    return DuplicateFlagOut.model_validate(flag)
