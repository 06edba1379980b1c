"""Saved views of the ticket queue: a name for its filters and sort (the queue's URL parameters,
:mod:`kehu.desk.ticket_queue`), listed at the top of the queue.

Every user who reads tickets may save views of their own; a view shared with every user needs
``tickets:share_views`` (leads and managers). A user sees their own views and the shared ones
(the row scope registered for :class:`~kehu.desk.tables.TicketView`); they delete their own,
and a holder of ``tickets:share_views`` a shared one too. The filters are checked as the queue
checks them (a wrong one is an ``InputError`` naming it) and stored in their canonical form; a
second view of the same name for one user is a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, computed_field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu.core.audit import record_audit
from kehu.core.auth import Principal, require, scoped
from kehu.desk.tables import TicketView
from kehu.desk.ticket_queue import QUEUE_PARAMETERS, parse_queue_query
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError

__all__ = [
    "MAX_NAME",
    "SHARE_PERMISSION",
    "TicketViewOut",
    "delete_view",
    "list_views",
    "save_view",
]

SHARE_PERMISSION = "tickets:share_views"
MAX_NAME = 100
MAX_VIEWS_PER_USER = 100


class TicketViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    shared: bool
    owner_id: int
    params: dict[str, str]
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def query(self) -> str:
        """The view as the queue's query string (``/tickets?<query>``)."""
        return urlencode(self.params)


def list_views(session: Session, principal: Principal) -> list[TicketViewOut]:
    """The caller's own views and the shared ones: shared first, then by name."""
    statement = scoped(select(TicketView), principal, TicketView).order_by(
        TicketView.shared.desc(), TicketView.name, TicketView.id
    )
    return [TicketViewOut.model_validate(row) for row in session.scalars(statement)]


def _checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InputError("a name is required", column="name")
    if len(cleaned) > MAX_NAME:
        raise InputError(f"at most {MAX_NAME} characters", column="name")
    return cleaned


def save_view(
    session: Session,
    principal: Principal,
    name: str,
    params: Mapping[str, Any],
    *,
    shared: bool = False,
) -> TicketViewOut:
    """Save the queue's filters and sort ``params`` (URL parameters; the page is not kept)
    under ``name``, shared with every user when ``shared`` (``tickets:share_views``)."""
    require(principal, "tickets:read")
    if shared:
        require(principal, SHARE_PERMISSION)
    if principal.user_id is None:
        raise PermissionDeniedError("a saved view belongs to a user; sign in as one")
    unknown = sorted(set(params) - {*QUEUE_PARAMETERS, "sort", "mine", "page", "page_size"})
    if unknown:
        raise InputError(f"not a filter of the queue: {unknown[0]}", column=unknown[0])
    query = parse_queue_query(params)
    cleaned = _checked_name(name)
    owned = select(TicketView.id).where(TicketView.owner_id == principal.user_id)
    if len(session.scalars(owned).all()) >= MAX_VIEWS_PER_USER:
        raise ConflictError(f"at most {MAX_VIEWS_PER_USER} saved views per user")
    if session.scalar(owned.where(TicketView.name == cleaned)) is not None:
        raise ConflictError(f"you already have a view named {cleaned!r}")
    row = TicketView(owner_id=principal.user_id, name=cleaned, shared=shared, params=query.params())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:  # the same name saved at the same moment
        raise ConflictError(f"you already have a view named {cleaned!r}") from error
    if shared:
        record_audit(
            session,
            principal,
            "ticket_view.shared",
            "ticket_view",
            row.id,
            None,
            {"name": cleaned},
        )
    return TicketViewOut.model_validate(row)


def delete_view(session: Session, principal: Principal, view_id: int) -> None:
    """Delete one's own view (or, with ``tickets:share_views``, a shared one); a view the caller
    cannot see is not found."""
    require(principal, "tickets:read")
    row = session.scalar(
        scoped(select(TicketView).where(TicketView.id == view_id), principal, TicketView)
    )
    if row is None:
        raise NotFoundError(f"no saved view with id {view_id}")
    if row.owner_id != principal.user_id:
        if not row.shared:  # pragma: no cover - the scope shows others' views only when shared
            raise NotFoundError(f"no saved view with id {view_id}")
        require(principal, SHARE_PERMISSION)
    if row.shared:
        record_audit(
            session, principal, "ticket_view.deleted", "ticket_view", row.id, {"name": row.name}
        )
    session.delete(row)
    session.flush()
