"""Surveys and competitors: create (from a template or a definition), read with every version,
change the definition, publish and close; name competitors.

Versioning rule
---------------
A survey's definition lives in numbered versions. Changing it while *no response* (partial or
submitted, recorded or imported) was recorded on the current version rewrites that version in
place: nobody answered it, so nothing needs its old wording. Once a response exists, a change
makes a new version (number + 1) and becomes the current one; the old version stays as it was,
and its responses keep pointing at it, so they are always read against the questions they
answered. New responses are recorded on the current version.

A change names the survey's row version it was made on (``expected_version``); another change in
between makes it a :class:`~kehu.errors.ConflictError` (409) saying so, whether it is seen on
reading or only on writing (two changes at once: the second one's versioned UPDATE misses).

Statuses: ``draft`` (being written; no responses), ``published`` (responses may be recorded),
``closed`` (no new responses; imports of past responses still allowed). A closed survey may be
published again. Changing needs ``feedback:write``; reading ``feedback:read``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kehu.core.audit import record_audit
from kehu.core.auth import Principal, require, scoped
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.tables import Competitor, Survey, SurveyResponse, SurveyVersion
from kehu.feedback.templates import TEMPLATES, template
from kehu.store.base import utc_now

__all__ = [
    "NAME_MAX",
    "SurveyDetail",
    "VersionDetail",
    "change_definition",
    "close_survey",
    "create_competitor",
    "create_survey",
    "definition_of",
    "get_survey",
    "list_competitors",
    "list_surveys",
    "parse_definition",
    "publish_survey",
    "rename_competitor",
]

NAME_MAX = 200


@dataclass(frozen=True)
class VersionDetail:
    number: int
    definition: SurveyDefinition
    created_at: datetime
    n_responses: int


@dataclass(frozen=True)
class SurveyDetail:
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
    versions: list[VersionDetail]

    @property
    def definition(self) -> SurveyDefinition:
        return next(v.definition for v in self.versions if v.number == self.current_version)


def parse_definition(data: Any) -> SurveyDefinition:
    """A definition from JSON-like data; the first problem is an :class:`InputError` naming
    the field (``definition.questions.3.type``)."""
    if isinstance(data, SurveyDefinition):
        return data
    try:
        return SurveyDefinition.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in ("definition", *first["loc"]))
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InputError(message, column=where) from None


def _stored(definition: SurveyDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_none=True)


def definition_of(version: SurveyVersion) -> SurveyDefinition:
    return SurveyDefinition.model_validate(version.definition)


def _check_competitors(session: Session, definition: SurveyDefinition) -> None:
    wanted = definition.competitor_ids()
    if not wanted:
        return
    found = set(session.scalars(select(Competitor.id).where(Competitor.id.in_(sorted(wanted)))))
    missing = sorted(wanted - found)
    if missing:
        raise InputError(
            "no competitor with this id", column="definition.competitors", value=missing[0]
        )


def _with_competitors(
    definition: SurveyDefinition, competitor_ids: Sequence[int]
) -> dict[str, Any]:
    data = _stored(definition)
    for question in data["questions"]:
        if question["type"] == "competitor_rating":
            question["competitors"] = list(competitor_ids)
    return data


def create_survey(
    session: Session,
    principal: Principal,
    *,
    name: str,
    template_key: str | None = None,
    definition: Any = None,
    competitor_ids: Sequence[int] = (),
    now: datetime | None = None,
) -> Survey:
    """A new draft survey from ``template_key`` (its competitor ratings naming
    ``competitor_ids``) or from ``definition`` (``feedback:write``)."""
    require(principal, "feedback:write")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise InputError(f"a survey needs a name of 1 to {NAME_MAX} characters", column="name")
    if (template_key is None) == (definition is None):
        raise InputError("give a template or a definition (one of the two)", column="template")
    if template_key is not None:
        if template_key not in TEMPLATES:
            raise InputError(
                f"no such template; templates: {', '.join(TEMPLATES)}",
                column="template",
                value=template_key,
            )
        parsed = parse_definition(_with_competitors(template(template_key), competitor_ids))
    else:
        if competitor_ids:
            raise InputError("a definition names its own competitors", column="competitor_ids")
        parsed = parse_definition(definition)
    _check_competitors(session, parsed)
    now = now or utc_now()
    survey = Survey(
        name=name,
        template=template_key,
        status="draft",
        current_version=1,
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    session.flush()
    session.add(
        SurveyVersion(
            survey_id=survey.id,
            number=1,
            definition=_stored(parsed),
            created_by=principal.user_id,
            created_at=now,
        )
    )
    session.flush()
    record_audit(
        session, principal, "survey.created", "survey", survey.id, None,
        {"name": name, "template": template_key},
    )  # fmt: skip
    return survey


def _survey(session: Session, principal: Principal, survey_id: int) -> Survey:
    survey = session.scalar(scoped(select(Survey), principal, Survey).where(Survey.id == survey_id))
    if survey is None:
        raise NotFoundError(f"no survey with id {survey_id}")
    return survey


def current_version_of(session: Session, survey: Survey) -> SurveyVersion:
    version = session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.number == survey.current_version
        )
    )
    assert version is not None  # written with the survey
    return version


def get_survey(session: Session, principal: Principal, survey_id: int) -> SurveyDetail:
    """One survey with every version and its number of responses (``feedback:read``)."""
    survey = _survey(session, principal, survey_id)
    counts: dict[int, int] = {
        number: count
        for number, count in session.execute(
            scoped(
                select(SurveyResponse.version_number, func.count()),
                principal,
                SurveyResponse,
            )
            .where(SurveyResponse.survey_id == survey.id)
            .group_by(SurveyResponse.version_number)
        )
    }
    versions = [
        VersionDetail(v.number, definition_of(v), v.created_at, int(counts.get(v.number, 0)))
        for v in session.scalars(
            scoped(select(SurveyVersion), principal, SurveyVersion)
            .where(SurveyVersion.survey_id == survey.id)
            .order_by(SurveyVersion.number)
        )
    ]
    return SurveyDetail(
        id=survey.id,
        name=survey.name,
        template=survey.template,
        status=survey.status,
        current_version=survey.current_version,
        version=survey.version,
        created_at=survey.created_at,
        updated_at=survey.updated_at,
        published_at=survey.published_at,
        closed_at=survey.closed_at,
        versions=versions,
    )


def list_surveys(
    session: Session, principal: Principal, *, status: str | None = None
) -> list[Survey]:
    """The surveys, newest first (``feedback:read``)."""
    statement = scoped(select(Survey), principal, Survey)
    if status is not None:
        statement = statement.where(Survey.status == status)
    return list(session.scalars(statement.order_by(Survey.id.desc())))


def _for_change(
    session: Session, principal: Principal, survey_id: int, expected_version: int | None
) -> Survey:
    require(principal, "feedback:write")
    survey = _survey(session, principal, survey_id)
    if expected_version is not None and survey.version != expected_version:
        raise ConflictError(
            f"the survey was changed by someone else (it is at version {survey.version}, your "
            f"change was made on version {expected_version}); reload it and make your change "
            "again"
        )
    return survey


def _flush(session: Session, survey_id: int, expected: int) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(
            f"survey {survey_id} was changed by someone else while you were changing it (you "
            f"loaded version {expected}); reload it and make your change again"
        ) from exc


def change_definition(
    session: Session,
    principal: Principal,
    survey_id: int,
    definition: Any,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Survey:
    """Replace the survey's definition (see the versioning rule in the module documentation)."""
    survey = _for_change(session, principal, survey_id, expected_version)
    loaded = survey.version
    parsed = parse_definition(definition)
    _check_competitors(session, parsed)
    now = now or utc_now()
    current = current_version_of(session, survey)
    answered = session.scalar(
        select(func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_version_id == current.id)
    )
    if answered:
        survey.current_version = current.number + 1
        session.add(
            SurveyVersion(
                survey_id=survey.id,
                number=survey.current_version,
                definition=_stored(parsed),
                created_by=principal.user_id,
                created_at=now,
            )
        )
    else:
        current.definition = _stored(parsed)
    survey.updated_at = now
    _flush(session, survey_id, loaded)
    record_audit(
        session, principal, "survey.changed", "survey", survey.id,
        {"version": current.number}, {"version": survey.current_version},
    )  # fmt: skip
    return survey


