"""The messages the desk sends its customers, as templates of the platform
(:mod:`kehu.core.i18n.messages`): their English texts here, every translation in the catalogs
beside the pages' (``kehu/core/i18n/<language>/LC_MESSAGES/messages.po``).

- :data:`ACKNOWLEDGEMENT` -- right after a customer filed a ticket on the public form: the
  ticket, the service promise told in the customer's time zone, the status link;
- :data:`ESCALATION` -- an escalation rule told the customer their request is late;
- :data:`RECEIVED` -- a ticket staff filed for a customer (phone, e-mail, counter): its number
  and the service promise, in the customer's language and the promise calendar's time zone;
- :data:`SLA_ALERT` -- to a team's mailbox or a rule's address: a ticket neared or broke its
  service promise (in the desk's staff language, ``KEHU_STAFF_LANGUAGE``).

:func:`register_messages` registers them (from :mod:`kehu.desk.registrations`); the
``*_message`` functions render them in the customer's language.
"""

from __future__ import annotations

from datetime import datetime

from kehu.core.i18n import N_
from kehu.core.i18n.messages import (
    LocalTime,
    Phrase,
    RenderedMessage,
    register_message,
    render_message,
)
from kehu.desk.workflow import PRIORITY_NAMES, STATUS_NAMES

__all__ = [
    "ACKNOWLEDGEMENT",
    "ESCALATION",
    "KIND_NAMES",
    "RECEIVED",
    "SLA_ALERT",
    "acknowledgement_message",
    "escalation_message",
    "received_message",
    "register_messages",
    "sla_alert_message",
]

ACKNOWLEDGEMENT = "desk.acknowledgement"
ESCALATION = "desk.escalation"
RECEIVED = "desk.received"
SLA_ALERT = "desk.sla_alert"

#: A ticket's kind as the customer reads it inside a sentence ("your complaint").
KIND_NAMES = {
    "complaint": N_("complaint"),
    "inquiry": N_("inquiry"),
    "request": N_("request"),
    "praise": N_("praise"),
}

PROMISE_REPLY_AND_RESOLVE = N_(
    "Our service promise: we will reply by %(reply_by)s and aim to resolve it by %(resolve_by)s."
)
PROMISE_REPLY = N_("Our service promise: we will reply by %(reply_by)s.")
PROMISE_NONE = N_("We will reply as soon as we can.")

ACKNOWLEDGEMENT_SUBJECT = N_("[#%(ticket_id)s] We received your %(kind)s: %(subject)s")
ACKNOWLEDGEMENT_BODY = N_(
    "Dear %(name)s,\n"
    "\n"
    "thank you for telling us. We have filed your %(kind)s as #%(ticket_id)s: %(subject)s\n"
    "\n"
    "%(promise)s\n"
    "\n"
    "Follow your ticket and reply to us through this link (keep it to yourself; it works until "
    "%(expires)s):\n"
    "%(url)s\n"
)

ESCALATION_SUBJECT = N_("[#%(ticket_id)s] Your request has been escalated")
ESCALATION_BODY = N_(
    "Your request is taking longer than we promised. It has been escalated, and a senior "
    "colleague is looking after it now.\n"
)

RECEIVED_SUBJECT = N_("[#%(ticket_id)s] We received your message: %(subject)s")
RECEIVED_BODY = N_(
    "Thank you for contacting us. Your reference is #%(ticket_id)s.\n\n%(promise)s\n"
)

#: What an alert says of the promise (:class:`kehu.desk.sla.AlertKind` values).
ALERT_KINDS = {"warning": N_("nearly due"), "breach": N_("broken")}
#: Which promise (:class:`kehu.desk.sla.SlaTarget` values).
ALERT_TARGETS = {"first_response": N_("first response"), "resolution": N_("resolution")}
SLA_ALERT_SUBJECT = N_("[#%(ticket_id)s] Service promise %(kind)s (%(target)s): %(subject)s")
SLA_ALERT_BODY = N_(
    "Ticket #%(ticket_id)s (%(priority)s, %(status)s): the %(target)s promise is due %(due)s. "
    "As of %(at)s it is %(kind)s.\n"
)


