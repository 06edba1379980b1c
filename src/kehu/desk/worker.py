"""The desk's scheduled job: the SLA check.

``sla_check`` (every minute) fires each warning, breach and escalation of the tickets still open
or waiting on the customer -- including tickets nobody has opened -- **exactly once per ticket
and alert key** (``first_response:warning:0.75``, ``resolution:breach:-``, ...): the key is
inserted into ``fired_alerts`` (unique per ticket) in the same transaction as the effects (a
``sla_warning`` / ``sla_breached`` event, the escalation rules' actions, notifications in the
outbox). Two checkers racing on one ticket both try the insert; the loser's insert fails
(PostgreSQL: it waits for the winner's commit, then violates the unique constraint; SQLite:
``BEGIN IMMEDIATE`` serialises them and the loser sees the key) and it does nothing.

It reads, in one query, only the tickets whose ``sla_next_alert_at`` has come: every change of a
ticket stores when its earliest alert not fired yet is due
(:func:`kehu.desk.sla.next_alert_due`, from the event log and ``fired_alerts``), and so does
the check itself after firing. A desk of thousands of open tickets with a handful of alerts due
is a handful of transactions a minute, not one per open ticket. Each due ticket is checked in its
own transaction, so one failure does not hold back the others; a ticket an agent changed
meanwhile is checked again on the next run (its change stored a new time).

A ``sla_warning`` / ``sla_breached`` event is dated at the alert's own moment (when the threshold
was crossed or the promise broke), not when the check noticed it, so a late check (a worker down
for an hour) tells the same story as a punctual one; its ``after`` names the promise
(``target``: ``first_response`` or ``resolution``), its ``due`` time then, the ``threshold``
and ``noticed_at``. Dating it in the past is safe: the SLA clock replays only its own event
kinds (these are not among them, nor do they carry a policy change), and the effort figures
count events by kind and order only ownership changes.

The platform's ``outbox_deliver`` job (:mod:`kehu.core.outbox`) sends the messages queued here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kehu.core import outbox
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.jobs import JobContext
from kehu.core.users.assignees import is_assignable
from kehu.customers.queries import preferred_language
from kehu.desk import ticket_commands as ticket_cases
from kehu.desk import ticket_queries
from kehu.desk.messages import escalation_message, sla_alert_message
from kehu.desk.sla import AlertKind, SlaAlert, alert_key
from kehu.desk.sla_store import promise_zone
from kehu.desk.tables import EscalationRule, FiredAlert, Team, Ticket
from kehu.desk.workflow import ACTIVE_CATEGORIES, PRIORITIES, raised_priority
from kehu.errors import ConflictError
from kehu.store.db import Database

__all__ = ["SlaCheckReport", "alert_key", "check_ticket", "due_for_check", "sla_check"]

log = logging.getLogger(__name__)


@dataclass
class SlaCheckReport:
    """What one run did: ``tickets`` checked (those with an alert due), ``alerts`` fired,
    ``escalations`` acted on, ``errors`` (tickets deferred to the next run)."""

    tickets: int = 0
    alerts: int = 0
    escalations: int = 0
    errors: int = 0


def _rules_for(session: Session, alert: SlaAlert) -> list[EscalationRule]:
    rules = session.scalars(
        select(EscalationRule)
        .where(EscalationRule.active.is_(True))
        .order_by(EscalationRule.position, EscalationRule.id)
    )
    return [
        rule
        for rule in rules
        if (rule.target is None or rule.target == alert.target.value)
        and (rule.alert_kind is None or rule.alert_kind == alert.kind.value)
        and (rule.threshold is None or rule.threshold == alert.threshold)
    ]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _due_then(session: Session, ticket: Ticket, alert: SlaAlert) -> datetime | None:
    """When the alerted promise was due at the alert's moment: a breach is that moment; a
    warning's due time is read from the clock as it stood when the threshold was crossed
    (a pause since has moved it; ``None`` if the target was paused then)."""
    if alert.kind is AlertKind.BREACH:
        return alert.at
    then = ticket_queries.sla_status(session, ticket, alert.at)
    return then.target(alert.target).due if then is not None else None


def _escalate(
    session: Session,
    ticket: Ticket,
    rule: EscalationRule,
    alert: SlaAlert,
    key: str,
    due: datetime | None,
    now: datetime,
    settings: Settings,
) -> None:
    """Act on one rule for one alert; ``due`` is when the alerted promise was due at the
    alert's moment (what its event says), not the ticket's due time at the check."""
    note = {"rule_id": rule.id, "rule": rule.name, "action": rule.action, "alert": key}
    if rule.action == "raise_priority":
        new = rule.priority or raised_priority(ticket.priority)
        if PRIORITIES.index(new) > PRIORITIES.index(ticket.priority):
            ticket_cases.change_priority(
                session,
                SYSTEM,
                ticket.id,
                new,
                now=now,
                settings=settings,
                kind="escalated",
                extra=note,
            )
        return
    if rule.action == "reassign":
        # a rule's assignee deactivated since the rule was made is passed over (the team stays)
        assignee = rule.assignee_id
        if assignee is not None and not is_assignable(session, assignee):
            assignee = None
        if rule.team_id is not None and rule.team_id != ticket.team_id:
            ticket_cases.transfer(
                session,
                SYSTEM,
                ticket.id,
                rule.team_id,
                reason=f"escalation: {rule.name}",
                assignee_id=assignee,
                now=now,
                settings=settings,
            )
        elif assignee is not None and assignee != ticket.assignee_id:
            ticket_cases.assign(session, SYSTEM, ticket.id, assignee, now=now, settings=settings)
        else:
            return
    elif rule.action == "notify":
        if rule.notify_email == "customer":
            told = escalation_message(
                ticket_id=ticket.id, language=preferred_language(session, ticket.customer_id)
            )
            outbox.enqueue(
                session,
                purpose="escalation",
                customer_id=ticket.customer_id,
                regarding=("ticket", ticket.id),
                subject=told.subject,
                body=told.body,
                now=now,
                dedupe_key=f"ticket:{ticket.id}:alert:{key}:rule:{rule.id}",
            )
        else:
            team = session.get(Team, ticket.team_id) if ticket.team_id is not None else None
            staff_told = sla_alert_message(
                ticket_id=ticket.id,
                subject=ticket.subject,
                priority=ticket.priority,
                status=ticket.status,
                kind=alert.kind.value,
                target=alert.target.value,
                due=due or alert.at,
                at=alert.at,
                zone=promise_zone(session, ticket.sla_policy_version_id, default=settings.timezone),
                language=settings.staff_language,
            )
            outbox.enqueue(
                session,
                purpose="escalation",
                regarding=("ticket", ticket.id),
                recipient=rule.notify_email or (team.email if team is not None else None),
                subject=staff_told.subject,
                body=staff_told.body,
                now=now,
                dedupe_key=f"ticket:{ticket.id}:alert:{key}:rule:{rule.id}",
            )
    ticket_cases.record_event(
        session, ticket, SYSTEM, "escalated", now, after=note, settings=settings
    )


def check_ticket(
    session: Session, ticket_id: int, now: datetime, owner: str, settings: Settings
) -> tuple[int, int]:
    """Fire the alerts of one ticket not fired yet and store when its next one is due;
    returns ``(alerts, escalations)``."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.status_category not in ACTIVE_CATEGORIES:
        return 0, 0
    status = ticket_queries.sla_status(session, ticket, now)
    if status is None:
        return 0, 0
    fired = set(
        session.scalars(select(FiredAlert.alert_key).where(FiredAlert.ticket_id == ticket_id))
    )
    alerts = escalations = 0
    for alert in status.alerts:
        key = alert_key(alert)
        if key in fired:
            continue
        try:
            with session.begin_nested():
                session.add(
                    FiredAlert(
                        ticket_id=ticket_id,
                        alert_key=key,
                        alert_at=alert.at,
                        fired_at=now,
                        fired_by=owner,
                    )
                )
                session.flush()
        except IntegrityError:  # another checker fired it first
            continue
        alerts += 1
        kind = "sla_breached" if alert.kind is AlertKind.BREACH else "sla_warning"
        due = _due_then(session, ticket, alert)
        # dated when the promise broke (or the threshold was crossed), not when the check saw it
        ticket_cases.record_event(
            session,
            ticket,
            SYSTEM,
            kind,
            alert.at,
            after={
                "target": alert.target.value,
                "threshold": alert.threshold,
                "alert_at": _utc(alert.at),
                "due": _utc(due) if due is not None else None,
                "noticed_at": _utc(now),
                "key": key,
            },
            settings=settings,
        )
        for rule in _rules_for(session, alert):
            _escalate(session, ticket, rule, alert, key, due, now, settings)
            escalations += 1
    # also when nothing fired (another checker was first): the stored time is then stale, and
    # left so, the ticket would be read again every minute
    ticket_cases.refresh_sla(session, ticket, now)
    return alerts, escalations


