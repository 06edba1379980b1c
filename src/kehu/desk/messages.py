"""The messages the desk sends its customers, as templates of the platform
(:mod:`kehu.core.i18n.messages`): their English texts here, every translation in the catalogs
beside the pages' (``kehu/core/i18n/<language>/LC_MESSAGES/messages.po``).

- :data:`ACKNOWLEDGEMENT` -- right after a customer filed a ticket on the public form: the
  ticket, the service promise told in the customer's time zone, the status link;
- :data:`ESCALATION` -- an escalation rule told the customer their request is late.

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

__all__ = [
    "ACKNOWLEDGEMENT",
    "ESCALATION",
    "KIND_NAMES",
    "acknowledgement_message",
    "escalation_message",
    "register_messages",
]

ACKNOWLEDGEMENT = "desk.acknowledgement"
ESCALATION = "desk.escalation"

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


def register_messages() -> None:
    """Register the desk's templates with the platform."""
    register_message(
        ACKNOWLEDGEMENT,
        subject=ACKNOWLEDGEMENT_SUBJECT,
        body=ACKNOWLEDGEMENT_BODY,
        phrases=(*KIND_NAMES.values(), PROMISE_REPLY_AND_RESOLVE, PROMISE_REPLY, PROMISE_NONE),
    )
    register_message(ESCALATION, subject=ESCALATION_SUBJECT, body=ESCALATION_BODY)


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
    if first_response_due is None:
        promise = Phrase(PROMISE_NONE)
    elif resolution_due is None:
        promise = Phrase(PROMISE_REPLY, reply_by=LocalTime(first_response_due, zone))
    else:
        promise = Phrase(
            PROMISE_REPLY_AND_RESOLVE,
            reply_by=LocalTime(first_response_due, zone),
            resolve_by=LocalTime(resolution_due, zone),
        )
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
