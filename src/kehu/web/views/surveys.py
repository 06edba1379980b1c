"""The survey pages for managers (``/surveys``): the list with a new survey from a template or
blank, a survey's page (its definition as a respondent sees it, in either language; its
versions, what changed in each and how many answered it; publish, close, the results link and
the import of past responses), the builder (``/surveys/{id}/edit``) and the competitors
(``/surveys/competitors``).

Everything is done by the feedback domain's use cases (:mod:`kehu.feedback.surveys`,
:mod:`kehu.feedback.importing`, :mod:`kehu.feedback.overview`); the pages only turn forms into
their arguments and their refusals into messages beside the field: 422 for a refused value, 409
for a stale save (someone else saved the survey after the page was opened; what was typed is
kept). Reading needs ``feedback:read``; the forms are offered to ``feedback:write`` holders and
the use cases check it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from kehu.core.auth import require
from kehu.core.auth.principal import Principal
from kehu.core.i18n import N_
from kehu.errors import ConflictError, InputError, InvalidRowsError
from kehu.feedback import importing, surveys
from kehu.feedback.definition import QUESTION_TYPES, SurveyDefinition
from kehu.feedback.overview import definition_changes, survey_summaries
from kehu.feedback.templates import TEMPLATE_NAMES, TEMPLATES
from kehu.store.bounds import INT32_MAX, Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage
from kehu.web.views import survey_form

router = APIRouter()

STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "closed": N_("Closed"),
}
#: What each template asks, for the new-survey form (catalog messages).
TEMPLATE_DESCRIPTIONS: dict[str, str] = {
    "nps": N_("How likely the customer is to recommend you, 0 to 10, and why."),
    "csat": N_("How satisfied the customer is, 1 to 5, and why."),
    "ces": N_("How easy you made it to handle the customer's issue, 1 to 7."),
    "servqual": N_(
        "The 22 statements of SERVQUAL, each with an expectation and a perception, and the "
        "importance of its five dimensions."
    ),
    "share_of_wallet": N_("What share of the customer's spending in your category goes to you."),
    "service_qualities": N_(
        "Promise kept, speed, expertise, attitude and standards: expectation and perception, "
        "and their importance."
    ),
    "customer_value": N_(
        "What the customer gets and what it costs them, and how you and your competitors do "
        "on what matters."
    ),
    "ecsi": N_("The 24 indicators of the European Customer Satisfaction Index, 1 to 10."),
}
CHANGE_LABELS: dict[str, str] = {
    "title": N_("title or introduction changed"),
    "dimensions": N_("dimensions changed"),
    "added": N_("added"),
    "removed": N_("removed"),
    "changed": N_("changed"),
    "moved": N_("moved"),
}
#: A hint for each field of the builder, shown with the domain's reason (catalog messages).
FIELD_HINTS: dict[str, str] = {
    "title": N_("Write the title in English and in Chinese."),
    "intro": N_("Write the introduction in both languages, or in neither."),
    "dimensions": N_("Write each dimension on its own line as: id | English | Chinese."),
    "questions": N_("Check the questions."),
    "en": N_("Write the question in English."),
    "zh": N_("Write the question in Chinese."),
    "id": N_("A question id is letters, digits and _, a letter first, used once."),
    "dimension": N_("Choose one of the survey's dimensions."),
    "scale": N_("Give the scale as whole numbers, the lowest below the highest."),
    "options": N_("Write each option on its own line as: id | English | Chinese."),
    "competitors": N_("Choose competitors from the list."),
    "if": N_("Check the condition: it names an earlier question and a value it can have."),
    "question": N_("Check this question."),
}
DONE = {
    "created": N_("The survey was created."),
    "saved": N_("The survey was saved."),
    "published": N_("The survey is published: responses may be recorded."),
    "closed": N_("The survey is closed: no new responses."),
    "imported": N_("The past responses were imported."),
}

Csrf = Annotated[str | None, Form(max_length=200)]
Version = Annotated[int, Form(ge=1, le=INT32_MAX)]


def _principal(page: Page) -> Principal:
    principal = page.principal
    assert principal is not None
    return principal


def _competitor_names(session: Session, principal: Principal) -> dict[int, str]:
    return {c.id: c.name for c in surveys.list_competitors(session, principal)}


# --- the list -----------------------------------------------------------------------------------


def _list(
    page: Page,
    session: Session,
    *,
    notice: str | None = None,
    error: str | None = None,
    error_field: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = _principal(page)
    require(principal, "feedback:read")
    templates = [
        {
            "key": key,
            "name": TEMPLATE_NAMES[key],
            "description": TEMPLATE_DESCRIPTIONS[key],
            "n_questions": len(TEMPLATES[key]["questions"]),
            "competitors": any(
                q["type"] == "competitor_rating" for q in TEMPLATES[key]["questions"]
            ),
        }
        for key in TEMPLATES
    ]
    return page.render(
        "feedback/surveys_list.html",
        {
            "surveys": survey_summaries(session, principal),
            "status_labels": STATUS_LABELS,
            "template_names": TEMPLATE_NAMES,
            "templates": templates,
            "competitors": _competitor_names(session, principal),
            "can_write": principal.can("feedback:write"),
            "notice": notice,
            "error": error,
            "error_field": error_field,
            "values": values or {"name": "", "template": "nps", "competitor_ids": []},
        },
        active="surveys",
        status_code=status_code,
    )


@router.get("/surveys", name="web_surveys")
def survey_list(page: StaffPage, session: SessionDep) -> HTMLResponse:
    return _list(page, session)


def _blank_definition(page: Page, name: str) -> dict[str, Any]:
    """A new blank survey's one question to start from (a definition has one at least)."""
    return {
        "title": {"en": name, "zh-Hans": name},
        "questions": [
            {
                "id": "q1",
                "type": "free_text",
                "text": {
                    "en": "What would you like to tell us?",
                    "zh-Hans": "您有什么想告诉我们的吗？",
                },
            }
        ],
    }


