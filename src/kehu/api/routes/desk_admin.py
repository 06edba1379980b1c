"""Service desk settings: teams and their members, the category tree, routing and escalation
rules, business calendars and service promises (SLA policies, versioned).

Staff who read tickets may read these (an agent sees which promise applies); changing them needs
``settings:write`` (managers and admins).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from kehu.core.auth import Principal
from kehu.desk import routing, sla_store
from kehu.desk.schemas import CalendarIn, Channel, Kind, Priority
from kehu.errors import InputError
from kehu.http.deps import DbSession
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id, Position, Version

router = APIRouter(tags=["service desk settings"])

Reader = Annotated[Principal, Depends(permission("tickets:read"))]
Editor = Annotated[Principal, Depends(permission("settings:write"))]
Tier = Literal["high", "middle", "low"]


# --- teams -------------------------------------------------------------------------------------


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    calendar_id: Id | None = None
    email: str | None = Field(default=None, max_length=320)


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    calendar_id: int | None
    email: str | None
    assignment_mode: str = "none"
    member_ids: list[int] = Field(default_factory=list)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id


def _team(session: Session, team_id: int) -> TeamOut:
    out = TeamOut.model_validate(routing.get_team(session, team_id))
    out.member_ids = routing.team_member_ids(session, team_id)
    return out


#: a team as the API shows it (kehu.api.routes.assignment answers with it too)
team_out = _team


@router.get("/api/teams", summary="Teams, with their members")
def list_teams(session: DbSession, _principal: Reader) -> list[TeamOut]:
    return [_team(session, team.id) for team in routing.list_teams(session)]


@router.post("/api/teams", status_code=status.HTTP_201_CREATED, summary="Add a team")
def create_team(body: TeamIn, session: DbSession, principal: Editor) -> TeamOut:
    team = routing.create_team(
        session, principal, body.name, calendar_id=body.calendar_id, email=body.email
    )
    return _team(session, team.id)


@router.get("/api/teams/{team_id}", summary="One team")
def get_team(team_id: Id, session: DbSession, _principal: Reader) -> TeamOut:
    return _team(session, team_id)


@router.post("/api/teams/{team_id}/members", summary="Add a user to the team")
def add_member(team_id: Id, body: MemberIn, session: DbSession, principal: Editor) -> TeamOut:
    routing.add_team_member(session, principal, team_id, body.user_id)
    return _team(session, team_id)


@router.delete("/api/teams/{team_id}/members/{user_id}", summary="Remove a user from the team")
def remove_member(team_id: Id, user_id: Id, session: DbSession, principal: Editor) -> TeamOut:
    routing.get_team(session, team_id)
    routing.remove_team_member(session, principal, team_id, user_id)
    return _team(session, team_id)


# --- categories --------------------------------------------------------------------------------


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    parent_id: Id | None = None


class CategoryOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    path: str


@router.get("/api/ticket-categories", summary="The root-cause category tree, flattened")
def list_categories(session: DbSession, _principal: Reader) -> list[CategoryOut]:
    rows = routing.list_categories(session)
    out = [
        CategoryOut(
            id=c.id, name=c.name, parent_id=c.parent_id, path=routing.category_path(session, c.id)
        )
        for c in rows
    ]
    return sorted(out, key=lambda c: (c.path, c.id))


@router.post(
    "/api/ticket-categories", status_code=status.HTTP_201_CREATED, summary="Add a category"
)
def create_category(body: CategoryIn, session: DbSession, principal: Editor) -> CategoryOut:
    category = routing.create_category(session, principal, body.name, body.parent_id)
    return CategoryOut(
        id=category.id,
        name=category.name,
        parent_id=category.parent_id,
        path=routing.category_path(session, category.id),
    )


# --- routing rules -----------------------------------------------------------------------------


class RoutingRuleIn(BaseModel):
    """Conditions are lists of codes; an empty list means "any"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    team_id: Id
    position: Position = 0
    kinds: list[Kind] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    priorities: list[Priority] = Field(default_factory=list)
    category_ids: list[Id] = Field(default_factory=list)
    value_tiers: list[Tier] = Field(default_factory=list)


class RoutingRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    team_id: int
    position: int
    kinds: list[str]
    channels: list[str]
    priorities: list[str]
    category_ids: list[int]
    value_tiers: list[str]
    active: bool


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


@router.get("/api/routing-rules", summary="Routing rules, in the order they are tried")
def list_routing_rules(session: DbSession, _principal: Reader) -> list[RoutingRuleOut]:
    return [RoutingRuleOut.model_validate(r) for r in routing.list_routing_rules(session)]