def _set_status(
    session: Session,
    principal: Principal,
    survey_id: int,
    status: str,
    expected_version: int | None,
    now: datetime | None,
) -> Survey:
    survey = _for_change(session, principal, survey_id, expected_version)
    loaded = survey.version
    if survey.status == status:
        return survey
    before = survey.status
    now = now or utc_now()
    survey.status = status
    survey.updated_at = now
    if status == "published":
        survey.published_at = now
        survey.closed_at = None
    else:
        survey.closed_at = now
    _flush(session, survey_id, loaded)
    record_audit(
        session, principal, f"survey.{status}", "survey", survey.id,
        {"status": before}, {"status": status},
    )  # fmt: skip
    return survey


def publish_survey(
    session: Session,
    principal: Principal,
    survey_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Survey:
    """Open the survey for responses (a draft, or a closed survey again)."""
    return _set_status(session, principal, survey_id, "published", expected_version, now)


def close_survey(
    session: Session,
    principal: Principal,
    survey_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Survey:
    """Stop new responses (a draft cannot be closed: it was never open)."""
    survey = _for_change(session, principal, survey_id, expected_version)
    if survey.status == "draft":
        raise ConflictError("a draft survey was never published; there is nothing to close")
    return _set_status(session, principal, survey_id, "closed", expected_version, now)


# --- competitors --------------------------------------------------------------------------------


def create_competitor(session: Session, principal: Principal, *, name: str) -> Competitor:
    """Name a competitor (``feedback:write``); a name already taken is a conflict."""
    require(principal, "feedback:write")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise InputError(f"a competitor needs a name of 1 to {NAME_MAX} characters", column="name")
    if session.scalar(select(Competitor.id).where(Competitor.name == name)) is not None:
        raise ConflictError(f"a competitor named {name!r} exists already")
    competitor = Competitor(name=name, active=True, created_at=utc_now())
    session.add(competitor)
    session.flush()
    record_audit(
        session, principal, "competitor.created", "competitor", competitor.id, None, {"name": name}
    )
    return competitor


def list_competitors(session: Session, principal: Principal) -> list[Competitor]:
    """Every competitor, by name (``feedback:read``)."""
    statement = scoped(select(Competitor), principal, Competitor)
    return list(session.scalars(statement.order_by(Competitor.name, Competitor.id)))


def rename_competitor(
    session: Session, principal: Principal, competitor_id: int, *, name: str
) -> Competitor:
    """Give a competitor another name (``feedback:write``); the ratings of it keep pointing at
    its id, so past responses read under the new name. A name already taken is a conflict."""
    require(principal, "feedback:write")
    competitor = session.scalar(
        scoped(select(Competitor), principal, Competitor).where(Competitor.id == competitor_id)
    )
    if competitor is None:
        raise NotFoundError(f"no competitor with id {competitor_id}")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise InputError(f"a competitor needs a name of 1 to {NAME_MAX} characters", column="name")
    taken = session.scalar(
        select(Competitor.id).where(Competitor.name == name, Competitor.id != competitor_id)
    )
    if taken is not None:
        raise ConflictError(f"a competitor named {name!r} exists already")
    before = competitor.name
    competitor.name = name
    session.flush()
    record_audit(
        session, principal, "competitor.renamed", "competitor", competitor.id,
        {"name": before}, {"name": name},
    )  # fmt: skip
    return competitor
