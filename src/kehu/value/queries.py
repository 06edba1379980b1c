"""The value domain's read use cases that other domains and the front doors call (they import no
``kehu.value.tables``).

Every query goes through the permission layer (:func:`kehu.core.auth.scoped`): value runs and
scores need ``value:read``, transactions ``customers:read``, and the customers they are joined
with are the ones the principal may see (:func:`kehu.customers.provisioning.customer_directory`).
What comes back is plain: dataclasses and the schemas of :mod:`kehu.value.schemas` (a score's
fields are listed once, in ``ScoreFields``: :class:`Score` and ``ScoreOut`` are both built on it),
amounts as :class:`~kehu.core.money.Money` in the currency they were stored in (a run's scores:
the run's). Lists sort by a ``sort`` parameter through :func:`kehu.core.sorting.sort_by`.

- :func:`latest_run` -- the most recent finished run; :func:`get_run`, :func:`list_runs`;
- :func:`tier_rows`, :func:`clv_values`, :func:`at_risk` -- the value page's tiers, Pareto curve
  and high-value customers at risk;
- :func:`value_card`, :func:`customer_score`, :func:`list_scores` -- score lookups for one
  customer and for a page; :func:`value_tier_of`, :func:`customers_by_clv`;
- :func:`list_transactions` -- transactions filtered by customer and time;
  :func:`first_purchase_at` -- when a customer first bought (the 360 page's "customer since").

A profit is shown as the run computed it (margin less cost-to-serve) unless the run had nothing
to take from the spend -- no product costs in its purchases (:attr:`RunSummary.product_costs`)
and no cost-to-serve for the customer -- then it is ``None`` ("costs not recorded"), not a
figure equal to the spend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import ConfigDict
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kehu.analytics.tiers import TIER_LABELS
from kehu.core.auth import SYSTEM, Principal, scoped
from kehu.core.money import Money
from kehu.core.sorting import sort_by
from kehu.customers.provisioning import customer_directory
from kehu.errors import InputError, NotFoundError
from kehu.value.schemas import (
    RunPage,
    ScoreFields,
    ScoreOut,
    ScorePage,
    TransactionOut,
    TransactionPage,
    ValueRunDetail,
    ValueRunOut,
    product_costs_known,
)
from kehu.value.tables import CustomerScore, Transaction, ValueRun

__all__ = [
    "AT_RISK_LIMIT",
    "FINISHED",
    "RUN_SORT_KEYS",
    "SCORE_SORT_KEYS",
    "TRANSACTION_SORT_KEYS",
    "AtRiskRow",
    "CustomerSegment",
    "Purchase",
    "RunFit",
    "RunSummary",
    "Score",
    "TierRow",
    "ValueCard",
    "at_risk",
    "bought_between",
    "clv_values",
    "customer_score",
    "customer_segments",
    "customer_tier",
    "customers_by_clv",
    "customers_scored",
    "first_purchase_at",
    "get_run",
    "latest_run",
    "list_runs",
    "list_scores",
    "list_transactions",
    "recent_purchases",
    "run_fit",
    "tier_rows",
    "value_card",
    "value_tier_of",
]

#: The statuses of a run whose scores are shown (a failed or running one is not).
FINISHED = ("succeeded", "partial")
#: At most this many customers at risk are listed (:func:`at_risk` counts them all).
AT_RISK_LIMIT = 50


# -- what comes back --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """A value run as the pages show it; its scores' amounts are in ``currency``."""

    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    source: str
    currency: str
    n_customers: int
    message: str | None
    settings: dict[str, Any]
    #: whether the run had product costs or a margin fraction to take from the amounts
    #: (:func:`kehu.value.schemas.product_costs_known`); without, a profit is the spend less
    #: cost-to-serve, and with no cost-to-serve either it is no profit but the spend
    product_costs: bool = True


def _profit(run: RunSummary, profit_minor: int, cost_to_serve_minor: int) -> Money | None:
    """A score's profit as the value engine computed it (margin less cost-to-serve), or ``None``
    when the run subtracted nothing from the spend: no product costs in its purchases and no
    cost-to-serve recorded for the customer (the "profit" would be the spend itself)."""
    if not run.product_costs and not cost_to_serve_minor:
        return None
    return Money(profit_minor, run.currency)