def due_for_check(session: Session, now: datetime) -> list[int]:
    """Ids of the open or waiting tickets with a promise whose next alert is due at ``now``."""
    return list(
        session.scalars(
            select(Ticket.id)
            .where(
                Ticket.sla_next_alert_at <= now,
                Ticket.status_category.in_(ACTIVE_CATEGORIES),
                Ticket.sla_policy_version_id.is_not(None),
            )
            .order_by(Ticket.sla_next_alert_at, Ticket.id)
        )
    )


def sla_check(
    database: Database,
    now: datetime,
    *,
    owner: str = "sla_check",
    settings: Settings,
) -> SlaCheckReport:
    """Check the tickets with an alert due (each in its own transaction)."""
    with database.session(read_only=True) as session:
        ids = due_for_check(session, now)
    report = SlaCheckReport()
    for ticket_id in ids:
        report.tickets += 1
        try:
            with database.session() as session:
                alerts, escalations = check_ticket(session, ticket_id, now, owner, settings)
        except (ConflictError, StaleDataError) as exc:  # an agent changed it meanwhile: next run
            log.info("SLA check of ticket %s deferred: %s", ticket_id, exc)
            report.errors += 1
            continue
        report.alerts += alerts
        report.escalations += escalations
    return report


def sla_check_job(context: JobContext) -> None:
    sla_check(context.database, context.now, owner=context.run.owner, settings=context.settings)
