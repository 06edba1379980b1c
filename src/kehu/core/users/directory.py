"""Staff members' display names, as the pages show them beside their work: the author of a reply
or an internal note, who acted on a ticket, who holds it.

A colleague's display name is not restricted among staff: it is what every staff member sees
beside that colleague's work (and what the audit trail keeps as the actor's name). The ids come
from records the caller has already been allowed to read (a ticket's messages and events go
through the ticket scope); nothing else of an account (e-mail, role, whether it is active) is
read here, which stays with ``users:admin`` (:func:`kehu.core.users.service.get_user`).

A deactivated user keeps their name: the work they did stays theirs.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.users.tables import User


def display_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """``user id -> display name`` of the users among ``user_ids`` (``None`` is skipped; an id
    no user has is left out, for the caller to label)."""
    wanted = sorted({user_id for user_id in user_ids if user_id is not None})
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {int(user_id): name for user_id, name in rows if name and name.strip()}


__all__ = ["display_names"]