class Score(ScoreFields):
    """One customer's latest value scores, by customer id (the score's fields are those of
    :class:`~kehu.value.schemas.ScoreFields`, as in the API's ``ScoreOut``); amounts in minor
    units of the run's currency."""

    model_config = ConfigDict(frozen=True)

    customer_id: int
    run_id: int


@dataclass(frozen=True)
class ValueCard:
    """A customer's score with its amounts in the run's stored currency."""

    run: RunSummary
    score: Score

    def _money(self, minor: int | None) -> Money | None:
        return None if minor is None else Money(minor, self.run.currency)

    @property
    def clv(self) -> Money | None:
        return self._money(self.score.clv_minor)

    @property
    def clv_low(self) -> Money | None:
        return self._money(self.score.clv_low_minor)

    @property
    def clv_high(self) -> Money | None:
        return self._money(self.score.clv_high_minor)

    @property
    def interval_level(self) -> float:
        """The coverage the run's intervals aim at (its ``interval_level``; 90 % by default)."""
        return float(self.run.settings.get("interval_level", 0.90))

    @property
    def total_spend(self) -> Money | None:
        return self._money(self.score.total_spend_minor)

    @property
    def cost_to_serve(self) -> Money:
        return Money(self.score.cost_to_serve_minor, self.run.currency)

    @property
    def profit(self) -> Money | None:
        """Margin less cost-to-serve; ``None`` when the run recorded no cost to take from the
        spend (see :attr:`RunSummary.product_costs`)."""
        return _profit(self.run, self.score.profit_minor, self.score.cost_to_serve_minor)


@dataclass(frozen=True)
class TierRow:
    code: str
    n_customers: int
    customer_share: float | None
    total: Money
    value_share: float | None
    mean: Money | None


@dataclass(frozen=True)
class AtRiskRow:
    """A high-value customer at risk; ``name`` is ``""`` when the customer has none, ``profit``
    ``None`` when the run recorded no cost to take from the spend (:func:`_profit`)."""

    customer_id: int
    name: str
    external_id: str
    clv: Money | None
    probability_alive: float | None
    total_spend: Money
    cost_to_serve: Money
    profit: Money | None
    frequency: int
    rfm_segment: str


_RUN_COLUMNS = (
    ValueRun.id,
    ValueRun.status,
    ValueRun.started_at,
    ValueRun.finished_at,
    ValueRun.source,
    ValueRun.currency,
    ValueRun.n_customers,
    ValueRun.message,
    ValueRun.settings,
)
_SCORE_COLUMNS = tuple(getattr(CustomerScore, name) for name in Score.model_fields)


def _summary(row: Any) -> RunSummary:
    """A run from a row of :data:`_RUN_COLUMNS` followed by its diagnostics."""
    fields = {column.key: row[i] for i, column in enumerate(_RUN_COLUMNS)}
    return RunSummary(**fields, product_costs=product_costs_known(row[len(_RUN_COLUMNS)]))


# -- runs -------------------------------------------------------------------------------------


def latest_run(session: Session, principal: Principal) -> RunSummary | None:
    """The most recent finished value run the principal may see (``None``: none yet)."""
    statement = scoped(select(*_RUN_COLUMNS, ValueRun.diagnostics), principal, ValueRun)
    statement = statement.where(ValueRun.status.in_(FINISHED)).order_by(ValueRun.id.desc())
    row = session.execute(statement.limit(1)).first()
    return None if row is None else _summary(row)


_RUN_SORT = {"id": ValueRun.id, "started_at": ValueRun.started_at, "status": ValueRun.status}
#: What :func:`list_runs` sorts by (``-`` before a key: descending).
RUN_SORT_KEYS = tuple(_RUN_SORT)


def list_runs(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    sort: str | None = "-id",
    limit: int = 50,
    offset: int = 0,
) -> RunPage:
    """Value runs (of ``status``), sorted by :data:`RUN_SORT_KEYS` (ties by id)."""
    statement = scoped(select(ValueRun), principal, ValueRun)
    if status is not None:
        statement = statement.where(ValueRun.status == status)
    order = sort_by(sort, _RUN_SORT, default="-id", tiebreak=ValueRun.id)
    total, rows = _page(session, statement, order, limit, offset)
    return RunPage(items=[ValueRunOut.model_validate(run) for run in rows.scalars()], total=total)


