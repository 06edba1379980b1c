"""What the desk registers with the platform: its permissions and role grants, the ticket row
scope, its merge references and timeline source, its jobs. Imported once by :mod:`kehu.domains`;
nothing else imports it."""

from __future__ import annotations

from datetime import timedelta

from kehu.core.auth import register_scope
from kehu.core.auth.permissions import register_permissions
from kehu.core.jobs import register_job
from kehu.customers.references import register_customer_reference
from kehu.customers.timeline import register_timeline_source
from kehu.desk.macros import macro_scope
from kehu.desk.messages import register_messages
from kehu.desk.notifications import register_notifications
from kehu.desk.tables import Macro, Ticket, TicketView, ticket_scope, ticket_view_scope
from kehu.desk.timeline import ticket_timeline_entries
from kehu.desk.worker import sla_check_job

register_permissions(
    "desk",
    {
        "tickets:read": "read the tickets of one's teams",
        "tickets:write": "work on the tickets of one's teams: reply, assign, transfer, resolve",
        "tickets:all_teams": "row scope: see and work on the tickets of every team",
        "settings:write": "teams, routing and escalation rules, service promises, calendars",
        "macros:write": "create, change and delete canned replies (macros)",
        "tickets:share_views": "save views of the ticket queue shared with every user",
    },
    grants={
        "manager": [
            "tickets:read",
            "tickets:write",
            "tickets:all_teams",
            "settings:write",
            "macros:write",
            "tickets:share_views",
        ],
        "agent": ["tickets:read", "tickets:write"],
        "read_only": ["tickets:read"],
    },
)

register_scope(Ticket, "tickets:read", ticket_scope)
register_scope(Macro, "tickets:read", macro_scope)
# saved views of the queue: one's own and the shared ones (kehu.desk.ticket_views)
register_scope(TicketView, "tickets:read", ticket_view_scope)

# Tickets follow a customer merge and are on the 360 timeline.
register_customer_reference(Ticket, "customer_id")
register_timeline_source("tickets", ticket_timeline_entries)

register_job("sla_check", sla_check_job, every=timedelta(minutes=1))

# The e-mails the desk sends its customers (kehu.desk.messages; texts in the catalogs).
register_messages()
# What it tells its staff in the bell and by e-mail (kehu.desk.notifications).
register_notifications()

# --- personal data (kehu.core.personal_data), erased with the customer --------------------------
# (imported here, not at the top, so that this block stays one appended piece)
from kehu.core.events import CustomerErased, subscribe  # noqa: E402
from kehu.core.notifications import Notification  # noqa: E402
from kehu.core.outbox import OutboxMessage  # noqa: E402
from kehu.core.personal_data import (  # noqa: E402
    declare_not_personal,
    redact_strings,
    register_audit_entity,
    register_personal_fields,
    through,
)
from kehu.desk.erasure import (  # noqa: E402
    ATTACHMENT_FILES_JOB,
    erase_attachment_files_job,
    notifications_of,
    schedule_attachment_file_erasure,
    tickets_of,
)
from kehu.desk.tables import (  # noqa: E402
    BusinessCalendarRow,
    EscalationRule,
    FiredAlert,
    RoutingRule,
    SlaPolicyRow,
    SlaPolicyVersion,
    Team,
    TicketAttachment,
    TicketCategory,
    TicketEvent,
    TicketMessage,
)

# The customer's words: the subject and description of tickets (the erasure's ``tickets`` count),
# every message, the text in the event log (codes kept), attachments' names, digests and bytes.
register_personal_fields(
    Ticket, ["subject", "description"], erase="redact", version_column="version"
)
declare_not_personal(
    Ticket, ["kind", "channel", "priority", "status", "status_category", "value_tier"], "codes"
)
register_personal_fields(
    TicketMessage, ["body"], rows=through(TicketMessage.ticket_id, Ticket), erase="redact"
)
declare_not_personal(TicketMessage, ["kind"], "a code")
register_personal_fields(
    TicketEvent,
    ["before", "after"],
    rows=through(TicketEvent.ticket_id, Ticket),
    erase=redact_strings(
        keep=("status", "kind", "channel", "priority", "target", "alert_at", "action", "alert")
    ),
)
declare_not_personal(TicketEvent, ["kind", "actor_kind"], "codes")
register_personal_fields(
    TicketAttachment,
    ["filename", "sha256", "storage_path", "content"],
    rows=through(TicketAttachment.ticket_id, Ticket),
    erase={"filename": "redact", "sha256": "blank", "storage_path": "null", "content": "null"},
)
declare_not_personal(TicketAttachment, ["content_type"], "a media type")
# the stored files: noted in the erasure's transaction, deleted by a job once it committed
subscribe(CustomerErased, schedule_attachment_file_erasure)
register_job(ATTACHMENT_FILES_JOB, erase_attachment_files_job)
# Notifications to staff about the customer's tickets quote the ticket (messages to the customer
# are erased by the platform's own registration of the outbox).
register_personal_fields(
    OutboxMessage,
    ["recipient", "subject", "body", "last_error"],
    rows=tickets_of,
    erase={"recipient": "null", "subject": "redact", "body": "redact", "last_error": "null"},
    name="outbox_messages:tickets",
)
# The bell's titles quote the ticket's subject (kehu.desk.notifications).
register_personal_fields(
    Notification, ["title"], rows=notifications_of, erase="redact", name="notifications:tickets"
)
register_audit_entity("ticket", Ticket, customer_column="customer_id")
# The desk's settings: staff and configuration, no customer.
declare_not_personal(
    BusinessCalendarRow,
    ["name", "timezone", "weekly_hours", "holidays", "special_hours"],
    "opening hours (configuration)",
)
declare_not_personal(
    Team,
    ["name", "email", "assignment_mode"],
    "a team of staff, its shared address and assignment mode (configuration)",
)
declare_not_personal(TicketCategory, ["name"], "a root-cause category (configuration)")
declare_not_personal(SlaPolicyRow, ["name"], "a service promise's name (configuration)")
declare_not_personal(
    SlaPolicyVersion,
    ["name", "calendar", "priorities", "kinds", "channels", "value_tiers", "warning_thresholds"],
    "a service promise's terms (configuration)",
)
declare_not_personal(
    RoutingRule,
    ["name", "kinds", "channels", "priorities", "category_ids", "value_tiers"],
    "a routing rule (configuration)",
)
declare_not_personal(
    EscalationRule,
    ["name", "target", "alert_kind", "action", "priority", "notify_email"],
    "an escalation rule and the staff address it notifies (configuration)",
)
declare_not_personal(FiredAlert, ["alert_key", "fired_by"], "an alert code and a worker's name")
declare_not_personal(
    Macro, ["name", "body_en", "body_zh"], "a canned reply's text with placeholders (configuration)"
)
# Saved views of the queue: a staff member's name for filters (search words typed by staff).
declare_not_personal(TicketView, ["name", "params"], "a staff member's saved queue filters")
