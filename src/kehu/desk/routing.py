"""Teams, their members, the category tree, and the rules that route tickets and escalate them.

Routing: rules are tried in ``position`` order (then id); the first active rule whose every
condition holds gives the team. A condition is a list of codes; an empty list means "any".
``category_ids`` matches the ticket's category *or any of its ancestors*, so a rule on
"Billing" also routes "Billing > Refund". ``value_tiers`` is the customer's latest value tier
(``customer_scores.value_tier``); a customer without a score matches only rules without a tier
condition. No rule matching leaves the ticket without a team (managers see it in the queue).

Every change appends an audit event (:func:`_audit_created`: a new row's columns;
team members added and removed; a rule switched on or off, ``<rule>.activated``/``.deactivated``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kehu.core.audit import record_audit, snapshot
from kehu.core.auth import Principal, require
from kehu.core.users.assignees import check_assignable
from kehu.desk.sla_store import VALUE_TIERS
from kehu.desk.tables import (
    BusinessCalendarRow,
    EscalationRule,
    RoutingRule,
    Team,
    TeamMember,
    TicketCategory,
    sees_every_team,
)
from kehu.desk.workflow import CHANNELS, KINDS, PRIORITIES
from kehu.errors import ConflictError, InputError, NotFoundError

__all__ = [
    "ESCALATION_ACTIONS",
    "RoutingInput",
    "add_team_member",
    "category_ancestry",
    "create_category",
    "create_escalation_rule",
    "create_routing_rule",
    "create_team",
    "get_team",
    "list_categories",
    "list_escalation_rules",
    "list_routing_rules",
    "list_teams",
    "remove_team_member",
    "route",
    "set_escalation_rule_active",
    "set_routing_rule_active",
    "team_ids_of",
    "team_member_ids",
    "team_names",
]

ESCALATION_ACTIONS = ("reassign", "raise_priority", "notify")


@dataclass(frozen=True)
class RoutingInput:
    kind: str
    channel: str
    priority: str
    category_id: int | None
    value_tier: str | None


def _audit_created(
    session: Session,
    principal: Principal,
    entity: str,
    row: Team | TicketCategory | RoutingRule | EscalationRule,
) -> None:
    """Audit a new row: ``<entity>.created`` with its columns as ``after``."""
    record_audit(session, principal, f"{entity}.created", entity, row.id, None, snapshot(row))


# -- teams ------------------------------------------------------------------------------------


def create_team(
    session: Session,
    principal: Principal,
    name: str,
    *,
    calendar_id: int | None = None,
    email: str | None = None,
) -> Team:
    require(principal, "settings:write")
    name = name.strip()
    if not name:
        raise InputError("a team needs a name", column="name")
    if session.scalar(select(Team).where(Team.name == name)):
        raise ConflictError(f"a team named {name!r} exists already")
    if calendar_id is not None and session.get(BusinessCalendarRow, calendar_id) is None:
        raise InputError("no such calendar", column="calendar_id", value=calendar_id)
    team = Team(name=name, calendar_id=calendar_id, email=email)
    session.add(team)
    session.flush()
    _audit_created(session, principal, "team", team)
    return team


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFoundError(f"no team with id {team_id}")
    return team


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


def team_names(session: Session) -> dict[int, str]:
    """Every team's name by id (ordered by name)."""
    return {team.id: team.name for team in list_teams(session)}


def ticket_teams(session: Session, principal: Principal) -> dict[int, str]:
    """The teams whose tickets ``principal`` sees, by id (ordered by name): the ticket scope's
    rule, for a queue's team filter (``tickets:read`` required)."""
    require(principal, "tickets:read")
    names = team_names(session)
    if sees_every_team(principal):
        return names
    return {team_id: name for team_id, name in names.items() if team_id in principal.team_ids}


def team_member_ids(session: Session, team_id: int) -> list[int]:
    """The user ids of the team's members, ascending."""
    return list(
        session.scalars(
            select(TeamMember.user_id)
            .where(TeamMember.team_id == team_id)
            .order_by(TeamMember.user_id)
        )
    )