@router.post(
    "/api/routing-rules", status_code=status.HTTP_201_CREATED, summary="Add a routing rule"
)
def create_routing_rule(
    body: RoutingRuleIn, session: DbSession, principal: Editor
) -> RoutingRuleOut:
    rule = routing.create_routing_rule(session, principal, **body.model_dump())
    return RoutingRuleOut.model_validate(rule)


@router.patch("/api/routing-rules/{rule_id}", summary="Switch a routing rule on or off")
def set_routing_rule_active(
    rule_id: Id, body: ActiveIn, session: DbSession, principal: Editor
) -> RoutingRuleOut:
    rule = routing.set_routing_rule_active(session, principal, rule_id, body.active)
    return RoutingRuleOut.model_validate(rule)


# --- escalation rules --------------------------------------------------------------------------


class EscalationRuleIn(BaseModel):
    """What to do when an SLA alert fires: ``reassign`` (to a team and/or assignee),
    ``raise_priority`` (one step, or to ``priority``) or ``notify`` (``notify_email``, else the
    team's address). ``target``, ``alert_kind`` and ``threshold`` select alerts (null: any)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    action: Literal["reassign", "raise_priority", "notify"]
    target: Literal["first_response", "resolution"] | None = None
    alert_kind: Literal["warning", "breach"] | None = None
    threshold: float | None = Field(default=None, gt=0, lt=1)
    team_id: Id | None = None
    assignee_id: Id | None = None
    priority: Priority | None = None
    notify_email: str | None = Field(default=None, max_length=320)
    position: Position = 0


class EscalationRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    action: str
    target: str | None
    alert_kind: str | None
    threshold: float | None
    team_id: int | None
    assignee_id: int | None
    priority: str | None
    notify_email: str | None
    position: int
    active: bool


@router.get("/api/escalation-rules", summary="Escalation rules, in order")
def list_escalation_rules(session: DbSession, _principal: Reader) -> list[EscalationRuleOut]:
    return [EscalationRuleOut.model_validate(r) for r in routing.list_escalation_rules(session)]


@router.post(
    "/api/escalation-rules", status_code=status.HTTP_201_CREATED, summary="Add an escalation rule"
)
def create_escalation_rule(
    body: EscalationRuleIn, session: DbSession, principal: Editor
) -> EscalationRuleOut:
    rule = routing.create_escalation_rule(session, principal, **body.model_dump())
    return EscalationRuleOut.model_validate(rule)


@router.patch("/api/escalation-rules/{rule_id}", summary="Switch an escalation rule on or off")
def set_escalation_rule_active(
    rule_id: Id, body: ActiveIn, session: DbSession, principal: Editor
) -> EscalationRuleOut:
    rule = routing.set_escalation_rule_active(session, principal, rule_id, body.active)
    return EscalationRuleOut.model_validate(rule)


# --- calendars ---------------------------------------------------------------------------------


class CalendarUpdate(CalendarIn):
    expected_version: Version | None = None


class CalendarOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    timezone: str
    weekly_hours: dict[str, Any]
    holidays: list[str]
    special_hours: dict[str, Any]
    version: int
    updated_at: datetime


def _calendar(body: CalendarIn) -> Any:
    # an unknown time zone is refused there, naming ``timezone`` (the pages share the check)
    return sla_store.calendar_from_json(body.model_dump(include=set(CalendarIn.model_fields)))


@router.get("/api/calendars", summary="Business calendars")
def list_calendars(session: DbSession, _principal: Reader) -> list[CalendarOut]:
    return [CalendarOut.model_validate(r) for r in sla_store.list_calendars(session)]


@router.post(
    "/api/calendars",
    status_code=status.HTTP_201_CREATED,
    summary="Add a business calendar (opening hours in a time zone, holidays, special days)",
)
def create_calendar(body: CalendarIn, session: DbSession, principal: Editor) -> CalendarOut:
    row = sla_store.create_calendar(session, principal, _calendar(body))
    return CalendarOut.model_validate(row)


@router.get("/api/calendars/{calendar_id}", summary="One business calendar")
def get_calendar(calendar_id: Id, session: DbSession, _principal: Reader) -> CalendarOut:
    return CalendarOut.model_validate(sla_store.get_calendar(session, calendar_id))


@router.put(
    "/api/calendars/{calendar_id}",
    summary="Replace a calendar's hours (policies using it get a new version)",
)
def update_calendar(
    calendar_id: Id, body: CalendarUpdate, session: DbSession, principal: Editor
) -> CalendarOut:
    row = sla_store.update_calendar(
        session,
        principal,
        calendar_id,
        _calendar(body),
        expected_version=body.expected_version,
    )
    return CalendarOut.model_validate(row)


# --- SLA policies ------------------------------------------------------------------------------


class PolicyIn(BaseModel):
    """Targets are business time: an ISO 8601 duration ("PT4H") or seconds. Conditions are
    lists of codes (empty: any); the first matching policy by ``order`` applies."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    first_response: timedelta
    resolution: timedelta
    calendar_id: Id
    priorities: list[Priority] = Field(default_factory=list)
    kinds: list[Kind] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    value_tiers: list[Tier] = Field(default_factory=list)
    warning_thresholds: list[float] = Field(default_factory=lambda: [0.75], max_length=10)
    order: Position = 0