def get_run(session: Session, principal: Principal, run_id: int) -> ValueRunDetail:
    """One value run with its settings, models and diagnostics (``NotFoundError`` when it does
    not exist or is out of the principal's scope)."""
    run = session.execute(
        scoped(select(ValueRun), principal, ValueRun).where(ValueRun.id == run_id)
    ).scalar_one_or_none()
    if run is None:
        raise NotFoundError(f"no value run {run_id}")
    return ValueRunDetail.model_validate(run)


# -- the value page ---------------------------------------------------------------------------


def _scores_of(statement: Any, principal: Principal, run: RunSummary) -> Any:
    """``statement`` over the run's scores joined with their customers (``customer``: the
    directory's columns), narrowed to what ``principal`` may see of both."""
    statement = scoped(
        statement.select_from(CustomerScore).where(CustomerScore.run_id == run.id),
        principal,
        CustomerScore,
    )
    customer = customer_directory(principal)
    return statement.join(customer, customer.c.id == CustomerScore.customer_id), customer


@dataclass(frozen=True)
class RunFit:
    """What a run fitted and how well: its models (the chosen purchase model and the spend
    model), the candidates it compared and why the winner won, and the chosen model's tracking
    series and calibration frequency histogram (empty for runs saved before they were
    recorded)."""

    models: list[dict[str, Any]]
    model_choice: dict[str, Any] | None
    tracking: dict[str, Any] | None
    frequency_histogram: dict[str, Any] | None


def run_fit(session: Session, principal: Principal, run: RunSummary) -> RunFit:
    """The model choice and fit diagnostics a run stored (its ``models`` and ``diagnostics``)."""
    statement = scoped(select(ValueRun.models, ValueRun.diagnostics), principal, ValueRun)
    row = session.execute(statement.where(ValueRun.id == run.id)).first()
    if row is None:
        raise NotFoundError(f"value run {run.id} not found")
    models, diagnostics = row
    diagnostics = diagnostics or {}
    return RunFit(
        models=list(models or []),
        model_choice=diagnostics.get("model_choice"),
        tracking=diagnostics.get("tracking"),
        frequency_histogram=diagnostics.get("frequency_histogram"),
    )


def tier_rows(session: Session, principal: Principal, run: RunSummary) -> list[TierRow]:
    """Customers and CLV per value tier (customers without a tier count as low value)."""
    statement, _ = _scores_of(
        select(
            CustomerScore.value_tier,
            func.count(),
            func.coalesce(func.sum(CustomerScore.clv_minor), 0),
        ),
        principal,
        run,
    )
    statement = statement.group_by(CustomerScore.value_tier)
    counts = dict.fromkeys(TIER_LABELS, 0)
    totals = dict.fromkeys(TIER_LABELS, 0)
    for tier, count, total in session.execute(statement):
        code = tier if tier in counts else TIER_LABELS[-1]
        counts[code] += int(count)
        totals[code] += int(total or 0)
    n = sum(counts.values())
    net = sum(totals.values())
    rows = []
    for code in TIER_LABELS:
        value = Money(totals[code], run.currency)
        rows.append(
            TierRow(
                code=code,
                n_customers=counts[code],
                customer_share=counts[code] / n if n else None,
                total=value,
                value_share=totals[code] / net if net else None,
                mean=value / counts[code] if counts[code] else None,
            )
        )
    return rows


def clv_values(session: Session, principal: Principal, run: RunSummary) -> np.ndarray:
    """Every visible customer's CLV in minor units (none: 0, as in the run's own tiers)."""
    statement, _ = _scores_of(select(CustomerScore.clv_minor), principal, run)
    values = [0 if v is None else v for v in session.scalars(statement)]
    return np.asarray(values, dtype=np.float64)


