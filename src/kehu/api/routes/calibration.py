"""Promise calibration: per service promise target, the share kept over a window of tickets, the
target that would have been kept 95% of the time (nearest-rank 95th percentile of the measured
business times), the sample size, and the expected kept rate under any target
(:mod:`kehu.desk.calibration`). Reading counts the tickets in the caller's scope, like the service
figures; applying a target writes a new policy version and needs ``settings:write``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kehu.core.auth import Principal
from kehu.desk.calibration import (
    MAX_TARGET,
    PERCENTILE,
    TargetCalibration,
    apply_target,
    default_window,
    promise_calibration,
)
from kehu.desk.routing import category_path, list_categories
from kehu.desk.sla import SlaTarget
from kehu.http.deps import CurrentPrincipal, DbSession, get_settings
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id, Version

router = APIRouter(tags=["service figures"])

Editor = Annotated[Principal, Depends(permission("settings:write"))]
TargetSeconds = Annotated[int, Field(ge=60, le=int(MAX_TARGET.total_seconds()))]


class GroupOut(BaseModel):
    """The measured tickets of one category, kind, priority and customer value tier under the
    target."""

    category_id: int | None
    category: str | None
    kind: str
    priority: str
    value_tier: str | None
    sample: int
    kept: int
    kept_rate: float | None
    percentile_seconds: int | None


class TargetCalibrationOut(BaseModel):
    """One promise target over the window; times in business seconds."""

    policy_id: int
    policy: str
    version: int
    active: bool
    target: SlaTarget
    priorities: list[str]
    kinds: list[str]
    channels: list[str]
    value_tiers: list[str]
    target_seconds: int
    sample: int
    running: int
    kept: int
    kept_rate: float | None
    current_kept_rate: float | None
    percentile_seconds: int | None
    enough_data: bool
    suggested_seconds: int | None
    suggested_kept_rate: float | None
    tried_seconds: int | None = None
    tried_kept_rate: float | None = None
    groups: list[GroupOut] = Field(default_factory=list)


class CalibrationOut(BaseModel):
    from_: date = Field(alias="from")
    to: date
    timezone: str
    percentile: int
    percentile_method: str
    min_sample: int
    targets: list[TargetCalibrationOut]

    model_config = ConfigDict(populate_by_name=True)


class ApplyIn(BaseModel):
    """Make ``target_seconds`` the policy's ``target`` in a new version (409 when the policy is no
    longer at ``expected_version``); ``from``/``to`` is the window whose evidence is audited."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    policy_id: Id
    target: SlaTarget
    target_seconds: TargetSeconds
    expected_version: Version
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None


class AppliedOut(BaseModel):
    policy_id: int
    policy: str
    version: int
    target: SlaTarget
    previous_seconds: int
    target_seconds: int
    sample: int
    expected_kept_rate: float | None


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _out(
    row: TargetCalibration, tried: int | None, categories: dict[int, str]
) -> TargetCalibrationOut:
    return TargetCalibrationOut(
        policy_id=row.policy_id,
        policy=row.policy_name,
        version=row.version,
        active=row.active,
        target=row.target,
        priorities=list(row.priorities),
        kinds=list(row.kinds),
        channels=list(row.channels),
        value_tiers=list(row.value_tiers),
        target_seconds=int(row.current_target.total_seconds()),
        sample=row.sample,
        running=row.running,
        kept=row.kept,
        kept_rate=row.kept_rate,
        current_kept_rate=row.current_kept_rate,
        percentile_seconds=_seconds(row.percentile),
        enough_data=row.enough_data,
        suggested_seconds=_seconds(row.suggested),
        suggested_kept_rate=row.suggested_kept_rate,
        tried_seconds=tried,
        tried_kept_rate=(
            row.expected_kept_rate(timedelta(seconds=tried)) if tried is not None else None
        ),
        groups=[
            GroupOut(
                category_id=g.category_id,
                category=categories.get(g.category_id) if g.category_id is not None else None,
                kind=g.kind,
                priority=g.priority,
                value_tier=g.value_tier,
                sample=g.sample,
                kept=g.kept,
                kept_rate=g.kept_rate,
                percentile_seconds=_seconds(g.percentile),
            )
            for g in row.groups
        ],
    )


@router.get(
    "/api/service/calibration",
    summary="Promise calibration: share kept and the 95th-percentile target per promise target",
    response_model_by_alias=True,
)
def calibration(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    from_: Annotated[
        date | None, Query(alias="from", description="first day (reporting time zone)")
    ] = None,
    to: Annotated[date | None, Query(description="last day, inclusive")] = None,
    policy: Id | None = None,
    target: SlaTarget | None = None,
    try_seconds: Annotated[
        int | None,
        Query(
            ge=60,
            le=int(MAX_TARGET.total_seconds()),
            description="a target to try: the expected kept rate under it, for every row",
        ),
    ] = None,
) -> CalibrationOut:
    settings = get_settings(request)
    start, end = default_window(settings)
    result = promise_calibration(
        session, principal, start=from_ or start, end=to or end, settings=settings
    )
    categories = {c.id: category_path(session, c.id) for c in list_categories(session)}
    return CalibrationOut.model_validate(
        {
            "from": result.start,
            "to": result.end,
            "timezone": result.timezone,
            "percentile": PERCENTILE,
            "percentile_method": "nearest-rank",
            "min_sample": result.min_sample,
            "targets": [
                _out(row, try_seconds, categories)
                for row in result.rows
                if (policy is None or row.policy_id == policy)
                and (target is None or row.target == target)
            ],
        }
    )


@router.post(
    "/api/service/calibration",
    summary="Apply a target to a service promise (a new version; 409 when the version is stale)",
)
def apply(request: Request, body: ApplyIn, session: DbSession, principal: Editor) -> AppliedOut:
    settings = get_settings(request)
    start, end = default_window(settings)
    applied = apply_target(
        session,
        principal,
        policy_id=body.policy_id,
        target=body.target,
        new_target=timedelta(seconds=body.target_seconds),
        expected_version=body.expected_version,
        start=body.from_ or start,
        end=body.to or end,
        settings=settings,
    )
    return AppliedOut(
        policy_id=applied.policy_id,
        policy=applied.policy_name,
        version=applied.version,
        target=applied.target,
        previous_seconds=int(applied.previous.total_seconds()),
        target_seconds=int(applied.new.total_seconds()),
        sample=applied.sample,
        expected_kept_rate=applied.expected_kept_rate,
    )