def register_messages() -> None:
    """Register the desk's templates with the platform."""
    register_message(
        ACKNOWLEDGEMENT,
        subject=ACKNOWLEDGEMENT_SUBJECT,
        body=ACKNOWLEDGEMENT_BODY,
        phrases=(*KIND_NAMES.values(), PROMISE_REPLY_AND_RESOLVE, PROMISE_REPLY, PROMISE_NONE),
    )
    register_message(ESCALATION, subject=ESCALATION_SUBJECT, body=ESCALATION_BODY)
    register_message(
        RECEIVED,
        subject=RECEIVED_SUBJECT,
        body=RECEIVED_BODY,
        phrases=(PROMISE_REPLY_AND_RESOLVE, PROMISE_REPLY, PROMISE_NONE),
    )
    register_message(
        SLA_ALERT,
        subject=SLA_ALERT_SUBJECT,
        body=SLA_ALERT_BODY,
        phrases=(
            *ALERT_KINDS.values(),
            *ALERT_TARGETS.values(),
            *PRIORITY_NAMES.values(),
            *STATUS_NAMES.values(),
        ),
    )


def _promise(
    first_response_due: datetime | None, resolution_due: datetime | None, zone: str
) -> Phrase:
    if first_response_due is None:
        return Phrase(PROMISE_NONE)
    if resolution_due is None:
        return Phrase(PROMISE_REPLY, reply_by=LocalTime(first_response_due, zone))
    return Phrase(
        PROMISE_REPLY_AND_RESOLVE,
        reply_by=LocalTime(first_response_due, zone),
        resolve_by=LocalTime(resolution_due, zone),
    )


def acknowledgement_message(
    *,
    ticket_id: int,
    kind: str,
    subject: str,
    name: str,
    first_response_due: datetime | None,
    resolution_due: datetime | None,
    zone: str,
    url: str,
    expires: datetime,
    language: str | None,
) -> RenderedMessage:
    """The acknowledgement of a filed ticket in ``language``, its times told in ``zone``."""
    promise = _promise(first_response_due, resolution_due, zone)
    return render_message(
        ACKNOWLEDGEMENT,
        language,
        ticket_id=ticket_id,
        kind=Phrase(KIND_NAMES[kind]),
        subject=subject,
        name=name,
        promise=promise,
        expires=LocalTime(expires, zone),
        url=url,
    )


def escalation_message(*, ticket_id: int, language: str | None) -> RenderedMessage:
    """The customer's notice that their late request was escalated, in ``language``."""
    return render_message(ESCALATION, language, ticket_id=ticket_id)


def received_message(
    *,
    ticket_id: int,
    subject: str,
    first_response_due: datetime | None,
    resolution_due: datetime | None,
    zone: str,
    language: str | None,
) -> RenderedMessage:
    """The customer's notice of a ticket staff filed for them, in ``language``, its promise told
    in ``zone``."""
    return render_message(
        RECEIVED,
        language,
        ticket_id=ticket_id,
        subject=subject,
        promise=_promise(first_response_due, resolution_due, zone),
    )


def _named(names: dict[str, str], code: str) -> Phrase | str:
    """The code's translated name (a code the vocabulary does not know yet: the code itself)."""
    return Phrase(names[code]) if code in names else code


def sla_alert_message(
    *,
    ticket_id: int,
    subject: str,
    priority: str,
    status: str,
    kind: str,
    target: str,
    due: datetime,
    at: datetime,
    zone: str,
    language: str | None,
) -> RenderedMessage:
    """The staff's alert that a ticket's ``target`` promise is near (``kind`` "warning") or
    broken ("breach"): due and alert times told in ``zone``."""
    return render_message(
        SLA_ALERT,
        language,
        ticket_id=ticket_id,
        subject=subject,
        priority=_named(PRIORITY_NAMES, priority),
        status=_named(STATUS_NAMES, status),
        kind=Phrase(ALERT_KINDS[kind]),
        target=Phrase(ALERT_TARGETS[target]),
        due=LocalTime(due, zone),
        at=LocalTime(at, zone),
    )
