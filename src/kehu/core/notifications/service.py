"""Notifying staff users: the registry of notification kinds, making a notification (with its
e-mail through the outbox), and reading and marking one's own.

A domain registers each kind it sends once, from its ``registrations`` module::

    register_notification_kind(
        "desk.mentioned",
        title="desk.notification.mentioned",  # a text message template (kehu.core.i18n.messages)
        link="/tickets/{id}",                 # the page of what it is about
    )

and notifies in the transaction of the change that caused it::

    notify(session, recipient_id=7, kind="desk.mentioned", regarding=("ticket", 12),
           values={"who": "Ana", "ticket_id": 12, "subject": "..."}, now=now, settings=settings)

The title is rendered once, in the recipient's language (their ``locale``), from the kind's
text template and ``values``; it is what the bell's list shows. Unless the kind is in-app only
(``email=False``) or the recipient turned e-mail off (:func:`set_email_wanted`), the same title
goes to their address through the outbox (:data:`NOTIFICATION_EMAIL`, in their language, with
the link), in the same transaction: a change rolled back notifies nobody.

Reading goes through the permission layer: a user sees only their own notifications
(``notifications:read``, the row scope registered in :mod:`kehu.core.registrations`); marking
them read needs ``notifications:write``. Every role holds both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu.core import outbox
from kehu.core.auth import Principal, require, scoped
from kehu.core.config import Settings, public_url
from kehu.core.i18n import N_
from kehu.core.i18n.messages import register_message, render_message
from kehu.core.notifications.tables import Notification, NotificationPreference
from kehu.core.users.tables import User
from kehu.errors import NotFoundError

__all__ = [
    "NOTIFICATIONS_PATH",
    "NOTIFICATION_EMAIL",
    "NotificationKind",
    "email_wanted",
    "get_notification",
    "link_of",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "notification_kind",
    "notifications_query",
    "notify",
    "own_email_wanted",
    "register_notification_kind",
    "registered_notification_kinds",
    "scope_to_recipient",
    "set_email_wanted",
    "unread_count",
]

#: Where a staff user reads their notifications (the pages' ``/notifications``).
NOTIFICATIONS_PATH = "/notifications"

#: The one e-mail every kind sends: the title and the link (kinds differ in their titles).
NOTIFICATION_EMAIL = "core.notification"
NOTIFICATION_EMAIL_SUBJECT = N_("[kehu] %(title)s")
NOTIFICATION_EMAIL_BODY = N_(
    "%(title)s\n"
    "\n"
    "Open it in kehu:\n"
    "%(url)s\n"
    "\n"
    "You receive this e-mail because of your notifications in kehu. You can turn these e-mails "
    "off on your notifications page:\n"
    "%(notifications_url)s\n"
)

#: The longest title kept (a long ticket subject is cut).
MAX_TITLE = 500

_NOT_FOUND = "notification not found"


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification a domain sends. ``title``: the name of a text message template,
    rendered with the values given to :func:`notify`; ``link``: the path of what it is about,
    with ``{id}`` for ``regarding_id``; ``email``: also sent by e-mail."""

    name: str
    title: str
    link: str | None = None
    email: bool = True


_KINDS: dict[str, NotificationKind] = {}


def register_notification_kind(
    name: str, *, title: str, link: str | None = None, email: bool = True
) -> NotificationKind:
    """Register the kind ``name`` (``"<domain>.<what>"``). Registering the same kind again is a
    no-op; another one under a taken name is an error."""
    if "." not in name:
        raise ValueError(f"a notification kind is '<domain>.<what>', not {name!r}")
    if link is not None and not link.startswith("/"):
        raise ValueError(f"the link of {name!r} is a path starting with '/', not {link!r}")
    kind = NotificationKind(name, title, link, email)
    existing = _KINDS.get(name)
    if existing is not None and existing != kind:
        raise ValueError(f"a different notification kind is already registered as {name!r}")
    _KINDS[name] = kind
    return kind


def notification_kind(name: str) -> NotificationKind:
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise LookupError(f"no notification kind {name!r} is registered (known: {known})") from None


def registered_notification_kinds() -> dict[str, NotificationKind]:
    """Every registered kind by name (a copy)."""
    return dict(_KINDS)


def register_notification_email() -> None:
    """Register :data:`NOTIFICATION_EMAIL` (from :mod:`kehu.core.registrations`)."""
    register_message(
        NOTIFICATION_EMAIL, subject=NOTIFICATION_EMAIL_SUBJECT, body=NOTIFICATION_EMAIL_BODY
    )


def link_of(kind: str, regarding_id: int | None) -> str | None:
    """The path of what a notification of ``kind`` is about (``None``: no page to open; a kind
    no longer registered has none either)."""
    registered = _KINDS.get(kind)
    if registered is None or registered.link is None or regarding_id is None:
        return None
    return registered.link.format(id=regarding_id)


# -- making one --------------------------------------------------------------------------------


