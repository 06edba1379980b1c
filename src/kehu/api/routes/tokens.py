"""API tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from kehu.core.users import service as users
from kehu.core.users.schemas import TokenCreate, TokenCreated, TokenOut
from kehu.core.users.tables import ApiToken
from kehu.http.deps import (
    AppSettings,
    CurrentPrincipal,
    DbSession,
    Page,
    Pagination,
    page_of,
    sort_by,
)
from kehu.store.bounds import Id

router = APIRouter(prefix="/api/tokens", tags=["tokens"])

SORT_FIELDS = {
    "created_at": ApiToken.created_at,
    "expires_at": ApiToken.expires_at,
    "name": ApiToken.name,
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token; its secret is in this response only",
)
def create_token(
    body: TokenCreate,
    session: DbSession,
    principal: CurrentPrincipal,
    settings: AppSettings,
    response: Response,
) -> TokenCreated:
    new = users.create_api_token(
        session,
        principal,
        name=body.name,
        scopes=body.scopes,
        lifetime_days=body.expires_in_days,
        settings=settings,
    )
    # No cache keeps the secret, and neither does the idempotency middleware (it remembers only
    # that the token was made): the secret is shown in this answer and never again.
    response.headers["Cache-Control"] = "no-store"
    return TokenCreated(**TokenOut.model_validate(new.token).model_dump(), secret=new.secret)


@router.get("", summary="List one's API tokens (administrators: everyone's, with all=true)")
def list_tokens(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    all: Annotated[bool, Query(description="every user's tokens (administrators)")] = False,
    include_revoked: bool = False,
    sort: str = "-created_at",
) -> Page[TokenOut]:
    statement = users.api_tokens_query(principal, all_users=all)
    if not include_revoked:
        statement = statement.where(ApiToken.revoked_at.is_(None))
    order = sort_by(sort, SORT_FIELDS, default="-created_at", tiebreak=ApiToken.id)
    return page_of(session, statement, paging, order, TokenOut.model_validate)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API token")
def revoke_token(token_id: Id, session: DbSession, principal: CurrentPrincipal) -> None:
    users.revoke_api_token(session, principal, token_id)
