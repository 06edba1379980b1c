"""The messages the feedback domain sends customers, as templates of the platform
(:mod:`kehu.core.i18n.messages`; translations in the catalogs beside the pages'):

- :data:`INVITATION` -- an invitation to answer a survey: its title, the link and until when it
  works, and the unsubscribe link;
- :data:`REMINDER` -- the one reminder of an invitation not answered yet, with the same parts.

:func:`register_messages` registers them (from :mod:`kehu.feedback.registrations`).
"""

from __future__ import annotations

from datetime import datetime

from kehu.core.i18n import N_
from kehu.core.i18n.messages import LocalTime, RenderedMessage, register_message, render_message

__all__ = ["INVITATION", "REMINDER", "invitation_message", "register_messages"]

INVITATION = "feedback.invitation"
REMINDER = "feedback.reminder"

INVITATION_SUBJECT = N_("How did we do? %(title)s")
INVITATION_BODY = N_(
    "Dear %(name)s,\n"
    "\n"
    "we would like to know how we did. Please tell us in a few minutes: %(title)s\n"
    "\n"
    "%(url)s\n"
    "\n"
    "The link is yours alone and works until %(expires)s. You can stop and come back to it "
    "later.\n"
    "\n"
    "No more surveys from us: %(unsubscribe_url)s\n"
)
REMINDER_SUBJECT = N_("A reminder: %(title)s")
REMINDER_BODY = N_(
    "Dear %(name)s,\n"
    "\n"
    "a few days ago we asked how we did. If you have a few minutes, your answer helps us: "
    "%(title)s\n"
    "\n"
    "%(url)s\n"
    "\n"
    "The link works until %(expires)s. This is our only reminder.\n"
    "\n"
    "No more surveys from us: %(unsubscribe_url)s\n"
)


def register_messages() -> None:
    """Register the feedback domain's templates with the platform."""
    register_message(INVITATION, subject=INVITATION_SUBJECT, body=INVITATION_BODY)
    register_message(REMINDER, subject=REMINDER_SUBJECT, body=REMINDER_BODY)


def invitation_message(
    *,
    reminder: bool,
    name: str,
    title: str,
    url: str,
    unsubscribe_url: str,
    expires: datetime,
    zone: str,
    language: str | None,
) -> RenderedMessage:
    """An invitation (or its reminder) in ``language``, the expiry told in ``zone``."""
    return render_message(
        REMINDER if reminder else INVITATION,
        language,
        name=name,
        title=title,
        url=url,
        unsubscribe_url=unsubscribe_url,
        expires=LocalTime(expires, zone),
    )
