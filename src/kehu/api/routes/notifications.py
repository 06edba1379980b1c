"""One's own notifications (the bell): list them, the unread count, mark one or all read, and
turn their e-mails on or off. Everyone sees only their own (``notifications:read``); marking
needs ``notifications:write``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from kehu.core import notifications
from kehu.core.notifications import Notification
from kehu.http.deps import CurrentPrincipal, DbSession, Page, Pagination, page_of
from kehu.store.base import utc_now
from kehu.store.bounds import Id

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    regarding_type: str | None
    regarding_id: int | None
    actor_id: int | None
    title: str
    created_at: datetime
    read_at: datetime | None
    link: str | None  # the page of what it is about (``/tickets/12``)


class NotificationPage(Page[NotificationOut]):
    unread: int


class ReadAllOut(BaseModel):
    marked: int
    unread: int


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: bool


class PreferencesOut(BaseModel):
    email: bool


def _out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        kind=row.kind,
        regarding_type=row.regarding_type,
        regarding_id=row.regarding_id,
        actor_id=row.actor_id,
        title=row.title,
        created_at=row.created_at,
        read_at=row.read_at,
        link=notifications.link_of(row.kind, row.regarding_id),
    )


@router.get("", summary="One's notifications, newest first, with the unread count")
def list_notifications(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    unread_only: bool = False,
) -> NotificationPage:
    statement = notifications.notifications_query(principal, unread_only=unread_only)
    found = page_of(
        session,
        statement.order_by(None),
        paging,
        (Notification.created_at.desc(), Notification.id.desc()),
        _out,
    )
    return NotificationPage(
        **found.model_dump(exclude={"items"}),
        items=found.items,
        unread=notifications.unread_count(session, principal),
    )


@router.post("/read-all", summary="Mark every unread notification of one's read")
def read_all(session: DbSession, principal: CurrentPrincipal) -> ReadAllOut:
    marked = notifications.mark_all_read(session, principal, now=utc_now())
    return ReadAllOut(marked=marked, unread=notifications.unread_count(session, principal))


@router.post("/{notification_id}/read", summary="Mark one of one's notifications read")
def read_one(
    session: DbSession, principal: CurrentPrincipal, notification_id: Id
) -> NotificationOut:
    return _out(notifications.mark_read(session, principal, notification_id, now=utc_now()))


@router.get("/preferences", summary="Whether one's notifications also come by e-mail")
def get_preferences(session: DbSession, principal: CurrentPrincipal) -> PreferencesOut:
    return PreferencesOut(email=notifications.own_email_wanted(session, principal))


@router.put("/preferences", summary="Turn one's notification e-mails on or off")
def put_preferences(
    body: PreferencesIn, session: DbSession, principal: CurrentPrincipal
) -> PreferencesOut:
    wanted = notifications.set_email_wanted(session, principal, body.email, now=utc_now())
    return PreferencesOut(email=wanted)
