"""The service-quality gaps linked to the desk (issue 10, item 8): what the desk's records say
beside what the customers said about the same tickets.

A rating is linked to a ticket by its response's ``ticket_id`` (a response about that ticket;
responses with only a customer are not guessed onto one of the customer's tickets). A ticket
with several responses gets their mean.

- **Reliability** (:func:`reliability_gaps`), per team and month of resolution: the desk's
  kept-promise rate (:func:`kehu.desk.effort.kept_promise_tickets`) against the mean
  reliability rating of the tickets' responses: the answers to the questions of dimension
  ``reliability`` (SERVQUAL's items 5-9 and the five service qualities' 信度 question: their
  *perception* part; a ``rating`` question of that dimension: its answer), each put on a 0-100
  share of its scale, ``100 (x - min) / (max - min)``, so that a 1-7 and a 1-10 item can be
  averaged.
- **Effort** (:func:`effort_gaps`), per team and month of creation: transfers and repeat
  contacts (:func:`kehu.desk.effort.effort_tickets`) against the mean CES answer ("made it
  easy", 1-7) of the tickets' responses.

Each table has its ``n`` (tickets; rated tickets) and the correlations
(:func:`kehu.analytics.association.correlation`, Pearson r with the Fisher-z interval) over the
rated team-months and over the rated tickets. **The loyalty drop** (:func:`loyalty_drop`): the
relative change in the share of customers who bought again within ``days`` of a ticket per extra
transfer or repeat contact (transfers + 1 for a repeat), :func:`kehu.analytics.association.
relative_effect` (Zou's modified Poisson regression) over the tickets whose window has ended,
shown beside the figure the field quotes ("each extra transfer or repeated question can cut
loyalty by 10% or more"). It is an association in kehu's own data, not an effect: harder problems
are both transferred more and less often followed by a purchase.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.analytics.association import Correlation, Effect, correlation, relative_effect
from kehu.core.auth import Principal, require, scoped
from kehu.core.config import Settings
from kehu.desk.effort import effort_tickets, kept_promise_tickets
from kehu.desk.ticket_queries import ticket_origins
from kehu.errors import InputError
from kehu.feedback.definition import Question
from kehu.feedback.surveys import definition_of
from kehu.feedback.tables import SurveyAnswer, SurveyResponse, SurveyVersion
from kehu.store.base import utc_now
from kehu.value.queries import bought_between

__all__ = [
    "QUOTED_LOYALTY_DROP",
    "EffortGaps",
    "EffortRow",
    "LoyaltyDrop",
    "ReliabilityGaps",
    "ReliabilityRow",
    "TicketRatings",
    "effort_gaps",
    "loyalty_drop",
    "reliability_gaps",
    "ticket_ratings",
]

#: The figure the field quotes (../shared/DOMAIN.md): loyalty cut per extra transfer or repeat.
QUOTED_LOYALTY_DROP = -0.10
#: How many days after a ticket a purchase counts as "came back", by default.
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class TicketRatings:
    """What customers said about one ticket: the mean reliability rating (0-100 of the scale),
    the mean CES answer (1-7) and the mean NPS answer (0-10); ``None`` when not asked."""

    reliability: float | None
    ces: float | None
    nps: float | None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _reliability_points(question: Question, item: str, number: float) -> float | None:
    if question.dimension != "reliability":
        return None
    wanted = "perception" if question.type == "servqual_pair" else ""
    scale = question.scale
    if item != wanted or scale is None or question.type not in ("servqual_pair", "rating"):
        return None
    low, high = scale
    return 100.0 * (number - low) / (high - low)


def ticket_ratings(
    session: Session, principal: Principal, ticket_ids: Iterable[int]
) -> dict[int, TicketRatings]:
    """The ratings of the submitted responses about each of ``ticket_ids`` (``feedback:read``);
    tickets without a response are left out."""
    require(principal, "feedback:read")
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return {}
    statement = scoped(
        select(
            SurveyResponse.ticket_id,
            SurveyResponse.survey_version_id,
            SurveyAnswer.question_id,
            SurveyAnswer.item,
            SurveyAnswer.number,
        ).join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id),
        principal,
        SurveyResponse,
    ).where(
        SurveyResponse.status == "submitted",
        SurveyResponse.ticket_id.in_(wanted),
        SurveyAnswer.number.is_not(None),
    )
    questions: dict[int, dict[str, Question]] = {}
    collected: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for ticket_id, version_id, question_id, item, number in session.execute(statement):
        if version_id not in questions:
            version = session.get(SurveyVersion, version_id)
            assert version is not None
            questions[version_id] = {q.id: q for q in definition_of(version).questions}
        question = questions[version_id].get(question_id)
        if question is None or ticket_id is None or number is None:
            continue
        points = _reliability_points(question, item, float(number))
        if points is not None:
            collected[ticket_id]["reliability"].append(points)
        elif question.type in ("ces", "nps") and item == "":
            collected[ticket_id][question.type].append(float(number))
    return {
        ticket_id: TicketRatings(
            _mean(values["reliability"]), _mean(values["ces"]), _mean(values["nps"])
        )
        for ticket_id, values in collected.items()
    }


def _correlation(
    x: Sequence[float], y: Sequence[float], names: tuple[str, str]
) -> Correlation | None:
    """The correlation, or ``None`` where there is none to compute (fewer than 4 pairs, or a
    constant column): the page says so instead of failing."""
    try:
        return correlation(x, y, names=names)
    except InputError:
        return None


# -- reliability ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityRow:
    team_id: int | None
    month: str
    tickets: int
    kept: int
    rated: int
    mean_reliability: float | None

    @property
    def kept_rate(self) -> float:
        return self.kept / self.tickets


@dataclass(frozen=True)
class ReliabilityGaps:
    rows: list[ReliabilityRow]
    #: over the rated team-months: kept-promise rate against the mean reliability rating
    by_team_month: Correlation | None
    #: over the rated tickets: kept (1) or broken (0) against the ticket's reliability rating
    by_ticket: Correlation | None


def reliability_gaps(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: Settings,
) -> ReliabilityGaps:
    """Kept promises against reliability ratings, per team and month of resolution."""
    tickets = kept_promise_tickets(session, principal, since=since, until=until, settings=settings)
    ratings = ticket_ratings(session, principal, (t.ticket_id for t in tickets))
    groups: dict[tuple[str, int | None], list[tuple[bool, float | None]]] = defaultdict(list)
    kept_x: list[float] = []
    rating_y: list[float] = []
    for ticket in tickets:
        rating = ratings.get(ticket.ticket_id)
        reliability = rating.reliability if rating else None
        groups[(ticket.month, ticket.team_id)].append((ticket.kept, reliability))
        if reliability is not None:
            kept_x.append(float(ticket.kept))
            rating_y.append(reliability)
    rows = []
    for (month, team_id), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or 0)):
        rated = [r for _, r in members if r is not None]
        rows.append(
            ReliabilityRow(
                team_id=team_id,
                month=month,
                tickets=len(members),
                kept=sum(1 for kept, _ in members if kept),
                rated=len(rated),
                mean_reliability=_mean(rated),
            )
        )
    rated_rows = [row for row in rows if row.mean_reliability is not None]
    return ReliabilityGaps(
        rows=rows,
        by_team_month=_correlation(
            [row.kept_rate for row in rated_rows],
            [row.mean_reliability for row in rated_rows if row.mean_reliability is not None],
            ("kept_promise_rate", "mean_reliability"),
        ),
        by_ticket=_correlation(kept_x, rating_y, ("kept", "reliability")),
    )


# -- effort -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffortRow:
    team_id: int | None
    month: str
    tickets: int
    transfers: int
    repeats: int
    rated: int
    mean_ces: float | None

    @property
    def transfers_per_ticket(self) -> float:
        return self.transfers / self.tickets

    @property
    def repeat_rate(self) -> float:
        return self.repeats / self.tickets


@dataclass(frozen=True)
class EffortGaps:
    rows: list[EffortRow]
    #: over the rated team-months: transfers per ticket against the mean CES answer
    transfers_by_team_month: Correlation | None
    #: over the rated tickets: the ticket's transfers against its CES answer
    transfers_by_ticket: Correlation | None
    #: over the rated tickets: a repeat contact (1) or not (0) against its CES answer
    repeats_by_ticket: Correlation | None


def effort_gaps(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: Settings,
) -> EffortGaps:
    """Transfers and repeats against CES, per team and month of creation."""
    tickets = effort_tickets(session, principal, since=since, until=until, settings=settings)
    ratings = ticket_ratings(session, principal, (t.ticket_id for t in tickets))
    groups: dict[tuple[str, int | None], list[tuple[int, bool, float | None]]] = defaultdict(list)
    transfers_x: list[float] = []
    repeat_x: list[float] = []
    ces_y: list[float] = []
    for ticket in tickets:
        rating = ratings.get(ticket.ticket_id)
        ces = rating.ces if rating else None
        groups[(ticket.month, ticket.team_id)].append((ticket.transfers, ticket.is_repeat, ces))
        if ces is not None:
            transfers_x.append(float(ticket.transfers))
            repeat_x.append(float(ticket.is_repeat))
            ces_y.append(ces)
    rows = []
    for (month, team_id), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or 0)):
        rated = [c for _, _, c in members if c is not None]
        rows.append(
            EffortRow(
                team_id=team_id,
                month=month,
                tickets=len(members),
                transfers=sum(t for t, _, _ in members),
                repeats=sum(1 for _, r, _ in members if r),
                rated=len(rated),
                mean_ces=_mean(rated),
            )
        )
    rated_rows = [row for row in rows if row.mean_ces is not None]
    return EffortGaps(
        rows=rows,
        transfers_by_team_month=_correlation(
            [row.transfers_per_ticket for row in rated_rows],
            [row.mean_ces for row in rated_rows if row.mean_ces is not None],
            ("transfers_per_ticket", "mean_ces"),
        ),
        transfers_by_ticket=_correlation(transfers_x, ces_y, ("transfers", "ces")),
        repeats_by_ticket=_correlation(repeat_x, ces_y, ("repeat", "ces")),
    )


# -- the loyalty drop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoyaltyDrop:
    """``effect``: the relative change in the share who bought again within ``days`` per extra
    transfer or repeat (``None`` when it cannot be estimated: ``reason`` says why); ``n``: the
    tickets whose window has ended; ``quoted``: the field's figure, for comparison."""

    days: int
    n: int
    came_back: int
    effect: Effect | None
    reason: str | None
    quoted: float = QUOTED_LOYALTY_DROP