@router.post("/surveys", name="web_survey_create")
def create_survey(
    page: StaffPage,
    session: SessionDep,
    name: Annotated[str, Form(max_length=surveys.NAME_MAX)] = "",
    template_key: Annotated[str, Form(alias="template", max_length=40)] = "",
    competitor_ids: Annotated[list[Id] | None, Form()] = None,
    csrf_token: Csrf = None,
) -> Response:
    _ = page._
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    chosen = list(competitor_ids or [])
    values = {"name": name, "template": template_key, "competitor_ids": chosen}
    blank = template_key == "blank"
    try:
        with session.begin_nested():
            survey = surveys.create_survey(
                session,
                _principal(page),
                name=name,
                template_key=None if blank else template_key,
                definition=_blank_definition(page, name.strip()) if blank else None,
                competitor_ids=() if blank else chosen,
            )
    except InputError as error:
        field = "name" if error.column == "name" else "template"
        message = (
            _("Give the survey a name.") if field == "name" else _("Choose a template or blank.")
        )
        if error.column and error.column.startswith("definition.competitors"):
            message = _("Choose competitors from the list.")
        return _list(
            page, session, error=message, error_field=field, values=values, status_code=422
        )
    target = "web_survey_edit" if blank else "web_survey"
    path = page.request.url_for(target, survey_id=survey.id).path
    return RedirectResponse(f"{path}{'' if blank else '?done=created'}", status_code=303)


# --- competitors --------------------------------------------------------------------------------


