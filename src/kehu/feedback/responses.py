"""Responses: start one, save answers partially (and resume later), submit; read them back, one
by one or as a table of answer columns for the analytics.

A response is recorded on the survey's current version when it starts and stays on that version
(:mod:`kehu.feedback.surveys`' versioning rule). It is ``partial`` until submitted; every save
checks the answers given (a bad one is an :class:`~kehu.errors.InputError` naming the question:
the API's 422) and replaces the stored answers of those questions; submitting checks the whole
set (:func:`kehu.feedback.answers.check_complete`). A submitted response is final: saving to it
again is a :class:`~kehu.errors.ConflictError`. Responses are recorded only while the survey is
published.

Context (for results by segment, value tier, team, channel, month): ``customer_id`` (a merged
customer's id is stored as its survivor's), ``ticket_id`` (its team is the response's team unless
one is given), ``team_id``, ``channel``, ``invitation_id`` (survey invitations come later),
``language``.

Recording on a customer's behalf needs ``feedback:record``; reading ``feedback:read``.
Submitting publishes :class:`~kehu.feedback.events.SurveyResponseSubmitted` in the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kehu.core.auth import Principal, require, scoped
from kehu.core.events import publish
from kehu.core.i18n import supported_language
from kehu.customers.queries import customer_exists, survivor_of
from kehu.desk.routing import team_names
from kehu.desk.ticket_queries import get_ticket
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.feedback.answers import (
    AnswerCell,
    Normalised,
    answers_from_cells,
    cells_of,
    check_complete,
    merge_answers,
)
from kehu.feedback.definition import SINGLE, SurveyDefinition
from kehu.feedback.events import SurveyResponseSubmitted
from kehu.feedback.surveys import _survey, current_version_of, definition_of
from kehu.feedback.tables import Survey, SurveyAnswer, SurveyResponse, SurveyVersion
from kehu.store.base import utc_now

__all__ = [
    "CHANNELS",
    "ResponseContext",
    "ResponseDetail",
    "answer_columns",
    "answer_rows",
    "answer_table",
    "get_response",
    "list_responses",
    "save_answers",
    "start_response",
    "submit_response",
]

#: The channels a response may come through.
CHANNELS = ("email", "sms", "web", "phone", "chat", "in_person", "wechat", "other")


@dataclass(frozen=True)
class ResponseContext:
    """Where a response comes from (every field optional)."""

    customer_id: int | None = None
    ticket_id: int | None = None
    team_id: int | None = None
    channel: str | None = None
    invitation_id: int | None = None
    language: str = "en"


@dataclass(frozen=True)
class ResponseDetail:
    id: int
    survey_id: int
    survey_version: int
    status: str
    source: str
    language: str
    customer_id: int | None
    ticket_id: int | None
    team_id: int | None
    channel: str | None
    invitation_id: int | None
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    version: int
    answers: dict[str, Normalised] = field(default_factory=dict)


def check_context(
    session: Session, principal: Principal, context: ResponseContext
) -> ResponseContext:
    """The context checked (an unknown customer, ticket or team, an unknown channel: an
    ``InputError`` naming it) and completed: a merged customer's survivor, a ticket's team."""
    customer_id = context.customer_id
    if customer_id is not None:
        if not customer_exists(session, customer_id):
            raise InputError("no customer with this id", column="customer_id", value=customer_id)
        customer_id = survivor_of(session, customer_id)
    team_id = context.team_id
    if team_id is not None and team_id not in team_names(session):
        raise InputError("no team with this id", column="team_id", value=team_id)
    if context.ticket_id is not None:
        try:
            ticket = get_ticket(session, principal, context.ticket_id)
        except NotFoundError:
            raise InputError(
                "no ticket with this id", column="ticket_id", value=context.ticket_id
            ) from None
        if team_id is None:
            team_id = ticket.team_id
        if customer_id is None:
            customer_id = ticket.customer_id
    if context.channel is not None and context.channel not in CHANNELS:
        raise InputError(
            f"channel is one of {', '.join(CHANNELS)}", column="channel", value=context.channel
        )
    return ResponseContext(
        customer_id=customer_id,
        ticket_id=context.ticket_id,
        team_id=team_id,
        channel=context.channel,
        invitation_id=context.invitation_id,
        language=supported_language(context.language),
    )


def _stored_answers(
    session: Session, definition: SurveyDefinition, response_id: int
) -> dict[str, Normalised]:
    rows = session.execute(
        select(
            SurveyAnswer.question_id,
            SurveyAnswer.item,
            SurveyAnswer.number,
            SurveyAnswer.text,
            SurveyAnswer.choice,
        ).where(SurveyAnswer.response_id == response_id)
    )
    return answers_from_cells(definition, (AnswerCell(*row) for row in rows))


def answer_rows(
    definition: SurveyDefinition, response_id: int, answers: Mapping[str, Normalised]
) -> list[dict[str, Any]]:
    """The ``survey_answers`` rows of a response's normalised answers (for a bulk insert)."""
    questions = definition.by_id()
    return [
        {
            "response_id": response_id,
            "question_id": cell.question_id,
            "item": cell.item,
            "number": cell.number,
            "text": cell.text,
            "choice": cell.choice,
        }
        for question_id, answer in answers.items()
        for cell in cells_of(questions[question_id], answer)
    ]