class PolicyRevision(BaseModel):
    """A new version with the fields given (tickets keep the version they were promised)."""

    model_config = ConfigDict(extra="forbid")

    expected_version: Version | None = None
    first_response: timedelta | None = None
    resolution: timedelta | None = None
    calendar_id: Id | None = None
    priorities: list[Priority] | None = None
    kinds: list[Kind] | None = None
    channels: list[Channel] | None = None
    value_tiers: list[Tier] | None = None
    warning_thresholds: list[float] | None = Field(default=None, max_length=10)
    order: Position | None = None


class PolicyVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    policy_id: int
    version: int
    name: str
    first_response_seconds: int
    resolution_seconds: int
    calendar_id: int
    priorities: list[str]
    kinds: list[str]
    channels: list[str]
    value_tiers: list[str]
    warning_thresholds: list[float]
    order: int
    created_at: datetime
    created_by: int | None


class PolicyOut(BaseModel):
    id: int
    name: str
    active: bool
    current_version: int
    current: PolicyVersionOut
    versions: list[PolicyVersionOut] | None = None


def _policy(session: Session, policy_id: int, *, versions: bool = False) -> PolicyOut:
    policy = sla_store.get_policy(session, policy_id)
    rows = sla_store.policy_versions(session, policy_id)
    current = next(r for r in rows if r.version == policy.current_version)
    return PolicyOut(
        id=policy.id,
        name=policy.name,
        active=policy.active,
        current_version=policy.current_version,
        current=PolicyVersionOut.model_validate(current),
        versions=[PolicyVersionOut.model_validate(r) for r in rows] if versions else None,
    )


@router.get("/api/sla-policies", summary="Service promises (SLA policies), current versions")
def list_policies(
    session: DbSession, _principal: Reader, include_inactive: bool = False
) -> list[PolicyOut]:
    policies = sla_store.list_policies(session, include_inactive=include_inactive)
    return [_policy(session, policy.id) for policy in policies]


@router.post(
    "/api/sla-policies", status_code=status.HTTP_201_CREATED, summary="Add a service promise"
)
def create_policy(body: PolicyIn, session: DbSession, principal: Editor) -> PolicyOut:
    version = sla_store.create_policy(session, principal, **body.model_dump())
    return _policy(session, version.policy_id)


@router.get("/api/sla-policies/{policy_id}", summary="A service promise with all its versions")
def get_policy(policy_id: Id, session: DbSession, _principal: Reader) -> PolicyOut:
    return _policy(session, policy_id, versions=True)


@router.patch(
    "/api/sla-policies/{policy_id}",
    summary="Revise a service promise (a new version; 409 when expected_version is stale)",
)
def revise_policy(
    policy_id: Id, body: PolicyRevision, session: DbSession, principal: Editor
) -> PolicyOut:
    changes = body.model_dump(include=body.model_fields_set - {"expected_version"})
    for field, value in changes.items():
        if value is None:
            raise InputError("cannot be removed; leave it out to keep it", column=field)
    sla_store.revise_policy(
        session, principal, policy_id, expected_version=body.expected_version, **changes
    )
    return _policy(session, policy_id, versions=True)


@router.post(
    "/api/sla-policies/{policy_id}/deactivate",
    summary="New tickets no longer get this promise (tickets that have it keep it)",
)
def deactivate_policy(policy_id: Id, session: DbSession, principal: Editor) -> PolicyOut:
    sla_store.deactivate_policy(session, principal, policy_id)
    return _policy(session, policy_id)


@router.post(
    "/api/sla-policies/{policy_id}/activate",
    summary="New tickets may get this promise again (its current version)",
)
def activate_policy(policy_id: Id, session: DbSession, principal: Editor) -> PolicyOut:
    sla_store.activate_policy(session, principal, policy_id)
    return _policy(session, policy_id)
