"""Display names of the domain's codes (customer kinds, channels, ticket statuses, events...),
marked for translation with ``N_`` and translated where shown (``page._(label(...))``).

A code without a label is shown as it is (never an error): a newer domain may add codes before
the pages learn their names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from kehu.core.i18n import N_, Translator
from kehu.desk.workflow import PRIORITY_NAMES, STATUS_NAMES

CUSTOMER_KINDS = {"person": N_("Person"), "organisation": N_("Organisation")}

CONTACT_TYPES = {
    "email": N_("Email"),
    "phone": N_("Phone"),
    "wechat": N_("WeChat"),
    "address": N_("Address"),
    "other": N_("Other contact"),
}

#: Channels of messages to customers (contact preferences and consent).
MESSAGE_CHANNELS = {
    "email": N_("Email"),
    "sms": N_("Text message"),
    "phone": N_("Phone"),
    "wechat": N_("WeChat"),
    "post": N_("Post"),
}

CONSENTS = {
    "granted": N_("Consent given"),
    "withdrawn": N_("Consent withdrawn"),
    "unknown": N_("Not asked"),
}

PREFERENCES = {
    "preferred": N_("Preferred"),
    "allowed": N_("Allowed"),
    "refused": N_("Refused"),
}

TICKET_KINDS = {
    "complaint": N_("Complaint"),
    "inquiry": N_("Inquiry"),
    "request": N_("Request"),
    "praise": N_("Praise"),
}

TICKET_CHANNELS = {
    "phone": N_("Phone"),
    "email": N_("Email"),
    "web_form": N_("Web form"),
    "chat": N_("Chat"),
    "in_person": N_("In person"),
}

PRIORITIES = PRIORITY_NAMES

STATUSES = STATUS_NAMES

STATUS_CATEGORIES = {
    "open": N_("Open"),
    "waiting_on_customer": N_("Waiting on the customer"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}

TICKET_EVENTS = {
    "created": N_("Ticket filed"),
    "assigned": N_("Assigned"),
    "transferred": N_("Transferred to another team"),
    "replied": N_("Reply sent to the customer"),
    "customer_replied": N_("The customer wrote"),
    "note_added": N_("Internal note added"),
    "paused": N_("Waiting on the customer (clock paused)"),
    "resumed": N_("Resumed (clock running)"),
    "resolved": N_("Resolved"),
    "reopened": N_("Reopened"),
    "closed": N_("Closed"),
    "merged": N_("Merged"),
    "split": N_("Split"),
    "priority_changed": N_("Priority changed"),
    "escalated": N_("Escalated"),
    "sla_warning": N_("Close to its service promise"),
    "sla_breached": N_("Service promise broken"),
    "status_changed": N_("Status changed"),
    "updated": N_("Details edited"),
    "attachment_added": N_("Attachment added"),
}

#: The two promises of a ticket (what an ``sla_warning`` / ``sla_breached`` event is about).
SLA_TARGETS = {
    "first_response": N_("first response"),
    "resolution": N_("resolution"),
}

CUSTOMER_EVENTS = {
    "created": N_("Customer created"),
    "edited": N_("Details edited"),
    "tagged": N_("Tagged"),
    "untagged": N_("Tag removed"),
    "owner_assigned": N_("Account manager assigned"),
    "contact_added": N_("Contact added"),
    "contact_removed": N_("Contact removed"),
    "preference_changed": N_("Contact preference changed"),
    "membership_added": N_("Joined an organisation"),
    "membership_removed": N_("Left an organisation"),
    "imported": N_("Updated by an import"),
    "merged": N_("Duplicate merged in"),
    "merged_into": N_("Merged into another customer"),
    "unmerged": N_("Merge undone"),
    "duplicate_flagged": N_("Flagged as a possible duplicate"),
    "duplicate_dismissed": N_("Possible duplicate dismissed"),
}

TARGET_STATES = {
    "running": N_("Running"),
    "paused": N_("Paused"),
    "met": N_("Kept"),
    "breached": N_("Broken"),
}

MESSAGE_KINDS = {
    "reply": N_("Reply"),
    "customer": N_("Customer"),
    "note": N_("Internal note"),
    "description": N_("Customer"),
}


#: Why a ticket is listed as similar (:mod:`kehu.desk.similar`).
SIMILAR_REASONS = {
    "same customer": N_("Same customer"),
    "same category": N_("Same category"),
    "related category": N_("Related category"),
    "repeat": N_("Repeat"),
    "same kind": N_("Same kind"),
    "still open": N_("Still open"),
}

#: Preferred languages of customers (the codes of the messages sent to them).
LANGUAGES = {
    "zh-Hans": N_("Simplified Chinese"),
    "en": N_("English"),
}


def label(table: dict[str, str], code: str | None) -> str:
    """The label of ``code`` (a message id, translate it where shown), or the code itself."""
    if code is None:
        return ""
    return table.get(code, code)


TABLES: dict[str, dict[str, str]] = {
    "customer_kind": CUSTOMER_KINDS,
    "contact_type": CONTACT_TYPES,
    "message_channel": MESSAGE_CHANNELS,
    "consent": CONSENTS,
    "preference": PREFERENCES,
    "ticket_kind": TICKET_KINDS,
    "ticket_channel": TICKET_CHANNELS,
    "priority": PRIORITIES,
    "status": STATUSES,
    "status_category": STATUS_CATEGORIES,
    "ticket_event": TICKET_EVENTS,
    "customer_event": CUSTOMER_EVENTS,
    "target_state": TARGET_STATES,
    "message_kind": MESSAGE_KINDS,
    "sla_target": SLA_TARGETS,
    "similar_reason": SIMILAR_REASONS,
    "language": LANGUAGES,
}


def namer(translate: Callable[[str], str]) -> Callable[[str, str | None], str]:
    """``name("status", "resolved")`` -> the translated label (templates get it as ``name``)."""

    def name(table: str, code: str | None) -> str:
        if code is None:
            return ""
        found = TABLES[table].get(code)
        return translate(found) if found is not None else code

    return name


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def sla_event_title(translator: Translator, kind: str, after: Mapping[str, Any]) -> str | None:
    """ "Service promise broken: first response (due 23 Mar 2026, 13:00)" for an SLA event
    (``after`` is its payload: ``target``, ``due``, ``alert_at``), ``None`` for another kind.
    An event recorded before the payload carried ``due`` falls back to the breach moment
    (a breach is its due time) or leaves the due time out."""
    if kind not in ("sla_warning", "sla_breached"):
        return None
    _ = translator
    target = str(after.get("target") or "")
    promise = translator.lookup(SLA_TARGETS[target]) if target in SLA_TARGETS else target
    due = _instant(after.get("due"))
    if due is None and kind == "sla_breached":
        due = _instant(after.get("alert_at"))
    if kind == "sla_breached":
        if due is None:
            return _("Service promise broken: %(promise)s", promise=promise)
        return _(
            "Service promise broken: %(promise)s (due %(due)s)",
            promise=promise,
            due=translator.format_datetime(due, "short"),
        )
    if due is None:
        return _("Close to its service promise: %(promise)s", promise=promise)
    return _(
        "Close to its service promise: %(promise)s (due %(due)s)",
        promise=promise,
        due=translator.format_datetime(due, "short"),
    )


def horizon_words(translator: Translator, unit: str, n: int) -> str:
    """A value run's horizon (``n`` of its time ``unit``) in words: ``52 weeks``, ``52 周``."""
    if unit == "day":
        return translator.ngettext("%(num)d day", "%(num)d days", n)
    if unit == "month":
        return translator.ngettext("%(num)d month", "%(num)d months", n)
    if unit == "year":
        return translator.ngettext("%(num)d year", "%(num)d years", n)
    return translator.ngettext("%(num)d week", "%(num)d weeks", n)