def add_team_member(session: Session, principal: Principal, team_id: int, user_id: int) -> None:
    """Add ``user_id``, an active user, to a team (idempotent)."""
    require(principal, "settings:write")
    get_team(session, team_id)
    check_assignable(session, user_id, column="user_id")
    if session.get(TeamMember, (team_id, user_id)) is None:
        session.add(TeamMember(team_id=team_id, user_id=user_id))
        session.flush()
        member = {"user_id": user_id}
        record_audit(session, principal, "team.member_added", "team", team_id, None, member)


def remove_team_member(session: Session, principal: Principal, team_id: int, user_id: int) -> None:
    require(principal, "settings:write")
    removed = session.execute(
        delete(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
    )
    if getattr(removed, "rowcount", 0):
        member = {"user_id": user_id}
        record_audit(session, principal, "team.member_removed", "team", team_id, member, None)


def team_ids_of(session: Session, user_id: int) -> frozenset[int]:
    """The teams of a user: what :class:`~kehu.core.auth.Principal` ``team_ids`` should hold."""
    return frozenset(
        session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id))
    )


# -- categories -------------------------------------------------------------------------------


def create_category(
    session: Session, principal: Principal, name: str, parent_id: int | None = None
) -> TicketCategory:
    require(principal, "settings:write")
    name = name.strip()
    if not name:
        raise InputError("a category needs a name", column="name")
    if parent_id is not None and session.get(TicketCategory, parent_id) is None:
        raise InputError("no such parent category", column="parent_id", value=parent_id)
    duplicate = select(TicketCategory).where(
        TicketCategory.name == name,
        TicketCategory.parent_id.is_(None)
        if parent_id is None
        else TicketCategory.parent_id == parent_id,
    )
    if session.scalar(duplicate):
        raise ConflictError(f"category {name!r} exists already there")
    category = TicketCategory(name=name, parent_id=parent_id)
    session.add(category)
    session.flush()
    _audit_created(session, principal, "ticket_category", category)
    return category


def list_categories(session: Session) -> list[TicketCategory]:
    return list(session.scalars(select(TicketCategory).order_by(TicketCategory.id)))


def category_ancestry(session: Session, category_id: int | None) -> list[int]:
    """``category_id`` followed by its ancestors up to the root (empty for ``None``)."""
    chain: list[int] = []
    current = category_id
    while current is not None and current not in chain:
        chain.append(current)
        category = session.get(TicketCategory, current)
        current = category.parent_id if category is not None else None
    return chain


def category_path(session: Session, category_id: int | None) -> str:
    """``"Billing > Refund"``."""
    names = []
    for cid in reversed(category_ancestry(session, category_id)):
        category = session.get(TicketCategory, cid)
        if category is not None:
            names.append(category.name)
    return " > ".join(names)


# -- rules ------------------------------------------------------------------------------------


def _codes(values: Iterable[str] | None, allowed: Sequence[str], field: str) -> list[str]:
    codes = sorted(set(values or ()))
    bad = [c for c in codes if c not in allowed]
    if bad:
        raise InputError(f"unknown codes; allowed: {', '.join(allowed)}", column=field, value=bad)
    return codes


def create_routing_rule(
    session: Session,
    principal: Principal,
    *,
    name: str,
    team_id: int,
    position: int = 0,
    kinds: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    priorities: Iterable[str] | None = None,
    category_ids: Iterable[int] | None = None,
    value_tiers: Iterable[str] | None = None,
) -> RoutingRule:
    require(principal, "settings:write")
    if session.get(Team, team_id) is None:
        raise InputError("no such team", column="team_id", value=team_id)
    categories = sorted(set(category_ids or ()))
    for cid in categories:
        if session.get(TicketCategory, cid) is None:
            raise InputError("no such category", column="category_ids", value=cid)
    rule = RoutingRule(
        name=name,
        team_id=team_id,
        position=position,
        kinds=_codes(kinds, KINDS, "kinds"),
        channels=_codes(channels, CHANNELS, "channels"),
        priorities=_codes(priorities, PRIORITIES, "priorities"),
        category_ids=categories,
        value_tiers=_codes(value_tiers, VALUE_TIERS, "value_tiers"),
        active=True,
    )
    session.add(rule)
    session.flush()
    _audit_created(session, principal, "routing_rule", rule)
    return rule


