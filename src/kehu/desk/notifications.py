"""What the desk tells its staff in the bell (and by e-mail): the notification kinds it registers
with the platform (:mod:`kehu.core.notifications`) and the one hook that sends them.

- :data:`ASSIGNED` -- a ticket was given to you by someone else: assigned, transferred with you
  as its assignee, filed with you as its assignee, or by the system (routing, an escalation rule,
  automatic assignment). Taking a ticket yourself notifies nobody.
- :data:`MENTIONED` -- a colleague ``@mentioned`` you in an internal note or a reply.
- :data:`PROMISE_AT_RISK` -- the SLA check found the ticket you hold near its service promise
  (a warning threshold) or past it (a breach).

:func:`notify_ticket_change` is called by :func:`kehu.desk.ticket_commands.record_event` -- the
one place every ticket change is recorded -- so whatever assigns a ticket, now or later (the
assign and transfer use cases, bulk actions, automatic assignment), notifies its new assignee
from the event it records: an ``assignee_id`` in the event's ``after`` that differs from its
``before``. Mentions travel the same way: the reply and note use cases check them
(:func:`check_mentions`) and put the mentioned ids in the event (``mentioned_ids``).

A mention of a colleague who cannot see the ticket (another team's agent) is **refused**
(:class:`MentionRefused`, a 422 naming them), the typed text kept by the form: telling them
would send them to a page that says "no such record", and quietly not telling them would leave
the writer believing they were told. Someone deactivated, or an ``@word`` that names nobody, is
plain text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.core.config import Settings
from kehu.core.i18n import N_
from kehu.core.i18n.messages import Phrase, register_message
from kehu.core.notifications import notify, register_notification_kind
from kehu.core.users.directory import display_names
from kehu.core.users.mentions import Mention, find_mentions, mentionable_users
from kehu.core.users.service import principal_for
from kehu.core.users.tables import User
from kehu.desk.tables import Ticket
from kehu.errors import InputError, PermissionDeniedError

__all__ = [
    "ASSIGNED",
    "MENTIONED",
    "PROMISE_AT_RISK",
    "MentionRefused",
    "check_mentions",
    "may_see_ticket",
    "mention_ids",
    "notify_ticket_change",
    "register_notifications",
    "ticket_mentions",
]

ASSIGNED = "desk.assigned"
MENTIONED = "desk.mentioned"
PROMISE_AT_RISK = "desk.promise_at_risk"

TICKET_LINK = "/tickets/{id}"

ASSIGNED_TITLE = N_("Ticket #%(ticket_id)s was assigned to you by %(who)s: %(subject)s")
MENTIONED_TITLE = N_("%(who)s mentioned you on ticket #%(ticket_id)s: %(subject)s")
AT_RISK_TITLE = N_("Ticket #%(ticket_id)s: %(state)s. %(subject)s")

AUTOMATIC = N_("the automatic assignment")
#: ``(event kind, target) -> the state told in the at-risk title``
AT_RISK_STATES = {
    ("sla_warning", "first_response"): N_("the first response promise is at risk"),
    ("sla_warning", "resolution"): N_("the resolution promise is at risk"),
    ("sla_breached", "first_response"): N_("the first response promise was broken"),
    ("sla_breached", "resolution"): N_("the resolution promise was broken"),
}


def register_notifications() -> None:
    """Register the desk's kinds and their titles (from :mod:`kehu.desk.registrations`)."""
    register_message(
        "desk.notification.assigned", kind="text", body=ASSIGNED_TITLE, phrases=(AUTOMATIC,)
    )
    register_message(
        "desk.notification.mentioned", kind="text", body=MENTIONED_TITLE, phrases=(AUTOMATIC,)
    )
    register_message(
        "desk.notification.promise_at_risk",
        kind="text",
        body=AT_RISK_TITLE,
        phrases=tuple(AT_RISK_STATES.values()),
    )
    register_notification_kind(ASSIGNED, title="desk.notification.assigned", link=TICKET_LINK)
    register_notification_kind(MENTIONED, title="desk.notification.mentioned", link=TICKET_LINK)
    register_notification_kind(
        PROMISE_AT_RISK, title="desk.notification.promise_at_risk", link=TICKET_LINK
    )


