"""Value runs, customer scores and transactions (read-only), through the permission layer.

Amounts are integer minor units (``*_minor``) with the ``currency`` they were stored in: a
transaction's own, a run's and its scores' the run's (never the server's setting)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kehu.api.deps import CurrentPrincipal, DbSession, Page, Pagination, page_of, sort_by
from kehu.core.auth import scoped
from kehu.customers.tables import Customer
from kehu.errors import InputError, NotFoundError
from kehu.store.bounds import Id, UtcInstant
from kehu.value.tables import CustomerScore, Transaction, ValueRun

router = APIRouter(tags=["value"])


class ValueRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    source: str
    currency: str = Field(description="ISO 4217 code of the run's amounts and its scores'")
    n_customers: int
    message: str | None


class ValueRunDetail(ValueRunOut):
    input_fingerprint: str
    settings: dict[str, Any]
    models: list[dict[str, Any]]
    diagnostics: dict[str, Any]


class ScoreOut(BaseModel):
    """A customer's latest value scores; money in minor units of ``currency``, its run's."""

    model_config = ConfigDict(from_attributes=True)

    customer: str
    customer_name: str | None
    run_id: int
    currency: str = Field(description="ISO 4217 code of the amounts (the run's)")
    frequency: int
    recency: float
    age: float
    monetary_value_minor: int | None
    total_spend_minor: int
    rfm_recency: int
    rfm_frequency: int
    rfm_monetary: int
    rfm_segment: str
    probability_alive: float | None
    expected_purchases: float | None
    expected_spend_minor: int | None
    clv_minor: int | None
    value_tier: str | None
    margin_minor: int
    cost_to_serve_minor: int
    profit_minor: int


class TransactionOut(BaseModel):
    """A purchase (positive amount) or a return (negative); money in minor units of
    ``currency``."""

    id: int
    customer: str
    order_id: str | None
    occurred_at: datetime
    amount_minor: int
    cost_minor: int | None
    currency: str = Field(description="ISO 4217 code of amount and cost")


RUN_SORT = {"id": ValueRun.id, "started_at": ValueRun.started_at, "status": ValueRun.status}
SCORE_SORT = {
    "clv": CustomerScore.clv_minor,
    "probability_alive": CustomerScore.probability_alive,
    "profit": CustomerScore.profit_minor,
    "margin": CustomerScore.margin_minor,
    "total_spend": CustomerScore.total_spend_minor,
    "expected_purchases": CustomerScore.expected_purchases,
    "frequency": CustomerScore.frequency,
    "recency": CustomerScore.recency,
    "monetary_value": CustomerScore.monetary_value_minor,
    "customer": Customer.external_id,
}
TRANSACTION_SORT = {
    "occurred_at": Transaction.occurred_at,
    "amount": Transaction.amount_minor,
    "id": Transaction.id,
}


def _score(row: Any) -> ScoreOut:
    score, external_id, name, currency = row
    data = {
        column: getattr(score, column)
        for column in ScoreOut.model_fields
        if column not in {"customer", "customer_name", "currency"}
    }
    return ScoreOut(customer=external_id, customer_name=name, currency=currency, **data)


def _scores_statement(principal: Any) -> Any:
    statement = (
        select(CustomerScore, Customer.external_id, Customer.name, ValueRun.currency)
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .join(ValueRun, ValueRun.id == CustomerScore.run_id)
    )
    statement = scoped(statement, principal, CustomerScore)
    return scoped(statement, principal, Customer)


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.get("/api/value/runs", summary="Value runs, newest first")
def list_runs(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    status: str | None = None,
    sort: Annotated[str, Query(description=f"one of {', '.join(RUN_SORT)}; -desc")] = "-id",
) -> Page[ValueRunOut]:
    statement = scoped(select(ValueRun), principal, ValueRun)
    if status is not None:
        statement = statement.where(ValueRun.status == status)
    order = sort_by(sort, RUN_SORT, default="-id", tiebreak=ValueRun.id)
    return page_of(session, statement, paging, order, ValueRunOut.model_validate)


@router.get("/api/value/runs/{run_id}", summary="One value run: settings, models, diagnostics")
def get_run(run_id: Id, session: DbSession, principal: CurrentPrincipal) -> ValueRunDetail:
    run = session.execute(
        scoped(select(ValueRun), principal, ValueRun).where(ValueRun.id == run_id)
    ).scalar_one_or_none()
    if run is None:
        raise NotFoundError(f"no value run {run_id}")
    return ValueRunDetail.model_validate(run)


@router.get("/api/value/scores", summary="Customers' latest value scores")
def list_scores(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    tier: Annotated[str | None, Query(description="value tier: high, middle, low")] = None,
    segment: Annotated[str | None, Query(description="RFM segment")] = None,
    sort: Annotated[str, Query(description=f"one of {', '.join(SCORE_SORT)}; -desc")] = "-clv",
) -> Page[ScoreOut]:
    statement = _scores_statement(principal)
    if tier is not None:
        statement = statement.where(CustomerScore.value_tier == tier)
    if segment is not None:
        statement = statement.where(CustomerScore.rfm_segment == segment)
    order = sort_by(sort, SCORE_SORT, default="-clv", tiebreak=CustomerScore.customer_id)
    return page_of(session, statement, paging, order, _score, scalars=False)


@router.get("/api/customers/{external_id}/score", summary="One customer's latest value scores")
def customer_score(external_id: str, session: DbSession, principal: CurrentPrincipal) -> ScoreOut:
    row = session.execute(
        _scores_statement(principal).where(Customer.external_id == external_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no value scores for customer {external_id!r}")
    return _score(row)


@router.get("/api/transactions", summary="Transactions, filtered by customer and time")
def list_transactions(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    customer: Annotated[str | None, Query(description="customer external id")] = None,
    since: Annotated[UtcInstant | None, Query(description="from (inclusive); naive = UTC")] = None,
    until: Annotated[UtcInstant | None, Query(description="to (exclusive); naive = UTC")] = None,
    sort: Annotated[
        str, Query(description=f"one of {', '.join(TRANSACTION_SORT)}; -desc")
    ] = "-occurred_at",
) -> Page[TransactionOut]:
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise InputError("until must be after since", column="until")
    statement = select(
        Transaction.id,
        Customer.external_id,
        Transaction.external_id,
        Transaction.occurred_at,
        Transaction.amount_minor,
        Transaction.cost_minor,
        Transaction.currency,
    ).join(Customer, Customer.id == Transaction.customer_id)
    statement = scoped(scoped(statement, principal, Transaction), principal, Customer)
    if customer is not None:
        statement = statement.where(Customer.external_id == customer)
    if since is not None:
        statement = statement.where(Transaction.occurred_at >= since)
    if until is not None:
        statement = statement.where(Transaction.occurred_at < until)
    order = sort_by(sort, TRANSACTION_SORT, default="-occurred_at", tiebreak=Transaction.id)
    return page_of(
        session,
        statement,
        paging,
        order,
        lambda row: TransactionOut(
            id=row[0],
            customer=row[1],
            order_id=row[2],
            occurred_at=row[3],
            amount_minor=row[4],
            cost_minor=row[5],
            currency=row[6],
        ),
        scalars=False,
    )