def route(session: Session, ticket: RoutingInput) -> int | None:
    """The team for ``ticket`` by the first matching rule, or ``None``."""
    ancestry = set(category_ancestry(session, ticket.category_id))
    rules = session.scalars(
        select(RoutingRule)
        .where(RoutingRule.active.is_(True))
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    for rule in rules:
        if rule.kinds and ticket.kind not in rule.kinds:
            continue
        if rule.channels and ticket.channel not in rule.channels:
            continue
        if rule.priorities and ticket.priority not in rule.priorities:
            continue
        if rule.category_ids and not ancestry.intersection(rule.category_ids):
            continue
        if rule.value_tiers and ticket.value_tier not in rule.value_tiers:
            continue
        return rule.team_id
    return None


def create_escalation_rule(
    session: Session,
    principal: Principal,
    *,
    name: str,
    action: str,
    target: str | None = None,
    alert_kind: str | None = None,
    threshold: float | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    priority: str | None = None,
    notify_email: str | None = None,
    position: int = 0,
) -> EscalationRule:
    """A rule applied when an SLA alert fires (see :class:`~kehu.desk.tables.EscalationRule`)."""
    require(principal, "settings:write")
    if action not in ESCALATION_ACTIONS:
        raise InputError(
            f"unknown action; actions are {', '.join(ESCALATION_ACTIONS)}",
            column="action",
            value=action,
        )
    if target not in (None, "first_response", "resolution"):
        raise InputError("target is first_response or resolution", column="target", value=target)
    if alert_kind not in (None, "warning", "breach"):
        raise InputError("alert_kind is warning or breach", column="alert_kind", value=alert_kind)
    if priority is not None and priority not in PRIORITIES:
        raise InputError("unknown priority", column="priority", value=priority)
    if team_id is not None and session.get(Team, team_id) is None:
        raise InputError("no such team", column="team_id", value=team_id)
    check_assignable(session, assignee_id, column="assignee_id")
    if action == "reassign" and team_id is None and assignee_id is None:
        raise InputError("reassign needs a team or an assignee", column="team_id")
    rule = EscalationRule(
        name=name,
        action=action,
        target=target,
        alert_kind=alert_kind,
        threshold=threshold,
        team_id=team_id,
        assignee_id=assignee_id,
        priority=priority,
        notify_email=notify_email,
        position=position,
        active=True,
    )
    session.add(rule)
    session.flush()
    _audit_created(session, principal, "escalation_rule", rule)
    return rule


def list_routing_rules(session: Session) -> list[RoutingRule]:
    """The routing rules in the order they are tried."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def set_routing_rule_active(
    session: Session, principal: Principal, rule_id: int, active: bool
) -> RoutingRule:
    """Switch a routing rule on or off (``NotFoundError`` for an unknown id)."""
    require(principal, "settings:write")
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFoundError(f"no routing rule with id {rule_id}")
    if rule.active != active:
        rule.active = active
        session.flush()
        record_audit(
            session,
            principal,
            "routing_rule.activated" if active else "routing_rule.deactivated",
            "routing_rule",
            rule.id,
            {"active": not active},
            {"active": active},
        )
    return rule


def list_escalation_rules(session: Session) -> list[EscalationRule]:
    """The escalation rules in order."""
    return list(
        session.scalars(select(EscalationRule).order_by(EscalationRule.position, EscalationRule.id))
    )


def set_escalation_rule_active(
    session: Session, principal: Principal, rule_id: int, active: bool
) -> EscalationRule:
    """Switch an escalation rule on or off (``NotFoundError`` for an unknown id)."""
    require(principal, "settings:write")
    rule = session.get(EscalationRule, rule_id)
    if rule is None:
        raise NotFoundError(f"no escalation rule with id {rule_id}")
    if rule.active != active:
        rule.active = active
        session.flush()
        record_audit(
            session,
            principal,
            "escalation_rule.activated" if active else "escalation_rule.deactivated",
            "escalation_rule",
            rule.id,
            {"active": not active},
            {"active": active},
        )
    return rule