# -- mentions ----------------------------------------------------------------------------------


class MentionRefused(InputError):
    """Mentions of colleagues who cannot see the ticket (``names``, their display names)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        listed = ", ".join(self.names)
        super().__init__(
            f"{listed} cannot see this ticket, so cannot be mentioned on it: remove the mention "
            "or transfer the ticket to their team first",
            column="mentions",
            value=listed,
        )


def may_see_ticket(session: Session, user_id: int, ticket_id: int) -> bool:
    """Whether the staff user may open the ticket now (their role and teams, as the ticket
    scope narrows them)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return False
    principal = principal_for(session, user)
    try:
        statement = scoped(select(Ticket.id).where(Ticket.id == ticket_id), principal, Ticket)
    except PermissionDeniedError:
        return False
    return session.scalar(statement) is not None


def ticket_mentions(session: Session, body: str) -> list[Mention]:
    """The mentions of active colleagues in ``body``."""
    if "@" not in body:
        return []
    return find_mentions(body, mentionable_users(session))


def check_mentions(session: Session, ticket: Ticket, body: str) -> list[int]:
    """The ids of the colleagues ``body`` mentions, each once, in order; refuses
    (:class:`MentionRefused`) mentions of colleagues who cannot see ``ticket``."""
    ids: list[int] = []
    refused: list[str] = []
    for mention in ticket_mentions(session, body):
        user = mention.user
        if user.user_id in ids or user.display_name in refused:
            continue
        if may_see_ticket(session, user.user_id, ticket.id):
            ids.append(user.user_id)
        else:
            refused.append(user.display_name)
    if refused:
        raise MentionRefused(refused)
    return ids


def mention_ids(ids: Sequence[int]) -> dict[str, Any]:
    """What a reply's or note's event carries of its mentions (nothing when there are none)."""
    return {"mentioned_ids": list(ids)} if ids else {}


# -- the hook ----------------------------------------------------------------------------------


def _actor_name(session: Session, principal: Principal) -> str | Phrase:
    if principal.user_id is None:
        return Phrase(AUTOMATIC)
    if principal.display_name:
        return principal.display_name
    return display_names(session, [principal.user_id]).get(
        principal.user_id, f"#{principal.user_id}"
    )


def _when(after: Mapping[str, Any], now: datetime) -> datetime:
    """An SLA event is dated when the promise broke; its notification when it was noticed."""
    noticed = after.get("noticed_at")
    if isinstance(noticed, str):
        try:
            return datetime.fromisoformat(noticed)
        except ValueError:
            return now
    return now


def notify_ticket_change(
    session: Session,
    ticket: Ticket,
    principal: Principal,
    kind: str,
    now: datetime,
    *,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    settings: Settings,
) -> None:
    """Notify who a ticket change concerns (see the module documentation)."""
    regarding = ("ticket", ticket.id)
    values: dict[str, Any] = {"ticket_id": ticket.id, "subject": ticket.subject}
    if "assignee_id" in after:
        assignee = after["assignee_id"]
        if isinstance(assignee, int) and assignee != before.get("assignee_id"):
            notify(
                session,
                recipient_id=assignee,
                kind=ASSIGNED,
                values={**values, "who": _actor_name(session, principal)},
                regarding=regarding,
                actor_id=principal.user_id,
                now=now,
                settings=settings,
            )
    mentioned = after.get("mentioned_ids") or []
    if mentioned:
        who = _actor_name(session, principal)
        for user_id in mentioned:
            notify(
                session,
                recipient_id=int(user_id),
                kind=MENTIONED,
                values={**values, "who": who},
                regarding=regarding,
                actor_id=principal.user_id,
                now=now,
                settings=settings,
            )
    state = AT_RISK_STATES.get((kind, str(after.get("target"))))
    if state is not None and ticket.assignee_id is not None:
        notify(
            session,
            recipient_id=ticket.assignee_id,
            kind=PROMISE_AT_RISK,
            values={**values, "state": Phrase(state)},
            regarding=regarding,
            now=_when(after, now),
            settings=settings,
        )
