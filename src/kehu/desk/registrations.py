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
from kehu.desk.tables import Ticket, ticket_scope
from kehu.desk.timeline import ticket_timeline_entries
from kehu.desk.worker import sla_check_job

register_permissions(
    "desk",
    {
        "tickets:read": "read the tickets of one's teams",
        "tickets:write": "work on the tickets of one's teams: reply, assign, transfer, resolve",
        "tickets:all_teams": "row scope: see and work on the tickets of every team",
        "settings:write": "teams, routing and escalation rules, service promises, calendars",
    },
    grants={
        "manager": ["tickets:read", "tickets:write", "tickets:all_teams", "settings:write"],
        "agent": ["tickets:read", "tickets:write"],
        "read_only": ["tickets:read"],
    },
)

register_scope(Ticket, "tickets:read", ticket_scope)

# Tickets follow a customer merge and are on the 360 timeline.
register_customer_reference(Ticket, "customer_id")
register_timeline_source("tickets", ticket_timeline_entries)

register_job("sla_check", sla_check_job, every=timedelta(minutes=1))
