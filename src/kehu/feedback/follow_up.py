"""Closing the loop (issue 10, item 9): an unhappy answer becomes a follow-up item, a recovery
ticket opens in one click (or by a rule), and the outcome is reported per month.

**The rules** (:class:`Rules`, stored in ``follow_up_rules``; changed by ``feedback:write``). A
submitted response opens one follow-up item for its customer when an answer is

- a *detractor*: an ``nps`` answer of at most ``nps_at_most`` (default 6: 0-6 are detractors,
  Reichheld 2003);
- a *very high effort*: a ``ces`` answer ("the company made it easy for me", 1 = strongly
  disagree .. 7 = strongly agree) of at most ``ces_at_most`` (default 2: disagree strongly or
  disagree; a low answer is a high effort);
- a *very low satisfaction*: a ``csat`` answer (1-5) of at most ``csat_at_most`` (default 2: very
  dissatisfied or dissatisfied).

The first question of the survey that matches gives the reason (in the order of the survey), so
one response opens at most one item. A passive or a promoter, an answer left out and a response
without a customer open nothing. Imported past responses publish no event and open nothing.

**The item**: customer, response, reason, the question and its score, status ``open`` ->
``ticket_opened`` -> ``closed``, owner (who opened the recovery ticket), due ``due_days`` after
the response (default 2). It is on the customer's 360 timeline (source ``follow_ups``) and in
the follow-up queue (``feedback:read`` to see; ``tickets:write`` to act).

**One click** (:func:`open_recovery_ticket`): files a ``complaint`` ticket for the customer
(high priority, channel ``phone``: the call back) through the desk's own use case
(:func:`kehu.desk.ticket_commands.create_ticket`, so routing, the SLA promise and the audit
apply), links it to the item and the item to it (the ticket's description names the item and
the response), assigned to the user who clicked, in a team they see (:func:`_recovery_owner`).
**The automatic rule** (``auto_open_high_value``, off by default): the worker's
job ``feedback.follow_up.auto_open`` (every five minutes, :func:`auto_open_recovery_tickets`)
opens the recovery ticket of every open item whose customer is in the high value tier (the value
engine's latest scores) and whose reason is a detractor. It is a job, not part of the event
handler, because filing a ticket needs the desk's settings (its promise, routing) which a job is
given and an event handler is not.

**A complaint theme marked urgent** (the theme catalogue is another part's): it calls
:func:`open_theme_follow_up` for the customer of each urgent verbatim.

**The outcome** (:func:`outcome_by_month`), per month (reporting time zone) in which items were
opened, of the items that were followed up (a recovery ticket opened, or closed): how many
customers bought again within ``days`` after the item opened (items whose window has not ended
yet are left out of that share), and of those who answered the same survey again, how many gave
a higher score to the question that opened the item. Both shares come with Wilson's (1927)
score interval (:func:`kehu.analytics.satisfaction.wilson_interval`) and their ``n``. These are
counts of what happened after a follow-up, not its effect: there is no comparison group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.analytics.satisfaction import wilson_interval
from kehu.core.audit.service import record_audit
from kehu.core.auth import SYSTEM, Principal, require, scoped
from kehu.core.config import Settings
from kehu.core.events import DomainEvent
from kehu.core.i18n import N_
from kehu.core.jobs import JobContext
from kehu.customers.timeline import TimelineEntry
from kehu.desk.assignment import check_may_work
from kehu.desk.routing import RoutingInput, route
from kehu.desk.schemas import TicketCreate
from kehu.desk.sla import reporting_month
from kehu.desk.ticket_commands import create_ticket, customer_value_tier
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.feedback.events import SurveyResponseSubmitted
from kehu.feedback.follow_up_tables import FollowUp, FollowUpRules
from kehu.feedback.surveys import definition_of
from kehu.feedback.tables import Survey, SurveyAnswer, SurveyResponse, SurveyVersion
from kehu.store.base import utc_now
from kehu.value.queries import bought_between, value_tier_of

__all__ = [
    "AUTO_OPEN_JOB",
    "DEFAULT_RULES",
    "REASONS",
    "STATUSES",
    "FollowUpRow",
    "OutcomeRow",
    "Rules",
    "auto_open_job",
    "auto_open_recovery_tickets",
    "close_follow_up",
    "current_rules",
    "follow_up_timeline_entries",
    "get_follow_up",
    "list_follow_ups",
    "on_response_submitted",
    "open_recovery_ticket",
    "open_theme_follow_up",
    "outcome_by_month",
    "set_rules",
]

#: The name of the automatic rule's job (registered in :mod:`kehu.feedback.registrations`).
AUTO_OPEN_JOB = "feedback.follow_up.auto_open"
#: Each reason's name on the pages (catalog messages).
REASONS: dict[str, str] = {
    "detractor": N_("Detractor"),
    "high_effort": N_("Very high effort"),
    "low_satisfaction": N_("Very low satisfaction"),
    "urgent_theme": N_("Urgent complaint theme"),
}
#: Each status's name on the pages (catalog messages), in the order an item goes through them.
STATUSES: dict[str, str] = {
    "open": N_("Open"),
    "ticket_opened": N_("Recovery ticket opened"),
    "closed": N_("Closed"),
}
#: The timeline entry's title (``%(reason)s``: the reason's name).
TIMELINE_TITLE = N_("Follow-up: %(reason)s")
#: How many days after it opened an item's customer may "come back", by default.
DEFAULT_OUTCOME_DAYS = 90


@dataclass(frozen=True)
class Rules:
    """When a response opens a follow-up item, when it is due, and the automatic rule."""

    nps_at_most: int = 6
    ces_at_most: int = 2
    csat_at_most: int = 2
    due_days: int = 2
    auto_open_high_value: bool = False

    def check(self) -> Rules:
        """Each threshold within its scale (an ``InputError`` naming the field otherwise)."""
        for name, low, high in (
            ("nps_at_most", 0, 10),
            ("ces_at_most", 1, 7),
            ("csat_at_most", 1, 5),
            ("due_days", 0, 365),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InputError(
                    f"must be a whole number from {low} to {high}", column=name, value=value
                )
        return self


DEFAULT_RULES = Rules()
_RULES_ID = 1
#: question type -> (the rule's field, the reason it gives)
_TRIGGERS = {
    "nps": ("nps_at_most", "detractor"),
    "ces": ("ces_at_most", "high_effort"),
    "csat": ("csat_at_most", "low_satisfaction"),
}


def current_rules(session: Session) -> Rules:
    row = session.get(FollowUpRules, _RULES_ID)
    if row is None:
        return DEFAULT_RULES
    return Rules(
        nps_at_most=row.nps_at_most,
        ces_at_most=row.ces_at_most,
        csat_at_most=row.csat_at_most,
        due_days=row.due_days,
        auto_open_high_value=row.auto_open_high_value,
    )


def set_rules(
    session: Session, principal: Principal, rules: Rules, *, now: datetime | None = None
) -> Rules:
    """Change the rules (``feedback:write``); audited with the old and new values."""
    require(principal, "feedback:write")
    rules.check()
    now = now or utc_now()
    before = current_rules(session)
    row = session.get(FollowUpRules, _RULES_ID)
    if row is None:
        row = FollowUpRules(id=_RULES_ID)
        session.add(row)
    row.nps_at_most = rules.nps_at_most
    row.ces_at_most = rules.ces_at_most
    row.csat_at_most = rules.csat_at_most
    row.due_days = rules.due_days
    row.auto_open_high_value = rules.auto_open_high_value
    row.updated_by = principal.user_id
    row.updated_at = now
    session.flush()
    record_audit(
        session,
        principal,
        "follow_up.rules_changed",
        "follow_up_rules",
        _RULES_ID,
        before=before.__dict__,
        after=rules.__dict__,
    )
    return rules


# -- opening items ------------------------------------------------------------------------------


def _trigger(
    session: Session, response: SurveyResponse, rules: Rules
) -> tuple[str, str, float] | None:
    """(reason, question id, score) of the first answer of the response that opens an item."""
    version = session.get(SurveyVersion, response.survey_version_id)
    assert version is not None
    numbers: dict[str, float] = {
        question_id: float(number)
        for question_id, number in session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.number).where(
                SurveyAnswer.response_id == response.id,
                SurveyAnswer.item == "",
                SurveyAnswer.number.is_not(None),
            )
        )
        if number is not None
    }
    for question in definition_of(version).questions:
        if question.type in _TRIGGERS and question.id in numbers:
            field, reason = _TRIGGERS[question.type]
            score = numbers[question.id]
            if score <= getattr(rules, field):
                return reason, question.id, score
    return None


def on_response_submitted(session: Session, event: DomainEvent) -> None:
    """The handler of :class:`SurveyResponseSubmitted`: open the response's item (if a rule
    matches and the response has a customer), in the transaction of the submission."""
    assert isinstance(event, SurveyResponseSubmitted)
    if event.customer_id is None:
        return
    response = session.get(SurveyResponse, event.response_id)
    if response is None or response.customer_id is None:
        return
    rules = current_rules(session)
    found = _trigger(session, response, rules)
    if found is None:
        return
    if session.scalar(select(FollowUp.id).where(FollowUp.response_id == response.id)):
        return
    reason, question_id, score = found
    session.add(
        FollowUp(
            customer_id=response.customer_id,
            response_id=response.id,
            reason=reason,
            question_id=question_id,
            score=score,
            note="",
            status="open",
            due_at=event.at + timedelta(days=rules.due_days),
            created_at=event.at,
            updated_at=event.at,
            opened_by_rule=False,
        )
    )
    session.flush()


def open_theme_follow_up(
    session: Session,
    customer_id: int,
    theme: str,
    *,
    note: str = "",
    now: datetime | None = None,
) -> int:
    """The hook of the theme catalogue: open a follow-up item for ``customer_id`` because one of
    their verbatims has the complaint theme ``theme`` (its key or name), marked urgent. Call it
    in the transaction that marks the theme urgent (or tags the verbatim), once per customer:
    an open item of the same customer and theme is reused. Returns the item's id."""
    now = now or utc_now()
    theme = theme.strip()
    if not theme:
        raise InputError("a theme is needed", column="theme")
    existing = session.scalar(
        select(FollowUp.id).where(
            FollowUp.customer_id == customer_id,
            FollowUp.theme == theme,
            FollowUp.status == "open",
        )
    )
    if existing is not None:
        return existing
    item = FollowUp(
        customer_id=customer_id,
        reason="urgent_theme",
        theme=theme[:200],
        note=note,
        status="open",
        due_at=now + timedelta(days=current_rules(session).due_days),
        created_at=now,
        updated_at=now,
        opened_by_rule=False,
    )
    session.add(item)
    session.flush()
    return item.id


