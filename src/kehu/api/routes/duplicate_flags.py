"""Stored possible duplicates (:mod:`kehu.customers.duplicate_flags`): list a customer's, confirm
one (the flagged customer is merged into the one it duplicates; ``customers:merge``) or dismiss
it for good (``customers:write``). ``expected_version`` (optional) guards against a change made
meanwhile: 409 with the reason, like a flag already decided."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from kehu.customers.duplicate_flags import (
    DuplicateFlagOut,
    confirm_flag,
    dismiss_flag,
    list_flags,
)
from kehu.http.deps import CurrentPrincipal, DbSession
from kehu.store.bounds import INT32_MAX, Id

router = APIRouter(tags=["customers"])


class FlagDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = Field(
        default=None, ge=1, le=INT32_MAX, description="the flag version the caller saw"
    )


@router.get(
    "/api/customers/{customer_id}/duplicate-flags",
    summary="Stored possible duplicates naming the customer (either side)",
)
def customer_flags(
    customer_id: Id,
    session: DbSession,
    principal: CurrentPrincipal,
    only_open: Annotated[bool, Query(description="only those still to decide")] = False,
) -> list[DuplicateFlagOut]:
    return list_flags(session, principal, customer_id, only_open=only_open)


@router.post(
    "/api/duplicate-flags/{flag_id}/confirm",
    summary="Confirm a possible duplicate: merge the flagged customer into the other",
)
def confirm(
    flag_id: Id, session: DbSession, principal: CurrentPrincipal, body: FlagDecision | None = None
) -> DuplicateFlagOut:
    version = body.expected_version if body is not None else None
    return confirm_flag(session, principal, flag_id, expected_version=version)


@router.post(
    "/api/duplicate-flags/{flag_id}/dismiss",
    summary="Dismiss a possible duplicate for good (two different customers)",
)
def dismiss(
    flag_id: Id, session: DbSession, principal: CurrentPrincipal, body: FlagDecision | None = None
) -> DuplicateFlagOut:
    version = body.expected_version if body is not None else None
    return dismiss_flag(session, principal, flag_id, expected_version=version)