def email_wanted(session: Session, user_id: int) -> bool:
    """Whether ``user_id`` wants their notifications by e-mail too (the default)."""
    wanted = session.scalar(
        select(NotificationPreference.email).where(NotificationPreference.user_id == user_id)
    )
    return True if wanted is None else bool(wanted)


def notify(
    session: Session,
    *,
    recipient_id: int,
    kind: str,
    values: Mapping[str, Any],
    now: datetime,
    settings: Settings,
    regarding: tuple[str, int] | None = None,
    actor_id: int | None = None,
) -> Notification | None:
    """Notify ``recipient_id`` (in the caller's transaction) and queue the e-mail. Nobody is
    notified of what they did themselves (``actor_id == recipient_id``), and a user who does not
    exist or is deactivated is not notified: both return ``None``."""
    registered = notification_kind(kind)
    if actor_id is not None and actor_id == recipient_id:
        return None
    user = session.get(User, recipient_id)
    if user is None or not user.is_active:
        return None
    title = render_message(registered.title, user.locale, **values).body.strip()[:MAX_TITLE]
    notification = Notification(
        recipient_id=recipient_id,
        kind=kind,
        regarding_type=regarding[0] if regarding else None,
        regarding_id=regarding[1] if regarding else None,
        actor_id=actor_id,
        title=title,
        created_at=now,
    )
    session.add(notification)
    session.flush()
    if registered.email and email_wanted(session, recipient_id):
        link = link_of(kind, notification.regarding_id) or NOTIFICATIONS_PATH
        message = render_message(
            NOTIFICATION_EMAIL,
            user.locale,
            title=title,
            url=public_url(settings, link),
            notifications_url=public_url(settings, NOTIFICATIONS_PATH),
        )
        outbox.enqueue(
            session,
            purpose="notification",
            regarding=regarding,
            recipient=user.email,
            subject=message.subject,
            body=message.body,
            now=now,
            dedupe_key=f"notification:{notification.id}",
        )
    return notification


# -- one's own ---------------------------------------------------------------------------------


def scope_to_recipient(statement: Any, principal: Principal) -> Any:
    """The row scope of notifications: one's own only (the system, no user, has none)."""
    return statement.where(Notification.recipient_id == principal.user_id)


def notifications_query(principal: Principal, *, unread_only: bool = False) -> Select[Any]:
    """The principal's notifications, newest first."""
    statement = scoped(select(Notification), principal, Notification)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return statement.order_by(Notification.created_at.desc(), Notification.id.desc())


def list_notifications(
    session: Session,
    principal: Principal,
    *,
    unread_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[Notification]:
    statement = notifications_query(principal, unread_only=unread_only)
    return list(session.scalars(statement.limit(limit).offset(offset)))


def unread_count(session: Session, principal: Principal) -> int:
    """How many of the principal's notifications are unread (the bell's number)."""
    statement = scoped(
        select(func.count(Notification.id)).where(Notification.read_at.is_(None)),
        principal,
        Notification,
    )
    return int(session.scalar(statement) or 0)


def get_notification(session: Session, principal: Principal, notification_id: int) -> Notification:
    """One of the principal's notifications; another's is "not found", like an unknown id."""
    found = session.scalar(
        scoped(select(Notification), principal, Notification).where(
            Notification.id == notification_id
        )
    )
    if found is None:
        raise NotFoundError(_NOT_FOUND)
    return found


def mark_read(
    session: Session, principal: Principal, notification_id: int, *, now: datetime
) -> Notification:
    """Mark one of one's notifications read (again: it keeps the first time it was read)."""
    require(principal, "notifications:write")
    notification = get_notification(session, principal, notification_id)
    # a conditional UPDATE, so that two tabs marking it at once keep the first moment
    session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(notification)
    return notification


def mark_all_read(session: Session, principal: Principal, *, now: datetime) -> int:
    """Mark every unread notification of one's read; returns how many were unread."""
    require(principal, "notifications:write")
    result = session.execute(
        update(Notification)
        .where(Notification.recipient_id == principal.user_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(getattr(result, "rowcount", 0) or 0)


def own_email_wanted(session: Session, principal: Principal) -> bool:
    """Whether the principal wants their notifications by e-mail too."""
    require(principal, "notifications:read")
    return principal.user_id is not None and email_wanted(session, principal.user_id)


def set_email_wanted(
    session: Session, principal: Principal, wanted: bool, *, now: datetime
) -> bool:
    """Turn one's notification e-mails on or off; returns the new choice."""
    require(principal, "notifications:write")
    if principal.user_id is None:
        raise NotFoundError("the system has no notifications")
    preference = session.get(NotificationPreference, principal.user_id)
    if preference is None:
        try:
            with session.begin_nested():
                session.add(
                    NotificationPreference(user_id=principal.user_id, email=wanted, updated_at=now)
                )
                session.flush()
            return wanted
        except IntegrityError:  # the same user's other tab chose at the same moment: last wins
            preference = session.get(NotificationPreference, principal.user_id)
            assert preference is not None
    preference.email = wanted
    preference.updated_at = now
    session.flush()
    return wanted