# -- the queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    customer_id: int
    response_id: int | None
    survey_id: int | None
    survey_name: str | None
    reason: str
    question_id: str | None
    score: float | None
    theme: str | None
    status: str
    owner_id: int | None
    due_at: datetime
    ticket_id: int | None
    opened_by_rule: bool
    created_at: datetime
    version: int

    def overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.due_at < now


def _rows(session: Session, statement: Any) -> list[FollowUpRow]:
    return [
        FollowUpRow(
            id=item.id,
            customer_id=item.customer_id,
            response_id=item.response_id,
            survey_id=survey_id,
            survey_name=survey_name,
            reason=item.reason,
            question_id=item.question_id,
            score=item.score,
            theme=item.theme,
            status=item.status,
            owner_id=item.owner_id,
            due_at=item.due_at,
            ticket_id=item.ticket_id,
            opened_by_rule=item.opened_by_rule,
            created_at=item.created_at,
            version=item.version,
        )
        for item, survey_id, survey_name in session.execute(statement)
    ]


def _listing(principal: Principal) -> Any:
    statement = (
        select(FollowUp, SurveyResponse.survey_id, Survey.name)
        .outerjoin(SurveyResponse, SurveyResponse.id == FollowUp.response_id)
        .outerjoin(Survey, Survey.id == SurveyResponse.survey_id)
    )
    return scoped(statement, principal, FollowUp)