def loyalty_drop(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    days: int = DEFAULT_DAYS,
    settings: Settings,
    now: datetime | None = None,
) -> LoyaltyDrop:
    """The loyalty drop per extra transfer or repeat contact (module docstring), over the
    tickets created in ``[since, until)`` whose ``days`` after creation have passed."""
    require(principal, "feedback:read")
    if days <= 0:
        raise InputError("must be a positive number of days", column="days", value=days)
    now = now or utc_now()
    exposure: list[float] = []
    outcome: list[float] = []
    tickets = effort_tickets(session, principal, since=since, until=until, settings=settings)
    origins = ticket_origins(session, principal, (figures.ticket_id for figures in tickets))
    for figures in tickets:
        ticket = origins[figures.ticket_id]
        window_end = ticket.created_at + timedelta(days=days)
        if window_end > now:
            continue
        exposure.append(float(figures.transfers + int(figures.is_repeat)))
        outcome.append(
            float(bought_between(session, ticket.customer_id, ticket.created_at, window_end))
        )
    came_back = int(sum(outcome))
    try:
        effect = relative_effect(outcome, exposure, names=("bought_again", "transfers_and_repeats"))
    except InputError as error:
        return LoyaltyDrop(days, len(outcome), came_back, None, str(error))
    return LoyaltyDrop(days, len(outcome), came_back, effect, None)
