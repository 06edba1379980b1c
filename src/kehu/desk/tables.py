"""Tables owned by the service desk: teams, tickets and their event log, SLA policies and
calendars (versioned), routing and escalation rules, fired alerts.

Timestamps are UTC (:class:`~kehu.store.base.UTCDateTime`). Every column holding a staff user
id (``user_id``, ``assignee_id``, ``actor_id``, ``author_id``, ``created_by``, ``uploaded_by``) has
a foreign key to ``users.id`` (``kehu.core.users``) without ``ondelete``: users are deactivated,
never deleted, so a delete of one still referenced is refused rather than losing who did what
(migration 0009). Every foreign key column has an index (tests/store/test_indexes.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Select,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kehu.core.auth import Principal
from kehu.store.base import Base, UTCDateTime, not_modelled, utc_now

ID = BigInteger().with_variant(Integer, "sqlite")

#: PostgreSQL's trigram indexes of the queue's search words (pg_trgm), made by migration 0011
SEARCH_TRIGRAM_INDEXES = (
    "ix_tickets_subject_trgm",
    "ix_tickets_description_trgm",
    "ix_ticket_messages_body_trgm",
)
not_modelled(*SEARCH_TRIGRAM_INDEXES)


class BusinessCalendarRow(Base):
    """A business calendar as an administrator edits it (policy versions keep a snapshot)."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"0": [["09:00", "17:00"]], ...} keyed by weekday 0 (Monday) .. 6
    weekly_hours: Mapped[dict[str, Any]] = mapped_column(JSON)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["2026-04-03", ...]
    special_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The team's working hours (informational; SLA targets count on the policy's calendar).
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))  # where escalations are notified
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # How a ticket arriving without an assignee gets one (kehu.desk.assignment.ASSIGNMENT_MODES):
    # ``none``, ``round_robin`` or ``least_open``.
    assignment_mode: Mapped[str] = mapped_column(String(20), default="none")
    # round robin: the member who was given the last ticket (the next one goes to the member
    # after them); a plain id, no foreign key: a user removed from the team is simply passed
    round_robin_last_user_id: Mapped[int | None] = mapped_column(BigInteger)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id"), primary_key=True, index=True
    )


class TicketCategory(Base):
    """A node of the root-cause category tree."""

    __tablename__ = "ticket_categories"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_categories.id"))

    __table_args__ = (UniqueConstraint("parent_id", "name"),)


class SlaPolicyRow(Base):
    """The identity of a service promise; its content lives in versions."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class SlaPolicyVersion(Base):
    """One immutable version of a policy, with a snapshot of its calendar."""

    __tablename__ = "sla_policy_versions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    first_response_seconds: Mapped[int] = mapped_column(BigInteger)
    resolution_seconds: Mapped[int] = mapped_column(BigInteger)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"), index=True)
    calendar: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot of the calendar
    priorities: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    value_tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    warning_thresholds: Mapped[list[float]] = mapped_column(JSON, default=list)
    order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)

    __table_args__ = (UniqueConstraint("policy_id", "version"),)


class RoutingRule(Base):
    """Ordered rule: the first active rule whose conditions all hold picks the team.

    Each condition is a list of codes (empty: any); ``category_ids`` also matches sub-categories.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    priorities: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    value_tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class EscalationRule(Base):
    """What to do when an SLA alert fires: ``reassign`` (to ``team_id`` / ``assignee_id``),
    ``raise_priority`` (one step, or to ``priority``) or ``notify`` (``notify_email``, else the
    team's address). ``target``/``alert_kind``/``threshold`` select the alerts (None: any)."""

    __tablename__ = "escalation_rules"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[str | None] = mapped_column(String(20))  # first_response | resolution
    alert_kind: Mapped[str | None] = mapped_column(String(10))  # warning | breach
    threshold: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    priority: Mapped[str | None] = mapped_column(String(10))
    notify_email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(30))
    status_category: Mapped[str] = mapped_column(String(30), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_categories.id"), index=True)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    sla_policy_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policy_versions.id"), index=True
    )
    value_tier: Mapped[str | None] = mapped_column(String(10))  # the customer's tier at creation
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # earliest due time among the running targets: the queue's sort key
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # when the SLA check must next look at the ticket: its earliest alert (warning or breach)
    # not fired yet, kept with the due times on every change; NULL once it is not open or
    # waiting, or has nothing more to alert, so the check's index scan reads only due tickets
    sla_next_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    sla_kept: Mapped[bool | None] = mapped_column(Boolean)  # set when resolved
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # optimistic lock: bumped once per use case (kehu.desk.ticket_commands), checked by every UPDATE
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012
    __table_args__ = (
        Index("ix_tickets_customer_category_created", "customer_id", "category_id", "created_at"),
    )


class TicketEvent(Base):
    """Append-only: what happened to a ticket, who did it, and the agent's handling time."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # None: the system or the customer
    actor_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    actor_kind: Mapped[str] = mapped_column(String(10))  # user | system | customer
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    handling_seconds: Mapped[int] = mapped_column(Integer, default=0)


class TicketMessage(Base):
    """Replies to the customer, the customer's messages, and internal notes."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # reply | customer | note | description
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class TicketAttachment(Base):
    """Attachment metadata; the bytes are in ``content`` or in a file under the attachment
    directory (``storage_path`` relative to it)."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str | None] = mapped_column(String(500))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class FiredAlert(Base):
    """An SLA warning, breach or escalation already fired for a ticket (exactly once)."""

    __tablename__ = "fired_alerts"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    alert_key: Mapped[str] = mapped_column(String(100))
    alert_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("ticket_id", "alert_key"),)


class Macro(Base):
    """A canned reply (:mod:`kehu.desk.macros`): a body per language with placeholders such as
    ``{customer_name}``, for one team or (``team_id`` NULL) every team."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_zh: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class TicketView(Base):
    """A saved view of the ticket queue: a name for its filters and sort (the queue's URL
    parameters, :mod:`kehu.desk.ticket_queue`), the owner's own or shared with every user (a
    lead's or manager's)."""

    __tablename__ = "ticket_views"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_ticket_views_owner_name"),)


def ticket_view_scope(statement: Select[Any], principal: Principal) -> Select[Any]:
    """One's own saved views and the shared ones."""
    if principal.user_id is None:
        return statement.where(TicketView.shared.is_(True))
    return statement.where((TicketView.owner_id == principal.user_id) | TicketView.shared.is_(True))


def sees_every_team(principal: Principal) -> bool:
    """Whether the ticket scope lets ``principal`` see the tickets of every team."""
    return principal.can("tickets:all_teams")


def ticket_scope(statement: Select[Any], principal: Principal) -> Select[Any]:
    """Agents and read-only users see their teams' tickets; ``tickets:all_teams`` sees all."""
    if sees_every_team(principal):
        return statement
    return statement.where(Ticket.team_id.in_(sorted(principal.team_ids)))