def list_follow_ups(
    session: Session,
    principal: Principal,
    *,
    status: str | None = "open",
    customer_id: int | None = None,
    reason: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[FollowUpRow]:
    """The queue (``feedback:read``): items of ``status`` (``None``: every status) and
    ``reason`` (``None``: every reason), the soonest due first."""
    statement = _listing(principal)
    if status is not None:
        if status not in STATUSES:
            raise InputError("no such status", column="status", value=status)
        statement = statement.where(FollowUp.status == status)
    if reason is not None:
        if reason not in REASONS:
            raise InputError("no such reason", column="reason", value=reason)
        statement = statement.where(FollowUp.reason == reason)
    if customer_id is not None:
        statement = statement.where(FollowUp.customer_id == customer_id)
    statement = statement.order_by(FollowUp.due_at, FollowUp.id).limit(limit).offset(offset)
    return _rows(session, statement)


def get_follow_up(session: Session, principal: Principal, follow_up_id: int) -> FollowUpRow:
    rows = _rows(session, _listing(principal).where(FollowUp.id == follow_up_id))
    if not rows:
        raise NotFoundError(f"no follow-up with id {follow_up_id}")
    return rows[0]


def _for_change(
    session: Session, principal: Principal, follow_up_id: int, expected_version: int | None
) -> FollowUp:
    require(principal, "tickets:write")
    get_follow_up(session, principal, follow_up_id)  # read scope
    item = session.get(FollowUp, follow_up_id)
    assert item is not None
    if expected_version is not None and item.version != expected_version:
        raise ConflictError(
            f"follow-up {follow_up_id} was changed by someone else (it is at version "
            f"{item.version}, not {expected_version}); reload it"
        )
    return item


def _ticket_text(item: FollowUp) -> tuple[str, str]:
    if item.reason == "urgent_theme":
        subject = f"Recovery: urgent complaint theme {item.theme}"
    else:
        subject = f"Recovery: {REASONS[item.reason].lower()} ({item.question_id} = {item.score:g})"
    description = (
        f"Opened from follow-up #{item.id}"
        + (f" (survey response #{item.response_id})" if item.response_id else "")
        + ". Call the customer back, put it right, and close the follow-up."
        + (f"\n\n{item.note}" if item.note else "")
    )
    return subject[:300], description


_RECOVERY_KIND: Final = "complaint"
_RECOVERY_CHANNEL: Final = "phone"
_RECOVERY_PRIORITY: Final = "high"


def _recovery_owner(
    session: Session, principal: Principal, customer_id: int, now: datetime
) -> tuple[int | None, int | None]:
    """(team, assignee) of the recovery ticket a user files: it is theirs to work, so it is
    assigned to them, in a team they can see. The desk's routing picks the team; when it picks
    one the user is not in (and they do not see every team), the ticket goes to the user's own
    team (the lowest id of theirs) instead, so that the ticket they just opened is not out of
    their sight. The desk's assignment rule
    (:func:`kehu.desk.assignment.check_may_work`) must let them work that team. The assignee is
    set at creation rather than by an ``assign`` afterwards: the desk's automatic assignment
    then leaves the ticket alone, and no hand-off from the picked member to the user is counted
    in the effort figures. The system (the automatic rule) leaves team and assignee to the
    desk's routing and automatic assignment."""
    if principal.is_system or principal.user_id is None:
        return None, None
    routed = route(
        session,
        RoutingInput(
            _RECOVERY_KIND,
            _RECOVERY_CHANNEL,
            _RECOVERY_PRIORITY,
            None,
            customer_value_tier(session, customer_id),
        ),
    )
    team_id = routed
    if not principal.can("tickets:all_teams") and routed not in principal.team_ids:
        if not principal.team_ids:
            raise InputError(
                "you are in no team, so you could not see the recovery ticket; ask a lead to "
                "open it or to add you to a team",
                column="team_id",
            )
        team_id = min(principal.team_ids)
    check_may_work(session, principal.user_id, team_id, now, column="assignee_id")
    return team_id, principal.user_id


def open_recovery_ticket(
    session: Session,
    principal: Principal,
    follow_up_id: int,
    *,
    settings: Settings,
    expected_version: int | None = None,
    now: datetime | None = None,
    by_rule: bool = False,
) -> FollowUpRow:
    """One click: file the recovery ticket of an open item (``tickets:write``) through the
    desk's :func:`~kehu.desk.ticket_commands.create_ticket` and link the two. An item that
    already has its ticket, or is closed, is a ``ConflictError``."""
    item = _for_change(session, principal, follow_up_id, expected_version)
    if item.status != "open":
        raise ConflictError(
            f"follow-up {follow_up_id} is {item.status.replace('_', ' ')}: "
            "its recovery ticket cannot be opened again"
        )
    now = now or utc_now()
    subject, description = _ticket_text(item)
    team_id, assignee_id = _recovery_owner(session, principal, item.customer_id, now)
    ticket = create_ticket(
        session,
        principal,
        TicketCreate(
            customer_id=item.customer_id,
            kind=_RECOVERY_KIND,
            channel=_RECOVERY_CHANNEL,
            subject=subject,
            description=description,
            priority=_RECOVERY_PRIORITY,
            team_id=team_id,
            assignee_id=assignee_id,
        ),
        now=now,
        settings=settings,
        acknowledge=False,
    )
    item.ticket_id = ticket.id
    item.status = "ticket_opened"
    item.owner_id = principal.user_id
    item.opened_by_rule = by_rule
    item.ticket_opened_at = now
    item.updated_at = now
    session.flush()
    record_audit(
        session,
        principal,
        "follow_up.ticket_opened",
        "follow_up",
        item.id,
        after={"ticket_id": ticket.id, "by_rule": by_rule},
    )
    return get_follow_up(session, principal, item.id)


def close_follow_up(
    session: Session,
    principal: Principal,
    follow_up_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> FollowUpRow:
    """Close an item (``tickets:write``): the customer was called back, or nothing is to be
    done. Closing a closed item is a ``ConflictError``."""
    item = _for_change(session, principal, follow_up_id, expected_version)
    if item.status == "closed":
        raise ConflictError(f"follow-up {follow_up_id} is closed already")
    now = now or utc_now()
    item.status = "closed"
    item.closed_at = now
    item.updated_at = now
    if item.owner_id is None:
        item.owner_id = principal.user_id
    session.flush()
    record_audit(session, principal, "follow_up.closed", "follow_up", item.id, after={})
    return get_follow_up(session, principal, item.id)


def auto_open_recovery_tickets(
    session: Session, *, settings: Settings, now: datetime | None = None
) -> list[int]:
    """The automatic rule (when ``auto_open_high_value`` is on): open the recovery ticket of
    every open detractor item whose customer is in the high value tier, as the system. Returns
    the items' ids."""
    if not current_rules(session).auto_open_high_value:
        return []
    now = now or utc_now()
    opened = []
    candidates = session.scalars(
        select(FollowUp)
        .where(FollowUp.status == "open", FollowUp.reason == "detractor")
        .order_by(FollowUp.id)
    ).all()
    for item in candidates:
        if value_tier_of(session, item.customer_id) == "high":
            open_recovery_ticket(session, SYSTEM, item.id, settings=settings, now=now, by_rule=True)
            opened.append(item.id)
    return opened


# -- the 360 timeline ---------------------------------------------------------------------------


def follow_up_timeline_entries(
    session: Session,
    customer_id: int,
    principal: Principal,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> Iterator[TimelineEntry]:
    """The ``follow_ups`` source of the 360 timeline: each item, dated when it opened."""
    if not principal.can("feedback:read"):
        return
    statement = scoped(select(FollowUp), principal, FollowUp).where(
        FollowUp.customer_id == customer_id
    )
    if since is not None:
        statement = statement.where(FollowUp.created_at >= since)
    if until is not None:
        statement = statement.where(FollowUp.created_at <= until)
    statement = statement.order_by(FollowUp.created_at.desc(), FollowUp.id.desc()).limit(limit)
    for item in session.scalars(statement):
        yield TimelineEntry(
            at=item.created_at,
            kind="follow_up",
            title=TIMELINE_TITLE % {"reason": REASONS[item.reason]},
            detail={
                "follow_up_id": item.id,
                "reason": item.reason,
                "status": item.status,
                "response_id": item.response_id,
                "question_id": item.question_id,
                "score": item.score,
                "theme": item.theme,
                "ticket_id": item.ticket_id,
                "due_at": item.due_at.isoformat(),
            },
            ref=f"follow_up:{item.id}",
        )


# -- the outcome --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    count: int
    n: int
    low: float | None
    high: float | None

    @property
    def share(self) -> float | None:
        return self.count / self.n if self.n else None


def _share(count: int, n: int, level: float) -> Share:
    if n == 0:
        return Share(0, 0, None, None)
    low, high = wilson_interval(count, n, level)
    return Share(count, n, low, high)


@dataclass(frozen=True)
class OutcomeRow:
    """One month of followed-up items: ``followed_up`` items; ``came_back``: of the items whose
    ``days`` have passed, how many customers bought again; ``score_rose``: of the items whose
    customer answered the same survey again, how many gave the question a higher score."""

    month: str
    followed_up: int
    came_back: Share
    score_rose: Share


def _next_score(session: Session, response: SurveyResponse, question_id: str) -> float | None:
    """The customer's answer to ``question_id`` in their next submitted response to the same
    survey (any version), or ``None``."""
    assert response.submitted_at is not None
    following = session.scalar(
        select(SurveyAnswer.number)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyResponse.customer_id == response.customer_id,
            SurveyResponse.survey_id == response.survey_id,
            SurveyResponse.status == "submitted",
            SurveyResponse.submitted_at > response.submitted_at,
            SurveyAnswer.question_id == question_id,
            SurveyAnswer.item == "",
            SurveyAnswer.number.is_not(None),
        )
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
        .limit(1)
    )
    return None if following is None else float(following)


def outcome_by_month(
    session: Session,
    principal: Principal,
    *,
    settings: Settings,
    days: int = DEFAULT_OUTCOME_DAYS,
    level: float = 0.95,
    now: datetime | None = None,
) -> list[OutcomeRow]:
    """The outcome per month of opening (module docstring), oldest month first."""
    if days <= 0:
        raise InputError("must be a positive number of days", column="days", value=days)
    now = now or utc_now()
    statement = scoped(select(FollowUp), principal, FollowUp).where(
        FollowUp.status.in_(("ticket_opened", "closed"))
    )
    months: dict[str, list[int]] = {}  # month -> [followed up, came back, matured, rose, next]
    for item in session.scalars(statement.order_by(FollowUp.created_at, FollowUp.id)):
        counts = months.setdefault(
            reporting_month(item.created_at, settings.reporting_timezone), [0] * 5
        )
        counts[0] += 1
        window_end = item.created_at + timedelta(days=days)
        if window_end <= now:
            counts[2] += 1
            counts[1] += bought_between(session, item.customer_id, item.created_at, window_end)
        response = session.get(SurveyResponse, item.response_id) if item.response_id else None
        if response is not None and item.question_id is not None and item.score is not None:
            following = _next_score(session, response, item.question_id)
            if following is not None:
                counts[4] += 1
                counts[3] += following > item.score
    return [
        OutcomeRow(
            month,
            followed_up,
            _share(came_back, matured, level),
            _share(rose, answered, level),
        )
        for month, (followed_up, came_back, matured, rose, answered) in sorted(months.items())
    ]


def auto_open_job(context: JobContext) -> None:
    """The worker's job of the automatic rule (every five minutes)."""
    with context.database.session() as session:
        auto_open_recovery_tickets(session, settings=context.settings, now=context.now)
