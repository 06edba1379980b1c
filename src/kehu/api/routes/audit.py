"""The audit log (audit:read): events, and a check of the hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from kehu.core.audit import verify_chain
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import require, scoped
from kehu.http.deps import CurrentPrincipal, DbSession, Page, Pagination, page_of, sort_by

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_user_id: int | None
    actor_token_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: str
    before: Any | None
    after: Any | None
    erased_at: datetime | None
    payload_digest: str
    chain_hash: str


class ChainOut(BaseModel):
    ok: bool
    events_checked: int
    erased_events: int
    first_bad_seq: int | None
    reason: str | None


@router.get("/events", summary="Audit events, newest first")
def list_events(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    sort: str = "-seq",
) -> Page[AuditEventOut]:
    statement = scoped(select(AuditEvent), principal, AuditEvent)
    if entity is not None:
        statement = statement.where(AuditEvent.entity == entity)
    if entity_id is not None:
        statement = statement.where(AuditEvent.entity_id == entity_id)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    order = sort_by(sort, {"seq": AuditEvent.seq}, default="-seq")
    return page_of(session, statement, paging, order, AuditEventOut.model_validate)


@router.get("/verify", summary="Check the audit log's hash chain")
def verify(session: DbSession, principal: CurrentPrincipal) -> ChainOut:
    require(principal, "audit:read")
    result = verify_chain(session)
    return ChainOut(**result.__dict__)
