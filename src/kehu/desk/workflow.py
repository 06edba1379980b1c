"""Ticket vocabulary and the status machine.

Statuses are grouped into four categories (what the queue, reports and the SLA clock look at)::

    status               category              SLA clock
    new                  open                  runs
    in_progress          open                  runs
    waiting_on_customer  waiting_on_customer   paused
    resolved             resolved              stopped (reopen resumes it)
    closed               closed                stopped for good

The transition table :data:`TRANSITIONS` lists every legal move; any other move is refused with
:class:`~kehu.errors.ConflictError` carrying the reason (:func:`check_transition`).
"""

from __future__ import annotations

from kehu.core.i18n import N_
from kehu.errors import ConflictError

KINDS = ("complaint", "inquiry", "request", "praise")
CHANNELS = ("phone", "email", "web_form", "chat", "in_person")
#: Priorities, lowest first, with the names the pages and the desk's e-mails show (catalog ids).
PRIORITY_NAMES = {
    "low": N_("Low"),
    "normal": N_("Normal"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}
PRIORITIES = tuple(PRIORITY_NAMES)

STATUS_CATEGORIES: dict[str, str] = {
    "new": "open",
    "in_progress": "open",
    "waiting_on_customer": "waiting_on_customer",
    "resolved": "resolved",
    "closed": "closed",
}
STATUSES = tuple(STATUS_CATEGORIES)
#: Statuses with the names the pages and the desk's e-mails show (catalog ids).
STATUS_NAMES = {
    "new": N_("New"),
    "in_progress": N_("In progress"),
    "waiting_on_customer": N_("Waiting on the customer"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}
CATEGORIES = ("open", "waiting_on_customer", "resolved", "closed")
#: Categories of tickets that still need work (the queue, the SLA check).
ACTIVE_CATEGORIES = ("open", "waiting_on_customer")

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_progress", "waiting_on_customer", "resolved", "closed"}),
    "in_progress": frozenset({"waiting_on_customer", "resolved", "closed"}),
    "waiting_on_customer": frozenset({"in_progress", "resolved", "closed"}),
    "resolved": frozenset({"in_progress", "closed"}),
    "closed": frozenset(),
}

_REASONS: dict[tuple[str, str], str] = {
    ("in_progress", "new"): "a ticket that has been worked on cannot become new again",
    ("waiting_on_customer", "new"): "a ticket that has been worked on cannot become new again",
    ("resolved", "new"): "a resolved ticket is reopened to in_progress, not to new",
    ("resolved", "waiting_on_customer"): (
        "a resolved ticket must be reopened before it can wait on the customer"
    ),
}


def status_category(status: str) -> str:
    return STATUS_CATEGORIES[status]


def transition_refusal(current: str, target: str) -> str | None:
    """Why ``current -> target`` is not allowed, or ``None`` when it is."""
    if target not in STATUS_CATEGORIES:
        return f"unknown status {target!r}; statuses are {', '.join(STATUSES)}"
    if target in TRANSITIONS[current]:
        return None
    if current == target:
        return f"the ticket is already {current}"
    if current == "closed":
        return "a closed ticket cannot change status; file a new ticket (it is linked as a repeat)"
    reason = _REASONS.get((current, target))
    if reason is not None:
        return reason
    allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
    return f"a {current} ticket cannot become {target} (allowed: {allowed})"


def check_transition(current: str, target: str) -> None:
    """Raise :class:`ConflictError` with the reason unless ``current -> target`` is legal."""
    reason = transition_refusal(current, target)
    if reason is not None:
        raise ConflictError(f"illegal status change {current} -> {target}: {reason}")


def raised_priority(priority: str) -> str:
    """One step up (``urgent`` stays ``urgent``)."""
    index = PRIORITIES.index(priority)
    return PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]