def at_risk(
    session: Session,
    principal: Principal,
    run: RunSummary,
    threshold: float,
    *,
    limit: int = AT_RISK_LIMIT,
) -> tuple[list[AtRiskRow], int]:
    """High-value customers whose P(alive) is below ``threshold``, largest CLV first (at most
    ``limit``), and how many there are in all. A row's profit is ``None`` when the run recorded
    no cost to take from the customer's spend."""
    condition = (CustomerScore.value_tier == "high") & (CustomerScore.probability_alive < threshold)
    counted, _ = _scores_of(select(func.count()), principal, run)
    total = session.scalar(counted.where(condition))
    statement, customer = _scores_of(
        select(
            CustomerScore.customer_id,
            CustomerScore.clv_minor,
            CustomerScore.probability_alive,
            CustomerScore.total_spend_minor,
            CustomerScore.cost_to_serve_minor,
            CustomerScore.profit_minor,
            CustomerScore.frequency,
            CustomerScore.rfm_segment,
        ),
        principal,
        run,
    )
    statement = (
        statement.add_columns(customer.c.name, customer.c.external_id)
        .where(condition)
        .order_by(CustomerScore.clv_minor.desc(), CustomerScore.customer_id)
        .limit(limit)
    )
    currency = run.currency
    rows = [
        AtRiskRow(
            customer_id=row.customer_id,
            name=row.name or "",
            external_id=row.external_id,
            clv=None if row.clv_minor is None else Money(row.clv_minor, currency),
            probability_alive=row.probability_alive,
            total_spend=Money(row.total_spend_minor, currency),
            cost_to_serve=Money(row.cost_to_serve_minor, currency),
            profit=_profit(run, row.profit_minor, row.cost_to_serve_minor),
            frequency=row.frequency,
            rfm_segment=row.rfm_segment,
        )
        for row in session.execute(statement)
    ]
    return rows, int(total or 0)


# -- scores -----------------------------------------------------------------------------------


def customers_scored(
    session: Session, *, tier: str | None = None, rfm_segment: str | None = None
) -> list[int]:
    """The customers whose latest scores are in value tier ``tier`` and RFM segment
    ``rfm_segment`` (each ``None``: any), by id."""
    statement = select(CustomerScore.customer_id).order_by(CustomerScore.customer_id)
    if tier is not None:
        statement = statement.where(CustomerScore.value_tier == tier)
    if rfm_segment is not None:
        statement = statement.where(CustomerScore.rfm_segment == rfm_segment)
    return list(session.scalars(statement))


def value_tier_of(session: Session, customer_id: int) -> str | None:
    """The customer's value tier from the latest value run (``None``: not scored yet)."""
    return session.scalar(
        select(CustomerScore.value_tier).where(CustomerScore.customer_id == customer_id)
    )


def customer_tier(session: Session, principal: Principal, customer_id: int) -> str | None:
    """The customer's value tier (``high``/``middle``/``low``) in the latest scores, for anyone
    who may read the customer (``customers:read``, through
    :func:`~kehu.customers.provisioning.customer_directory`): the tier is what the desk already
    routes and prioritises by (``kehu.desk.ticket_commands``), so every agent may know it; the
    figures behind it (CLV, spend, profit) need ``value:read`` (:func:`value_card`). ``None``:
    not scored yet, or outside the caller's scope."""
    directory = customer_directory(principal)
    statement = (
        select(CustomerScore.value_tier)
        .join(directory, directory.c.id == CustomerScore.customer_id)
        .where(CustomerScore.customer_id == customer_id)
    )
    return session.scalar(statement)


