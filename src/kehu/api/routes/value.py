"""Value runs, customer scores and transactions (read-only), through the value domain's queries
(:mod:`kehu.value.queries`: every read goes through the permission layer).

Amounts are integer minor units (``*_minor``) with the ``currency`` they were stored in: a
transaction's own, a run's and its scores' the run's (never the server's setting)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kehu.http.deps import CurrentPrincipal, DbSession, Page, Pagination
from kehu.store.bounds import Id, UtcInstant
from kehu.value import queries
from kehu.value.schemas import ScoreOut, TransactionOut, ValueRunDetail, ValueRunOut

router = APIRouter(tags=["value"])

__all__ = ["ScoreOut", "TransactionOut", "ValueRunDetail", "ValueRunOut", "router"]


@router.get("/api/value/runs", summary="Value runs, newest first")
def list_runs(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    status: str | None = None,
    sort: Annotated[
        str, Query(description=f"one of {', '.join(queries.RUN_SORT_KEYS)}; -desc")
    ] = "-id",
) -> Page[ValueRunOut]:
    found = queries.list_runs(
        session, principal, status=status, sort=sort, limit=paging.page_size, offset=paging.offset
    )
    return Page(items=found.items, total=found.total, page=paging.page, page_size=paging.page_size)


@router.get("/api/value/runs/{run_id}", summary="One value run: settings, models, diagnostics")
def get_run(run_id: Id, session: DbSession, principal: CurrentPrincipal) -> ValueRunDetail:
    return queries.get_run(session, principal, run_id)


@router.get("/api/value/scores", summary="Customers' latest value scores")
def list_scores(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    tier: Annotated[str | None, Query(description="value tier: high, middle, low")] = None,
    segment: Annotated[str | None, Query(description="RFM segment")] = None,
    sort: Annotated[
        str, Query(description=f"one of {', '.join(queries.SCORE_SORT_KEYS)}; -desc")
    ] = "-clv",
) -> Page[ScoreOut]:
    found = queries.list_scores(
        session,
        principal,
        tier=tier,
        segment=segment,
        sort=sort,
        limit=paging.page_size,
        offset=paging.offset,
    )
    return Page(items=found.items, total=found.total, page=paging.page, page_size=paging.page_size)


@router.get("/api/customers/{external_id}/score", summary="One customer's latest value scores")
def customer_score(external_id: str, session: DbSession, principal: CurrentPrincipal) -> ScoreOut:
    return queries.customer_score(session, principal, external_id)


@router.get("/api/transactions", summary="Transactions, filtered by customer and time")
def list_transactions(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    customer: Annotated[str | None, Query(description="customer external id")] = None,
    since: Annotated[UtcInstant | None, Query(description="from (inclusive); naive = UTC")] = None,
    until: Annotated[UtcInstant | None, Query(description="to (exclusive); naive = UTC")] = None,
    sort: Annotated[
        str, Query(description=f"one of {', '.join(queries.TRANSACTION_SORT_KEYS)}; -desc")
    ] = "-occurred_at",
) -> Page[TransactionOut]:
    found = queries.list_transactions(
        session,
        principal,
        customer=customer,
        since=since,
        until=until,
        sort=sort,
        limit=paging.page_size,
        offset=paging.offset,
    )
    return Page(items=found.items, total=found.total, page=paging.page, page_size=paging.page_size)
