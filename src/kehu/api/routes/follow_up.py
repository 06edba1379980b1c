"""Closing the loop and the service-quality gaps (:mod:`kehu.feedback.follow_up`,
:mod:`kehu.feedback.desk_link`); see docs/follow-up.md.

Reading needs ``feedback:read``; opening a recovery ticket and closing an item ``tickets:write``
(the desk's permission: it files a ticket); changing the rules ``feedback:write``. A change made
on an item someone else changed since (``expected_version``) is a 409.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from kehu.core.auth import Principal
from kehu.feedback import desk_link, follow_up
from kehu.http.deps import AppSettings, DbSession
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id, Version

router = APIRouter(tags=["follow-up"])

Reader = Annotated[Principal, Depends(permission("feedback:read"))]
Actor = Annotated[Principal, Depends(permission("tickets:write"))]
Editor = Annotated[Principal, Depends(permission("feedback:write"))]
Status = Literal["open", "ticket_opened", "closed"]
Reason = Literal["detractor", "high_effort", "low_satisfaction", "urgent_theme"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(_In):
    expected_version: Version | None = None


class RulesIn(_In):
    nps_at_most: int = Field(default=6, ge=0, le=10)
    ces_at_most: int = Field(default=2, ge=1, le=7)
    csat_at_most: int = Field(default=2, ge=1, le=5)
    due_days: int = Field(default=2, ge=0, le=365)
    auto_open_high_value: bool = False


def _item(row: follow_up.FollowUpRow) -> dict[str, Any]:
    return asdict(row)


@router.get("/api/follow-ups", summary="The follow-up queue, the soonest due first")
def list_follow_ups(
    session: DbSession,
    principal: Reader,
    status: Status | None = "open",
    customer_id: Id | None = None,
    reason: Reason | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    rows = follow_up.list_follow_ups(
        session,
        principal,
        status=status,
        customer_id=customer_id,
        reason=reason,
        limit=limit,
        offset=offset,
    )
    return [_item(row) for row in rows]


@router.get("/api/follow-ups/outcome", summary="Who came back, whose next score rose, per month")
def outcome(
    session: DbSession,
    principal: Reader,
    settings: AppSettings,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> list[dict[str, Any]]:
    rows = follow_up.outcome_by_month(session, principal, settings=settings, days=days)
    result = []
    for row in rows:
        item = asdict(row)
        item["came_back"]["share"] = row.came_back.share
        item["score_rose"]["share"] = row.score_rose.share
        result.append(item)
    return result


@router.get("/api/follow-ups/{follow_up_id}", summary="One follow-up item")
def get_follow_up(follow_up_id: Id, session: DbSession, principal: Reader) -> dict[str, Any]:
    return _item(follow_up.get_follow_up(session, principal, follow_up_id))


@router.post(
    "/api/follow-ups/{follow_up_id}/recovery-ticket",
    summary="Open the item's recovery ticket (one click)",
)
def open_recovery_ticket(
    follow_up_id: Id, body: Change, session: DbSession, principal: Actor, settings: AppSettings
) -> dict[str, Any]:
    row = follow_up.open_recovery_ticket(
        session, principal, follow_up_id, settings=settings, expected_version=body.expected_version
    )
    return _item(row)


@router.post("/api/follow-ups/{follow_up_id}/close", summary="Close a follow-up item")
def close_follow_up(
    follow_up_id: Id, body: Change, session: DbSession, principal: Actor
) -> dict[str, Any]:
    row = follow_up.close_follow_up(
        session, principal, follow_up_id, expected_version=body.expected_version
    )
    return _item(row)


@router.get("/api/follow-up-rules", summary="When a response opens a follow-up item")
def get_rules(session: DbSession, principal: Reader) -> dict[str, Any]:
    return asdict(follow_up.current_rules(session))


@router.put("/api/follow-up-rules", summary="Change the follow-up rules")
def set_rules(body: RulesIn, session: DbSession, principal: Editor) -> dict[str, Any]:
    rules = follow_up.set_rules(session, principal, follow_up.Rules(**body.model_dump()))
    return asdict(rules)


@router.get(
    "/api/feedback/service-gaps",
    summary="Kept promises vs reliability, effort vs CES per team and month; the loyalty drop",
)
def service_gaps(
    session: DbSession,
    principal: Reader,
    settings: AppSettings,
    since: datetime | None = None,
    until: datetime | None = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> dict[str, Any]:
    reliability = desk_link.reliability_gaps(
        session, principal, since=since, until=until, settings=settings
    )
    effort = desk_link.effort_gaps(session, principal, since=since, until=until, settings=settings)
    drop = desk_link.loyalty_drop(
        session, principal, since=since, until=until, days=days, settings=settings
    )
    reliability_out = asdict(reliability)
    for out, row in zip(reliability_out["rows"], reliability.rows, strict=True):
        out["kept_rate"] = row.kept_rate
    effort_out = asdict(effort)
    for out, effort_row in zip(effort_out["rows"], effort.rows, strict=True):
        out["transfers_per_ticket"] = effort_row.transfers_per_ticket
        out["repeat_rate"] = effort_row.repeat_rate
    return {
        "reliability": reliability_out,
        "effort": effort_out,
        "loyalty_drop": asdict(drop),
        "caveat": (
            "an association in kehu's own records, not an effect: harder problems are both "
            "transferred more and less often followed by a purchase"
        ),
    }