def value_card(session: Session, principal: Principal, customer_id: int) -> ValueCard | None:
    """The customer's score in the latest finished value run (``None`` without a run, or when
    the run did not score the customer)."""
    run = latest_run(session, principal)
    if run is None:
        return None
    statement = scoped(
        select(*_SCORE_COLUMNS).where(
            CustomerScore.run_id == run.id, CustomerScore.customer_id == customer_id
        ),
        principal,
        CustomerScore,
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return ValueCard(run=run, score=Score(**row._asdict()))


def customers_by_clv(session: Session, limit: int, principal: Principal = SYSTEM) -> list[int]:
    """The ids of the ``limit`` customers of largest CLV in the latest scores."""
    statement = scoped(select(CustomerScore.customer_id), principal, CustomerScore)
    return list(session.scalars(statement.order_by(CustomerScore.clv_minor.desc()).limit(limit)))


_SCORE_OUT_FIELDS = [
    name for name in ScoreOut.model_fields if name not in {"customer", "customer_name", "currency"}
]


def _scores_statement(principal: Principal) -> tuple[Any, Any]:
    statement = scoped(
        select(*(getattr(CustomerScore, name) for name in _SCORE_OUT_FIELDS)).select_from(
            CustomerScore
        ),
        principal,
        CustomerScore,
    )
    customer = customer_directory(principal)
    statement = (
        statement.add_columns(customer.c.external_id, customer.c.name, ValueRun.currency)
        .join(customer, customer.c.id == CustomerScore.customer_id)
        .join(ValueRun, ValueRun.id == CustomerScore.run_id)
    )
    return statement, customer


def _score(row: Any) -> ScoreOut:
    data = {name: row[i] for i, name in enumerate(_SCORE_OUT_FIELDS)}
    external_id, name, currency = row[len(_SCORE_OUT_FIELDS) :]
    return ScoreOut(customer=external_id, customer_name=name, currency=currency, **data)


#: What :func:`list_scores` sorts by (``-`` before a key: descending).
SCORE_SORT_KEYS = (
    "clv",
    "probability_alive",
    "profit",
    "margin",
    "total_spend",
    "expected_purchases",
    "frequency",
    "recency",
    "monetary_value",
    "customer",
)


def _score_sort(customer: Any) -> dict[str, Any]:
    return {
        "clv": CustomerScore.clv_minor,
        "probability_alive": CustomerScore.probability_alive,
        "profit": CustomerScore.profit_minor,
        "margin": CustomerScore.margin_minor,
        "total_spend": CustomerScore.total_spend_minor,
        "expected_purchases": CustomerScore.expected_purchases,
        "frequency": CustomerScore.frequency,
        "recency": CustomerScore.recency,
        "monetary_value": CustomerScore.monetary_value_minor,
        "customer": customer.c.external_id,
    }


def list_scores(
    session: Session,
    principal: Principal,
    *,
    tier: str | None = None,
    segment: str | None = None,
    sort: str | None = "-clv",
    limit: int = 50,
    offset: int = 0,
) -> ScorePage:
    """Customers' latest scores (of value ``tier``, of RFM ``segment``), sorted by
    :data:`SCORE_SORT_KEYS` (ties by customer id)."""
    statement, customer = _scores_statement(principal)
    if tier is not None:
        statement = statement.where(CustomerScore.value_tier == tier)
    if segment is not None:
        statement = statement.where(CustomerScore.rfm_segment == segment)
    order = sort_by(sort, _score_sort(customer), default="-clv", tiebreak=CustomerScore.customer_id)
    total, rows = _page(session, statement, order, limit, offset)
    return ScorePage(items=[_score(row) for row in rows], total=total)


def customer_score(session: Session, principal: Principal, external_id: str) -> ScoreOut:
    """One customer's latest scores, by the customer's external id (``NotFoundError``: none)."""
    statement, customer = _scores_statement(principal)
    row = session.execute(statement.where(customer.c.external_id == external_id)).first()
    if row is None:
        raise NotFoundError(f"no value scores for customer {external_id!r}")
    return _score(row)


# -- transactions -----------------------------------------------------------------------------


_TRANSACTION_SORT = {
    "occurred_at": Transaction.occurred_at,
    "amount": Transaction.amount_minor,
    "id": Transaction.id,
}
#: What :func:`list_transactions` sorts by (``-`` before a key: descending).
TRANSACTION_SORT_KEYS = tuple(_TRANSACTION_SORT)


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def list_transactions(
    session: Session,
    principal: Principal,
    *,
    customer: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str | None = "-occurred_at",
    limit: int = 50,
    offset: int = 0,
) -> TransactionPage:
    """Transactions (of the customer with external id ``customer``; from ``since`` inclusive to
    ``until`` exclusive, naive times being UTC), sorted by :data:`TRANSACTION_SORT_KEYS` (ties by
    id). ``until`` not after ``since`` is an ``InputError`` naming ``until``."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise InputError("until must be after since", column="until")
    statement = scoped(select(Transaction.id), principal, Transaction)
    directory = customer_directory(principal)
    statement = statement.add_columns(
        directory.c.external_id,
        Transaction.external_id,
        Transaction.occurred_at,
        Transaction.amount_minor,
        Transaction.cost_minor,
        Transaction.currency,
    ).join(directory, directory.c.id == Transaction.customer_id)
    if customer is not None:
        statement = statement.where(directory.c.external_id == customer)
    if since is not None:
        statement = statement.where(Transaction.occurred_at >= since)
    if until is not None:
        statement = statement.where(Transaction.occurred_at < until)
    order = sort_by(sort, _TRANSACTION_SORT, default="-occurred_at", tiebreak=Transaction.id)
    total, rows = _page(session, statement, order, limit, offset)
    return TransactionPage(
        items=[
            TransactionOut(
                id=row[0],
                customer=row[1],
                order_id=row[2],
                occurred_at=row[3],
                amount_minor=row[4],
                cost_minor=row[5],
                currency=row[6],
            )
            for row in rows
        ],
        total=total,
    )


def first_purchase_at(session: Session, principal: Principal, customer_id: int) -> datetime | None:
    """When the customer first bought: the earliest of their transactions that is no return (a
    purchase is a non-negative amount, as on the timeline). ``None`` when they never bought, or
    are outside the principal's scope; without ``customers:read`` a ``PermissionDeniedError``."""
    directory = customer_directory(principal)
    statement = scoped(
        select(func.min(Transaction.occurred_at)).select_from(Transaction), principal, Transaction
    )
    statement = statement.join(directory, directory.c.id == Transaction.customer_id).where(
        Transaction.customer_id == customer_id, Transaction.amount_minor >= 0
    )
    return _utc(session.scalar(statement))


@dataclass(frozen=True)
class Purchase:
    """One of a customer's latest purchases or returns (a return: a negative amount)."""

    occurred_at: datetime
    order_id: str | None
    amount: Money


def recent_purchases(
    session: Session, principal: Principal, customer_id: int, *, limit: int = 5
) -> tuple[list[Purchase], int]:
    """The customer's ``limit`` latest transactions, newest first, and how many they have in
    all. Transactions are customer data (scope ``customers:read``, as on the 360 timeline); an
    unknown customer or one outside the caller's scope has none."""
    directory = customer_directory(principal)
    statement = scoped(select(Transaction.occurred_at), principal, Transaction).add_columns(
        Transaction.external_id, Transaction.amount_minor, Transaction.currency
    )
    statement = statement.join(directory, directory.c.id == Transaction.customer_id).where(
        Transaction.customer_id == customer_id
    )
    order = (Transaction.occurred_at.desc(), Transaction.id.desc())
    total, rows = _page(session, statement, order, limit, 0)
    purchases = [
        Purchase(_utc(at) or at, order_id, Money(int(amount), currency))
        for at, order_id, amount, currency in rows
    ]
    return purchases, total


# -- pages ------------------------------------------------------------------------------------


def _page(
    session: Session, statement: Select[Any], order: Sequence[Any], limit: int, offset: int
) -> tuple[int, Any]:
    """How many rows ``statement`` has in all, and the result of one page of it."""
    total = session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    return int(total), session.execute(statement.order_by(*order).limit(limit).offset(offset))


@dataclass(frozen=True)
class CustomerSegment:
    """A customer's value tier and RFM segment in the latest scores."""

    value_tier: str | None
    rfm_segment: str


def customer_segments(
    session: Session, principal: Principal, customer_ids: Sequence[int]
) -> dict[int, CustomerSegment]:
    """The value tier and RFM segment of each of ``customer_ids`` that has a score, for anyone
    who may read the customers (the same rule as :func:`customer_tier`), in one query per
    thousand ids: for the feedback domain's counts per segment."""
    directory = customer_directory(principal)
    wanted = sorted({int(c) for c in customer_ids})
    segments: dict[int, CustomerSegment] = {}
    for start in range(0, len(wanted), 1000):
        statement = (
            select(CustomerScore.customer_id, CustomerScore.value_tier, CustomerScore.rfm_segment)
            .join(directory, directory.c.id == CustomerScore.customer_id)
            .where(CustomerScore.customer_id.in_(wanted[start : start + 1000]))
        )
        for row in session.execute(statement):
            segments[int(row.customer_id)] = CustomerSegment(row.value_tier, row.rfm_segment)
    return segments


def bought_between(session: Session, customer_id: int, after: datetime, until: datetime) -> bool:
    """Whether the customer bought (a transaction that is no return) in ``(after, until]``: the
    "did the customer come back" of closing the loop (:mod:`kehu.feedback.follow_up`), which
    reports counts, not the purchases themselves."""
    found = session.scalar(
        select(Transaction.id)
        .where(
            Transaction.customer_id == customer_id,
            Transaction.amount_minor >= 0,
            Transaction.occurred_at > after,
            Transaction.occurred_at <= until,
        )
        .limit(1)
    )
    return found is not None
