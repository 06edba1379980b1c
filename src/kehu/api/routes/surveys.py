"""Surveys, their templates and competitors, responses and the response import (the feedback
domain, :mod:`kehu.feedback`).

Reading needs ``feedback:read`` (every staff role); changing surveys and competitors and
importing ``feedback:write`` (managers); recording a response ``feedback:record`` (managers and
agents). An out-of-range or unknown answer is a 422 whose ``field`` is the question id; a change
made on a survey version someone else changed since is a 409 saying so; an import with bad rows
is a 422 listing every bad row (``problems``: column, reason, ``lines``) and imports nothing.
See docs/surveys.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from kehu.core.auth import Principal
from kehu.feedback import importing, responses, surveys
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.templates import TEMPLATE_NAMES, TEMPLATES, template
from kehu.http.deps import DbSession, Page, Pagination
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id, Version

router = APIRouter(tags=["surveys"])

Reader = Annotated[Principal, Depends(permission("feedback:read"))]
Editor = Annotated[Principal, Depends(permission("feedback:write"))]
Recorder = Annotated[Principal, Depends(permission("feedback:record"))]

AnswerValue = int | float | str | list[str] | dict[str, int | float | str | None] | None
Answers = Annotated[
    dict[str, AnswerValue],
    Field(max_length=500, description="question id -> answer (docs/surveys.md); null clears"),
]
SurveyStatus = Literal["draft", "published", "closed"]
ResponseStatus = Literal["partial", "submitted"]
Channel = Literal["email", "sms", "web", "phone", "chat", "in_person", "wechat", "other"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TemplateOut(BaseModel):
    key: str
    name: str
    definition: dict[str, Any]


class CompetitorIn(_In):
    name: str = Field(min_length=1, max_length=surveys.NAME_MAX)


class CompetitorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    active: bool
    created_at: datetime


class SurveyCreate(_In):
    """From a ``template`` (its competitor ratings naming ``competitor_ids``) or from a
    ``definition``: one of the two."""

    name: str = Field(min_length=1, max_length=surveys.NAME_MAX)
    template: str | None = Field(default=None, max_length=40)
    definition: SurveyDefinition | None = None
    competitor_ids: list[Id] = Field(default_factory=list, max_length=50)


class DefinitionChange(_In):
    definition: SurveyDefinition
    expected_version: Version | None = None


class StatusChange(_In):
    expected_version: Version | None = None


class SurveyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    template: str | None
    status: str
    current_version: int
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class VersionOut(BaseModel):
    number: int
    created_at: datetime
    n_responses: int
    definition: dict[str, Any]


class SurveyDetailOut(SurveyOut):
    versions: list[VersionOut]


class ResponseStart(_In):
    customer_id: Id | None = None
    ticket_id: Id | None = None
    team_id: Id | None = None
    channel: Channel | None = None
    invitation_id: Id | None = None
    language: Literal["en", "zh-Hans"] = "en"
    answers: Answers = Field(default_factory=dict)


class AnswersIn(_In):
    answers: Answers = Field(default_factory=dict)
    expected_version: Version | None = None


class ResponseOut(BaseModel):
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
    answers: dict[str, Any]


class ImportOut(BaseModel):
    source: str
    survey_id: int
    survey_version: int
    rows: int
    imported: int


def _definition_json(definition: SurveyDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_none=True)


def _detail_out(detail: surveys.SurveyDetail) -> SurveyDetailOut:
    return SurveyDetailOut(
        id=detail.id,
        name=detail.name,
        template=detail.template,
        status=detail.status,
        current_version=detail.current_version,
        version=detail.version,
        created_at=detail.created_at,
        updated_at=detail.updated_at,
        published_at=detail.published_at,
        closed_at=detail.closed_at,
        versions=[
            VersionOut(
                number=v.number,
                created_at=v.created_at,
                n_responses=v.n_responses,
                definition=_definition_json(v.definition),
            )
            for v in detail.versions
        ],
    )


def _response_out(detail: responses.ResponseDetail) -> ResponseOut:
    return ResponseOut.model_validate(detail, from_attributes=True)


# --- templates and competitors ------------------------------------------------------------------


@router.get("/api/survey-templates", summary="The ready survey templates (English and Chinese)")
def list_templates(_principal: Reader) -> list[TemplateOut]:
    return [
        TemplateOut(key=key, name=TEMPLATE_NAMES[key], definition=_definition_json(template(key)))
        for key in TEMPLATES
    ]


@router.get("/api/competitors", summary="The competitors customers rate us against")
def list_competitors(session: DbSession, principal: Reader) -> list[CompetitorOut]:
    return [CompetitorOut.model_validate(c) for c in surveys.list_competitors(session, principal)]


@router.post("/api/competitors", status_code=status.HTTP_201_CREATED, summary="Name a competitor")
def create_competitor(body: CompetitorIn, session: DbSession, principal: Editor) -> CompetitorOut:
    competitor = surveys.create_competitor(session, principal, name=body.name)
    return CompetitorOut.model_validate(competitor)


# --- surveys ------------------------------------------------------------------------------------


@router.get("/api/surveys", summary="The surveys, newest first")
def list_surveys(
    session: DbSession,
    principal: Reader,
    survey_status: Annotated[SurveyStatus | None, Query(alias="status")] = None,
) -> list[SurveyOut]:
    found = surveys.list_surveys(session, principal, status=survey_status)
    return [SurveyOut.model_validate(s) for s in found]


@router.post(
    "/api/surveys",
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft survey from a template or a definition",
)
def create_survey(body: SurveyCreate, session: DbSession, principal: Editor) -> SurveyDetailOut:
    survey = surveys.create_survey(
        session,
        principal,
        name=body.name,
        template_key=body.template,
        definition=body.definition,
        competitor_ids=body.competitor_ids,
    )
    return _detail_out(surveys.get_survey(session, principal, survey.id))


@router.get("/api/surveys/{survey_id}", summary="A survey with every version")
def get_survey(survey_id: Id, session: DbSession, principal: Reader) -> SurveyDetailOut:
    return _detail_out(surveys.get_survey(session, principal, survey_id))


@router.put(
    "/api/surveys/{survey_id}/definition",
    summary="Change a survey's definition (a new version once responses exist)",
)
def change_definition(
    survey_id: Id, body: DefinitionChange, session: DbSession, principal: Editor
) -> SurveyDetailOut:
    surveys.change_definition(
        session, principal, survey_id, body.definition, expected_version=body.expected_version
    )
    return _detail_out(surveys.get_survey(session, principal, survey_id))


@router.post("/api/surveys/{survey_id}/publish", summary="Open a survey for responses")
def publish_survey(
    survey_id: Id, body: StatusChange, session: DbSession, principal: Editor
) -> SurveyDetailOut:
    surveys.publish_survey(session, principal, survey_id, expected_version=body.expected_version)
    return _detail_out(surveys.get_survey(session, principal, survey_id))


@router.post("/api/surveys/{survey_id}/close", summary="Stop a survey's responses")
def close_survey(
    survey_id: Id, body: StatusChange, session: DbSession, principal: Editor
) -> SurveyDetailOut:
    surveys.close_survey(session, principal, survey_id, expected_version=body.expected_version)
    return _detail_out(surveys.get_survey(session, principal, survey_id))


# --- responses ----------------------------------------------------------------------------------


@router.post(
    "/api/surveys/{survey_id}/responses",
    status_code=status.HTTP_201_CREATED,
    summary="Start a response (partial), with the answers given so far",
)
def start_response(
    survey_id: Id, body: ResponseStart, session: DbSession, principal: Recorder
) -> ResponseOut:
    context = responses.ResponseContext(
        customer_id=body.customer_id,
        ticket_id=body.ticket_id,
        team_id=body.team_id,
        channel=body.channel,
        invitation_id=body.invitation_id,
        language=body.language,
    )
    response = responses.start_response(
        session, principal, survey_id, context, answers=body.answers
    )
    return _response_out(responses.get_response(session, principal, response.id))


@router.get("/api/surveys/{survey_id}/responses", summary="A survey's responses with answers")
def list_responses(
    survey_id: Id,
    session: DbSession,
    principal: Reader,
    paging: Pagination,
    response_status: Annotated[ResponseStatus | None, Query(alias="status")] = None,
    survey_version: Annotated[Version | None, Query()] = None,
) -> Page[ResponseOut]:
    found, total = responses.list_responses(
        session,
        principal,
        survey_id,
        status=response_status,
        survey_version=survey_version,
        offset=paging.offset,
        limit=paging.page_size,
    )
    return Page[ResponseOut](
        items=[_response_out(r) for r in found],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/api/surveys/{survey_id}/responses/import",
    summary="Import past responses from CSV (all or nothing)",
)
def import_responses(
    survey_id: Id,
    session: DbSession,
    principal: Editor,
    file: Annotated[UploadFile, File(description="UTF-8 CSV; columns: docs/surveys.md")],
) -> ImportOut:
    """Nothing is imported unless every row is valid; a 422 lists every bad row by file line
    and column."""
    result = importing.import_responses_csv(
        session, principal, survey_id, file.file, source=file.filename or "upload"
    )
    return ImportOut.model_validate(result, from_attributes=True)


@router.get("/api/survey-responses/{response_id}", summary="One response with its answers")
def get_response(response_id: Id, session: DbSession, principal: Reader) -> ResponseOut:
    return _response_out(responses.get_response(session, principal, response_id))


@router.patch(
    "/api/survey-responses/{response_id}",
    summary="Save answers to a partial response (resume it later)",
)
def save_answers(
    response_id: Id, body: AnswersIn, session: DbSession, principal: Recorder
) -> ResponseOut:
    responses.save_answers(
        session, principal, response_id, body.answers, expected_version=body.expected_version
    )
    return _response_out(responses.get_response(session, principal, response_id))


@router.post(
    "/api/survey-responses/{response_id}/submit",
    summary="Submit a response, with its last answers",
)
def submit_response(
    response_id: Id, body: AnswersIn, session: DbSession, principal: Recorder
) -> ResponseOut:
    responses.submit_response(
        session, principal, response_id, body.answers, expected_version=body.expected_version
    )
    return _response_out(responses.get_response(session, principal, response_id))
