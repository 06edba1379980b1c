"""Users behind the fixed ids that fixtures' principals carry (``Principal.for_user(10, ...)``):
assignees, owners and team members must be real, active users (``kehu.core.users.assignees``)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kehu.core.users.tables import User


def add_staff(session: Session, *user_ids: int) -> None:
    """A user (an agent who cannot log in) for each of ``user_ids`` that has none yet."""
    existing = set(session.scalars(select(User.id).where(User.id.in_(user_ids))))
    for user_id in user_ids:
        if user_id not in existing:
            session.add(
                User(
                    id=user_id,
                    email=f"staff{user_id}@example.com",
                    display_name=f"Staff {user_id}",
                    role="agent",
                    password_hash="!",  # no password verifies against it
                )
            )
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Rows inserted with their own ids leave the id sequence behind: a user made later
        # would be given one of these ids again.
        sequence = "pg_get_serial_sequence('users', 'id')"
        session.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM users))"))