def write_answers(
    session: Session,
    definition: SurveyDefinition,
    response_id: int,
    answers: Mapping[str, Normalised],
    *,
    replace: Collection[str] | None = None,
) -> None:
    """Store the answers of the questions in ``replace`` (``None``: every question), their
    stored rows deleted first."""
    statement = delete(SurveyAnswer).where(SurveyAnswer.response_id == response_id)
    if replace is not None:
        if not replace:
            return
        statement = statement.where(SurveyAnswer.question_id.in_(sorted(replace)))
    session.execute(statement)
    wanted = {q: a for q, a in answers.items() if replace is None or q in replace}
    rows = answer_rows(definition, response_id, wanted)
    if rows:
        session.execute(insert(SurveyAnswer), rows)


def start_response(
    session: Session,
    principal: Principal,
    survey_id: int,
    context: ResponseContext = ResponseContext(),
    *,
    answers: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> SurveyResponse:
    """A new partial response to the published survey's current version, with the answers
    given so far (``feedback:record``)."""
    require(principal, "feedback:record")
    survey = _survey(session, principal, survey_id)
    if survey.status != "published":
        raise ConflictError(f"survey {survey_id} is {survey.status}: it takes no responses")
    checked = check_context(session, principal, context)
    version = current_version_of(session, survey)
    definition = definition_of(version)
    merged = merge_answers(definition, {}, answers or {})
    now = now or utc_now()
    response = SurveyResponse(
        survey_id=survey.id,
        survey_version_id=version.id,
        version_number=version.number,
        status="partial",
        source="recorded",
        language=checked.language,
        customer_id=checked.customer_id,
        ticket_id=checked.ticket_id,
        team_id=checked.team_id,
        channel=checked.channel,
        invitation_id=checked.invitation_id,
        recorded_by=principal.user_id,
        started_at=now,
        updated_at=now,
    )
    session.add(response)
    session.flush()
    write_answers(session, definition, response.id, merged)
    return response


def _response(session: Session, principal: Principal, response_id: int) -> SurveyResponse:
    response = session.scalar(
        scoped(select(SurveyResponse), principal, SurveyResponse).where(
            SurveyResponse.id == response_id
        )
    )
    if response is None:
        raise NotFoundError(f"no survey response with id {response_id}")
    return response


def _for_answers(
    session: Session, principal: Principal, response_id: int, expected_version: int | None
) -> tuple[SurveyResponse, SurveyDefinition]:
    require(principal, "feedback:record")
    response = _response(session, principal, response_id)
    if response.status == "submitted":
        raise ConflictError(f"response {response_id} was submitted; it cannot change any more")
    if expected_version is not None and response.version != expected_version:
        raise ConflictError(
            f"response {response_id} was saved by someone else (it is at version "
            f"{response.version}, not {expected_version}); reload it and answer again"
        )
    survey = session.get(Survey, response.survey_id)
    assert survey is not None
    if survey.status != "published":
        raise ConflictError(f"survey {survey.id} is {survey.status}: it takes no responses")
    version = session.get(SurveyVersion, response.survey_version_id)
    assert version is not None
    return response, definition_of(version)


def _flush(session: Session, response_id: int) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(
            f"response {response_id} was saved by someone else at the same time; reload it "
            "and answer again"
        ) from exc


def save_answers(
    session: Session,
    principal: Principal,
    response_id: int,
    answers: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> SurveyResponse:
    """Save ``answers`` (question id -> answer; ``None`` clears one) to a partial response."""
    response, definition = _for_answers(session, principal, response_id, expected_version)
    stored = _stored_answers(session, definition, response.id)
    merged = merge_answers(definition, stored, answers)
    changed = {q for q in set(stored) | set(merged) if stored.get(q) != merged.get(q)}
    write_answers(session, definition, response.id, merged, replace=changed)
    response.updated_at = now or utc_now()
    _flush(session, response.id)
    return response


def submit_response(
    session: Session,
    principal: Principal,
    response_id: int,
    answers: Mapping[str, Any] | None = None,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> SurveyResponse:
    """Save the last ``answers`` and submit: the whole set must be complete."""
    response, definition = _for_answers(session, principal, response_id, expected_version)
    stored = _stored_answers(session, definition, response.id)
    merged = merge_answers(definition, stored, answers or {})
    check_complete(definition, merged)
    changed = {q for q in set(stored) | set(merged) if stored.get(q) != merged.get(q)}
    write_answers(session, definition, response.id, merged, replace=changed)
    now = now or utc_now()
    response.status = "submitted"
    response.submitted_at = now
    response.updated_at = now
    _flush(session, response.id)
    publish(
        session,
        SurveyResponseSubmitted(
            at=now,
            actor_id=principal.user_id,
            response_id=response.id,
            survey_id=response.survey_id,
            customer_id=response.customer_id,
            ticket_id=response.ticket_id,
        ),
    )
    return response


# --- reading ------------------------------------------------------------------------------------


def _detail(response: SurveyResponse, answers: dict[str, Normalised]) -> ResponseDetail:
    return ResponseDetail(
        id=response.id,
        survey_id=response.survey_id,
        survey_version=response.version_number,
        status=response.status,
        source=response.source,
        language=response.language,
        customer_id=response.customer_id,
        ticket_id=response.ticket_id,
        team_id=response.team_id,
        channel=response.channel,
        invitation_id=response.invitation_id,
        started_at=response.started_at,
        updated_at=response.updated_at,
        submitted_at=response.submitted_at,
        version=response.version,
        answers=answers,
    )


def get_response(session: Session, principal: Principal, response_id: int) -> ResponseDetail:
    """One response with its answers, read against its own version (``feedback:read``)."""
    response = _response(session, principal, response_id)
    version = session.get(SurveyVersion, response.survey_version_id)
    assert version is not None
    return _detail(response, _stored_answers(session, definition_of(version), response.id))


def list_responses(
    session: Session,
    principal: Principal,
    survey_id: int,
    *,
    status: str | None = None,
    survey_version: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[ResponseDetail], int]:
    """A page of the survey's responses, oldest first, with their answers; and how many there
    are in all (``feedback:read``)."""
    _survey(session, principal, survey_id)
    statement = scoped(select(SurveyResponse), principal, SurveyResponse).where(
        SurveyResponse.survey_id == survey_id
    )
    if status is not None:
        statement = statement.where(SurveyResponse.status == status)
    if survey_version is not None:
        statement = statement.where(SurveyResponse.version_number == survey_version)
    total = session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    responses = list(
        session.scalars(statement.order_by(SurveyResponse.id).offset(offset).limit(limit))
    )
    definitions = {
        v.id: definition_of(v)
        for v in session.scalars(
            select(SurveyVersion).where(
                SurveyVersion.id.in_({r.survey_version_id for r in responses})
            )
        )
    }
    cells: dict[int, list[AnswerCell]] = defaultdict(list)
    if responses:
        rows = session.execute(
            select(
                SurveyAnswer.response_id,
                SurveyAnswer.question_id,
                SurveyAnswer.item,
                SurveyAnswer.number,
                SurveyAnswer.text,
                SurveyAnswer.choice,
            ).where(SurveyAnswer.response_id.in_([r.id for r in responses]))
        )
        for response_id, question_id, item, number, text, choice in rows:
            cells[response_id].append(AnswerCell(question_id, item, number, text, choice))
    details = [
        _detail(r, answers_from_cells(definitions[r.survey_version_id], cells[r.id]))
        for r in responses
    ]
    return details, total


def answer_columns(definition: SurveyDefinition) -> list[str]:
    """The answer columns of a version, in question order: ``<question>`` for a one-part
    answer, ``<question>.<item>`` for each item of a multi-part one and each option of a
    multiple choice (1 chosen, 0 not)."""
    columns: list[str] = []
    for question in definition.questions:
        if question.type == "multiple_choice":
            columns += [f"{question.id}.{option}" for option in question.option_ids()]
        else:
            columns += [
                question.id if item == SINGLE else f"{question.id}.{item}"
                for item in question.items()
            ]
    return columns


#: the context columns of :func:`answer_table`, before the answer columns
CONTEXT_COLUMNS = (
    "response_id",
    "customer_id",
    "ticket_id",
    "team_id",
    "channel",
    "language",
    "submitted_at",
)


def answer_table(
    session: Session,
    principal: Principal,
    survey_id: int,
    *,
    survey_version: int | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """The submitted responses to one version (default: the current one) as a table for the
    analytics: the columns (:data:`CONTEXT_COLUMNS`, then :func:`answer_columns`) and one row
    per response, oldest first; numbers as floats, a choice
    as its option id, a free text as its text, an unanswered cell ``None`` (``feedback:read``)."""
    survey = _survey(session, principal, survey_id)
    number = survey.current_version if survey_version is None else survey_version
    version = session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.number == number
        )
    )
    if version is None:
        raise NotFoundError(f"survey {survey_id} has no version {number}")
    definition = definition_of(version)
    columns = answer_columns(definition)
    position = {name: i for i, name in enumerate(columns)}
    kinds = {q.id: q.type for q in definition.questions}
    responses = list(
        session.execute(
            scoped(
                select(
                    SurveyResponse.id,
                    SurveyResponse.customer_id,
                    SurveyResponse.ticket_id,
                    SurveyResponse.team_id,
                    SurveyResponse.channel,
                    SurveyResponse.language,
                    SurveyResponse.submitted_at,
                ),
                principal,
                SurveyResponse,
            )
            .where(
                SurveyResponse.survey_version_id == version.id,
                SurveyResponse.status == "submitted",
            )
            .order_by(SurveyResponse.id)
        )
    )
    table: dict[int, list[Any]] = {row[0]: [*row, *([None] * len(columns))] for row in responses}
    multiple = [q for q in definition.questions if q.type == "multiple_choice"]
    answered_multiple: set[tuple[int, str]] = set()
    offset = len(CONTEXT_COLUMNS)
    rows = session.execute(
        select(
            SurveyAnswer.response_id,
            SurveyAnswer.question_id,
            SurveyAnswer.item,
            SurveyAnswer.number,
            SurveyAnswer.text,
            SurveyAnswer.choice,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyResponse.survey_version_id == version.id,
            SurveyResponse.status == "submitted",
        )
    )
    for response_id, question_id, item, number_value, text, choice in rows:
        values = table.get(response_id)
        kind = kinds.get(question_id)
        if values is None or kind is None:
            continue
        name = question_id if item == SINGLE else f"{question_id}.{item}"
        if kind == "multiple_choice":
            answered_multiple.add((response_id, question_id))
            values[offset + position[name]] = 1.0
        elif kind == "free_text":
            values[offset + position[name]] = text
        elif kind == "single_choice":
            values[offset + position[name]] = choice
        else:
            values[offset + position[name]] = number_value
    # an unchosen option of an answered multiple choice is 0; of an unanswered one, None
    for response_id, question_id in answered_multiple:
        question = next(q for q in multiple if q.id == question_id)
        values = table[response_id]
        for option in question.option_ids():
            cell = offset + position[f"{question_id}.{option}"]
            if values[cell] is None:
                values[cell] = 0.0
    return [*CONTEXT_COLUMNS, *columns], list(table.values())
