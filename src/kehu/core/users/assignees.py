"""Who may be given work: the rule every domain checks before it stores a user id from input.

Work is a ticket's assignee, a customer's account manager (owner), a team's member and an
escalation rule's assignee. None of these columns has a foreign key to ``users`` (SQLite and
PostgreSQL would not refuse an unknown id), so the use case checks the id, before any write:

- an id no user has is refused (``InputError`` naming the field: 422 "no such user");
- a deactivated user is refused too: deactivation takes the person off the desk, and work given
  to them would wait for nobody. Work they held when they were deactivated stays with them until
  someone moves it (deactivation reassigns nothing), and clearing a field (``None``) is always
  allowed. An escalation rule that names a user deactivated since then escalates to the team
  without them (see :func:`is_assignable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.users.tables import User
from kehu.errors import InputError


def _problem(session: Session, user_id: int) -> str | None:
    active = session.scalar(select(User.is_active).where(User.id == user_id))
    if active is None:
        return "no such user"
    if not active:
        return f"user {user_id} is deactivated; give the work to an active user"
    return None


def check_assignable(session: Session, user_id: int | None, *, column: str) -> None:
    """Refuse (``InputError`` naming ``column``) a user id that no active user has."""
    if user_id is None:
        return
    problem = _problem(session, user_id)
    if problem is not None:
        raise InputError(problem, column=column, value=user_id)


def is_assignable(session: Session, user_id: int) -> bool:
    """Whether work may go to ``user_id`` now (for rules stored before the user left)."""
    return _problem(session, user_id) is None


@dataclass(frozen=True)
class StaffMember:
    """An active user as work is handed out: their role (what they may do) and whether they
    are away now (automatic assignment passes them over; a person may still give them work)."""

    user_id: int
    display_name: str
    role: str
    away: bool


def active_staff(session: Session, now: datetime) -> list[StaffMember]:
    """Every active user, by display name (deactivated users are given no work)."""
    rows = session.execute(
        select(User.id, User.display_name, User.role, User.absent, User.absent_until)
        .where(User.is_active.is_(True))
        .order_by(User.display_name, User.id)
    )
    return [
        StaffMember(
            int(user_id),
            name,
            role,
            bool(absent) and (until is None or until > now),
        )
        for user_id, name, role, absent, until in rows
    ]


__all__ = ["StaffMember", "active_staff", "check_assignable", "is_assignable"]