def _competitors_page(
    page: Page,
    session: Session,
    *,
    notice: str | None = None,
    error: str | None = None,
    error_for: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = _principal(page)
    return page.render(
        "feedback/surveys_competitors.html",
        {
            "competitors": surveys.list_competitors(session, principal),
            "can_write": principal.can("feedback:write"),
            "notice": notice,
            "error": error,
            "error_for": error_for,
        },
        active="surveys",
        status_code=status_code,
    )


@router.get("/surveys/competitors", name="web_survey_competitors")
def competitor_list(
    page: StaffPage,
    session: SessionDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    _ = page._
    notices = {"added": _("The competitor was added."), "renamed": _("The competitor was renamed.")}
    return _competitors_page(page, session, notice=notices.get(done or ""))


def _competitor_refused(page: Page, session: Session, error: Exception, where: str) -> HTMLResponse:
    _ = page._
    if isinstance(error, ConflictError):
        message, status = _("A competitor with this name exists already."), 409
    else:
        message, status = _("Give the competitor a name."), 422
    return _competitors_page(page, session, error=message, error_for=where, status_code=status)


@router.post("/surveys/competitors", name="web_survey_competitor_create")
def create_competitor(
    page: StaffPage,
    session: SessionDep,
    name: Annotated[str, Form(max_length=surveys.NAME_MAX)] = "",
    csrf_token: Csrf = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    try:
        with session.begin_nested():
            surveys.create_competitor(session, _principal(page), name=name)
    except (InputError, ConflictError) as error:
        return _competitor_refused(page, session, error, "new")
    path = page.request.url_for("web_survey_competitors").path
    return RedirectResponse(f"{path}?done=added", status_code=303)


@router.post("/surveys/competitors/{competitor_id}", name="web_survey_competitor_rename")
def rename_competitor(
    page: StaffPage,
    session: SessionDep,
    competitor_id: Id,
    name: Annotated[str, Form(max_length=surveys.NAME_MAX)] = "",
    csrf_token: Csrf = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    try:
        with session.begin_nested():
            surveys.rename_competitor(session, _principal(page), competitor_id, name=name)
    except (InputError, ConflictError) as error:
        return _competitor_refused(page, session, error, str(competitor_id))
    path = page.request.url_for("web_survey_competitors").path
    return RedirectResponse(f"{path}?done=renamed", status_code=303)


# --- a survey -----------------------------------------------------------------------------------


def _versions(detail: surveys.SurveyDetail) -> list[dict[str, Any]]:
    rows = []
    previous: SurveyDefinition | None = None
    for version in detail.versions:
        changes = [] if previous is None else definition_changes(previous, version.definition)
        rows.append(
            {
                "number": version.number,
                "created_at": version.created_at,
                "n_responses": version.n_responses,
                "changes": changes,
                "first": previous is None,
                "current": version.number == detail.current_version,
            }
        )
        previous = version.definition
    return list(reversed(rows))


def _survey_page(
    page: Page,
    session: Session,
    survey_id: int,
    *,
    language: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    import_error: InputError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = _principal(page)
    detail = surveys.get_survey(session, principal, survey_id)
    shown = language if language in ("en", "zh-Hans") else page.locale
    definition = detail.definition
    problems: list[Any] = []
    if isinstance(import_error, InvalidRowsError):
        problems = list(import_error.problems)
    return page.render(
        "feedback/surveys_detail.html",
        {
            "survey": detail,
            "definition": definition,
            "dimensions": {d.id: d.name for d in definition.dimensions},
            "shown": shown,
            "other": "zh-Hans" if shown == "en" else "en",
            "status_labels": STATUS_LABELS,
            "template_names": TEMPLATE_NAMES,
            "change_labels": CHANGE_LABELS,
            "conditions": survey_form.CONDITIONS,
            "competitors": _competitor_names(session, principal),
            "versions": _versions(detail),
            "n_responses": sum(v.n_responses for v in detail.versions),
            "import_columns": [*importing.import_columns(definition), *importing.CONTEXT_COLUMNS],
            "can_write": principal.can("feedback:write"),
            "notice": notice,
            "error": error,
            "import_error": import_error,
            "import_problems": problems,
        },
        active="surveys",
        status_code=status_code,
    )


@router.get("/surveys/{survey_id}", name="web_survey")
def survey_detail(
    page: StaffPage,
    session: SessionDep,
    survey_id: Id,
    lang: Annotated[str | None, Query(max_length=10)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    n: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
) -> HTMLResponse:
    _ = page._
    notice = _(DONE[done]) if done in DONE else None
    if done == "imported" and n is not None:
        notice = _("Past responses imported: %(n)s.", n=n)
    return _survey_page(page, session, survey_id, language=lang, notice=notice)


def _status_change(
    page: Page, session: Session, survey_id: int, expected_version: int, action: str
) -> Response:
    _ = page._
    change = surveys.publish_survey if action == "published" else surveys.close_survey
    try:
        with session.begin_nested():
            change(session, _principal(page), survey_id, expected_version=expected_version)
    except ConflictError:
        message = _(
            "Someone else changed this survey after you opened it, or it cannot be closed "
            "(a draft was never published). Check it below and try again."
        )
        return _survey_page(page, session, survey_id, error=message, status_code=409)
    path = page.request.url_for("web_survey", survey_id=survey_id).path
    return RedirectResponse(f"{path}?done={action}", status_code=303)


@router.post("/surveys/{survey_id}/publish", name="web_survey_publish")
def publish_survey(
    page: StaffPage,
    session: SessionDep,
    survey_id: Id,
    expected_version: Version,
    csrf_token: Csrf = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    return _status_change(page, session, survey_id, expected_version, "published")


@router.post("/surveys/{survey_id}/close", name="web_survey_close")
def close_survey(
    page: StaffPage,
    session: SessionDep,
    survey_id: Id,
    expected_version: Version,
    csrf_token: Csrf = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    return _status_change(page, session, survey_id, expected_version, "closed")


@router.post("/surveys/{survey_id}/import", name="web_survey_import")
def import_responses(
    page: StaffPage,
    session: SessionDep,
    survey_id: Id,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Csrf = None,
) -> Response:
    """Import a CSV of past responses; a bad file is listed line by line, nothing imported."""
    _ = page._
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    if file is None or not file.filename:
        error = InputError("choose a CSV file to import", column="file")
        return _survey_page(page, session, survey_id, import_error=error, status_code=422)
    try:
        with session.begin_nested():
            result = importing.import_responses_csv(
                session, _principal(page), survey_id, file.file, source=file.filename
            )
    except InputError as error:
        return _survey_page(page, session, survey_id, import_error=error, status_code=422)
    path = page.request.url_for("web_survey", survey_id=survey_id).path
    return RedirectResponse(f"{path}?done=imported&n={result.imported}", status_code=303)


# --- the builder --------------------------------------------------------------------------------


def _builder(
    page: Page,
    session: Session,
    detail: surveys.SurveyDetail,
    form: dict[str, Any],
    *,
    expected_version: int,
    error: str | None = None,
    error_detail: str | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The builder's form; ``errors``: field -> (what to do, in the page's language; the
    domain's reason, in English, as the API gives it)."""
    principal = _principal(page)
    current = next(v for v in detail.versions if v.number == detail.current_version)
    dimension_ids = [
        line.split("|")[0].strip() for line in form["dimensions"].splitlines() if "|" in line
    ]
    return page.render(
        "feedback/surveys_builder.html",
        {
            "survey": detail,
            "form": form,
            "expected_version": expected_version,
            "question_types": QUESTION_TYPES,
            "option_types": survey_form.OPTION_TYPES,
            "scaled_types": survey_form.SCALED_TYPES,
            "conditions": survey_form.CONDITIONS,
            "dimension_ids": dimension_ids,
            "competitors": _competitor_names(session, principal),
            "answered": current.n_responses,
            "can_write": principal.can("feedback:write"),
            "error": error,
            "error_detail": error_detail,
            "errors": errors or {},
            "invalid": _invalid_marker(errors or {}),
        },
        active="surveys",
        status_code=status_code,
    )


def _invalid_marker(errors: dict[str, tuple[str, str]]) -> Callable[[str], Markup]:
    """``{{ invalid(field) }}``: the attributes that tie a refused field to its message."""

    def marker(field: str) -> Markup:
        if field not in errors:
            return Markup("")
        return Markup(' aria-invalid="true" aria-describedby="error-{}"').format(field)

    return marker


@router.get("/surveys/{survey_id}/edit", name="web_survey_edit")
def edit_survey(page: StaffPage, session: SessionDep, survey_id: Id) -> HTMLResponse:
    require(_principal(page), "feedback:write")  # the builder is for those who may save
    detail = surveys.get_survey(session, _principal(page), survey_id)
    form = survey_form.form_of(detail.definition)
    return _builder(page, session, detail, form, expected_version=detail.version)


async def _posted_form(request: Request) -> FormData:
    """The builder's whole form (its fields are numbered per question, not declared)."""
    return await request.form(max_fields=5_000)


def _hint(page: Page, field: str) -> str:
    kind = field.rsplit("-", 1)[-1] if field.startswith("q-") else field
    if field.startswith("q-") and kind.isdigit():
        kind = "question"
    return page._(FIELD_HINTS.get(kind, FIELD_HINTS["question"]))


@router.post("/surveys/{survey_id}/edit", name="web_survey_save")
def save_survey(
    page: StaffPage,
    session: SessionDep,
    survey_id: Id,
    posted: Annotated[FormData, Depends(_posted_form)],
) -> Response:
    """Save the definition, or make the edit a button names and show the form again."""
    _ = page._
    token = posted.get("csrf_token")
    if not page.csrf_ok(token if isinstance(token, str) else None):
        return page.expired_form()
    principal = _principal(page)
    detail = surveys.get_survey(session, principal, survey_id)
    raw_version = posted.get("expected_version")
    expected = (
        int(raw_version)
        if isinstance(raw_version, str) and raw_version.isdigit() and len(raw_version) < 10
        else detail.version
    )
    single = {k: v for k, v in posted.items() if isinstance(v, str)}
    competitors: dict[str, list[str]] = {}
    for key, value in posted.multi_items():
        if key.endswith("-competitors") and isinstance(value, str):
            competitors.setdefault(key.split("-")[1], []).append(value)
    form = survey_form.read_form(single, competitors)
    op = single.get("op", "save")
    if op != "save" and survey_form.apply_edit(form, op, single.get("new_type", "")):
        return _builder(page, session, detail, form, expected_version=expected)
    try:
        with session.begin_nested():
            data = survey_form.definition_data(form)
            surveys.change_definition(
                session, principal, survey_id, data, expected_version=expected
            )
    except InputError as error:
        field = survey_form.error_field(error)
        return _builder(
            page,
            session,
            detail,
            form,
            expected_version=expected,
            error=_("The survey was not saved: check the marked field."),
            errors={field: (_hint(page, field), error.reason)},
            status_code=422,
        )
    except ConflictError as conflict:
        message = _(
            "Someone else saved this survey after you opened it, so your change was not saved. "
            "What you typed is kept below; open the survey again to see their version."
        )
        return _builder(
            page,
            session,
            detail,
            form,
            expected_version=expected,
            error=message,
            error_detail=str(conflict),
            status_code=409,
        )
    path = page.request.url_for("web_survey", survey_id=survey_id).path
    return RedirectResponse(f"{path}?done=saved", status_code=303)
