"""The public response page of a survey invitation, and the unsubscribe page.

    GET  /s/{token}              the survey, with the answers saved so far (resumed)
    POST /s/{token}              save (``action=save``) or submit (``action=submit``)
    GET  /unsubscribe/{token}    asks to confirm (a link scanner's GET changes nothing)
    POST /unsubscribe/{token}    records the opt-out

No login: the signed link's token is the credential, for one invitation only (the pages answer
"no-referrer", "noindex" and "no-store"). One page with the skip logic applied on the server:
the questions shown are those the saved answers show, and "Save and continue" brings the
questions an answer opens; no script is needed. The page's language is the visitor's choice
(the language switch's cookie) or else the invitation's (the customer's language). A forged,
expired or revoked link is a clear 404 page and records nothing; a submitted one thanks and
records nothing; an out-of-range answer re-renders the form with the error at its question (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from kehu.core.config import Settings
from kehu.core.i18n import N_, Translator
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.feedback import invitations
from kehu.feedback.definition import FIXED_SCALES, Question, SurveyDefinition
from kehu.feedback.invitations import AlreadyAnswered, Respondent
from kehu.store.base import utc_now
from kehu.store.db import Database
from kehu.web.deps import get_database, get_settings
from kehu.web.i18n import COOKIE_NAME, negotiate_locale
from kehu.web.rendering import Page

router = APIRouter()

HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}
PROBLEMS = {
    "required": N_("Please answer this question."),
    "range": N_("Please choose a whole number from %(low)s to %(high)s."),
    "points": N_("Please split exactly 100 points."),
    "other": N_("Please check this answer."),
}
ITEM_NAMES = {"expectation": N_("What you expect"), "perception": N_("What you found")}
US_NAME = N_("Us")

Store = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Shown:
    """A question as the page shows it."""

    question: Question
    text: str
    answer: Any
    scale: list[int]
    options: list[tuple[str, str]]
    items: list[tuple[str, str]]
    problem: str | None = None


def _page(request: Request, settings: Settings, language: str | None) -> Page:
    """The visitor's chosen language, else the invitation's, else the browser's."""
    chosen = request.cookies.get(COOKIE_NAME)
    locale = negotiate_locale(chosen or language, request.headers.get("accept-language"))
    return Page(request, None, Translator(locale, ZoneInfo(settings.timezone)), settings, "")


def _from_elsewhere(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    return urlsplit(origin).netloc != request.headers.get("host", request.url.netloc)


def _notice(page: Page, kind: str, status_code: int) -> HTMLResponse:
    _ = page._
    texts = {
        "invalid": (
            _("Link not valid"),
            _(
                "This survey link is not valid: it may have expired or been replaced by a "
                "newer one. Nothing was recorded."
            ),
        ),
        "answered": (
            _("Thank you"),
            _("This survey has been answered already. Thank you for your answers."),
        ),
        "closed": (
            _("Survey closed"),
            _("This survey is closed and takes no more answers. Nothing was recorded."),
        ),
        "unsubscribed": (
            _("You are unsubscribed"),
            _("We will not send you any more surveys."),
        ),
    }
    title, message = texts[kind]
    response = page.render(
        "feedback/respond_notice.html",
        {"title": title, "message": message, "kind": kind},
        status_code=status_code,
    )
    response.headers.update(HEADERS)
    return response


def _item_label(page: Page, question: Question, item: str, competitors: dict[int, str]) -> str:
    if question.type == "servqual_pair":
        return page._(ITEM_NAMES[item])
    if question.type == "importance_points":
        option = next(o for o in question.options if o.id == item)
        return option.text.in_language(page.locale)
    attribute, subject = item.split(".", 1)
    option = next(o for o in question.options if o.id == attribute)
    who = page._(US_NAME) if subject == "us" else competitors.get(int(subject[1:]), subject)
    return f"{option.text.in_language(page.locale)} · {who}"


def _problem_text(page: Page, question: Question, error: InputError) -> str:
    if "needs an answer" in error.reason:
        return page._(PROBLEMS["required"])
    if "100 points" in error.reason:
        return page._(PROBLEMS["points"])
    scale = question.scale
    if scale is not None and question.type != "importance_points":
        return page._(PROBLEMS["range"], low=scale[0], high=scale[1])
    return page._(PROBLEMS["other"])


def _shown(
    page: Page,
    definition: SurveyDefinition,
    answers: dict[str, Any],
    competitors: dict[int, str],
    problem: tuple[str, str] | None,
) -> list[Shown]:
    language = page.locale
    questions: list[Shown] = []
    for question, visible in definition.visible(answers):
        if not visible:
            continue
        scale = question.scale
        steps = (
            list(range(scale[0], scale[1] + 1))
            if scale is not None and scale[1] - scale[0] <= 10
            else []
        )
        questions.append(
            Shown(
                question=question,
                text=question.text.in_language(language),
                answer=answers.get(question.id),
                scale=steps,
                options=[(o.id, o.text.in_language(language)) for o in question.options],
                items=(
                    [
                        (item, _item_label(page, question, item, competitors))
                        for item in question.items()
                    ]
                    if question.type in ("servqual_pair", "importance_points", "competitor_rating")
                    else []
                ),
                problem=problem[1] if problem and problem[0] == question.id else None,
            )
        )
    return questions


def _render(
    page: Page,
    token: str,
    respondent: Respondent,
    *,
    answers: dict[str, Any] | None = None,
    problem: tuple[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    definition = respondent.definition
    values = respondent.answers if answers is None else answers
    response = page.render(
        "feedback/respond.html",
        {
            "token": token,
            "title": definition.title.in_language(page.locale),
            "intro": definition.intro.in_language(page.locale) if definition.intro else None,
            "questions": _shown(page, definition, values, respondent.competitors, problem),
            "expires_at": respondent.expires_at,
            "saved": saved,
            "problem": problem,
            "fixed_scales": FIXED_SCALES,
        },
        status_code=status_code,
    )
    response.headers.update(HEADERS)
    return response


def _open(database: Database, token: str) -> Respondent | str:
    try:
        with database.session() as session:
            return invitations.open_survey(session, token, now=utc_now())
    except AlreadyAnswered:
        return "answered"
    except NotFoundError:
        return "invalid"
    except ConflictError:
        return "closed"


NOTICE_STATUS = {"invalid": 404, "answered": 200, "closed": 409}


@router.get("/s/{token}", name="web_survey_response")
async def survey_page(
    request: Request, database: Store, settings: SettingsDep, token: str, saved: bool = False
) -> HTMLResponse:
    opened = await run_in_threadpool(_open, database, token)
    if isinstance(opened, str):
        page = _page(request, settings, None)
        return _notice(page, opened, NOTICE_STATUS[opened])
    page = _page(request, settings, opened.language)
    return _render(page, token, opened, saved=saved)


def _posted(definition: SurveyDefinition, form: FormData) -> dict[str, Any]:
    """The answers of the questions the page showed (``shown``), as the domain takes them."""
    shown = set(form.getlist("shown"))
    posted: dict[str, Any] = {}
    for question in definition.questions:
        if question.id not in shown:
            continue
        name = f"q:{question.id}"
        if question.type == "multiple_choice":
            posted[question.id] = [str(v) for v in form.getlist(name)] or None
        elif question.type in ("servqual_pair", "importance_points", "competitor_rating"):
            items = {item: str(form.get(f"{name}:{item}", "")).strip() for item in question.items()}
            posted[question.id] = {k: v for k, v in items.items() if v} or None
        else:
            value = str(form.get(name, "")).strip()
            posted[question.id] = value or None
    return posted


def _redisplayed(definition: SurveyDefinition, posted: dict[str, Any]) -> dict[str, Any]:
    """The posted values as the form shows them again (numbers as numbers where they are)."""
    shown: dict[str, Any] = {}
    for question_id, value in posted.items():
        if isinstance(value, str) and value.lstrip("-").isdigit():
            shown[question_id] = int(value)
        elif isinstance(value, dict):
            shown[question_id] = {
                k: int(v) if str(v).lstrip("-").isdigit() else v for k, v in value.items()
            }
        else:
            shown[question_id] = value
    return shown


def _answer(
    database: Database, token: str, form: FormData, submit: bool, locale: str | None
) -> Respondent | str | tuple[Respondent, dict[str, Any], InputError]:
    now = utc_now()
    try:
        with database.session() as session:
            respondent = invitations.open_survey(session, token, now=now)
    except AlreadyAnswered:
        return "answered"
    except NotFoundError:
        return "invalid"
    except ConflictError:
        return "closed"
    posted = _posted(respondent.definition, form)
    try:
        with database.session() as session:
            result = invitations.answer_survey(
                session, token, posted, submit=submit, now=now, language=locale
            )
    except AlreadyAnswered:
        return "answered"
    except NotFoundError:
        return "invalid"
    except ConflictError:
        return "closed"
    except InputError as error:
        merged = {**respondent.answers, **_redisplayed(respondent.definition, posted)}
        return respondent, {k: v for k, v in merged.items() if v is not None}, error
    return "answered" if result is None else result


@router.post("/s/{token}", name="web_survey_answer")
async def survey_answer(
    request: Request, database: Store, settings: SettingsDep, token: str
) -> Response:
    form = await request.form()
    if _from_elsewhere(request):
        return _notice(_page(request, settings, None), "invalid", 403)
    submit = form.get("action") == "submit"
    locale = _page(request, settings, None).locale if request.cookies.get(COOKIE_NAME) else None
    outcome = await run_in_threadpool(_answer, database, token, form, submit, locale)
    if isinstance(outcome, str):
        if outcome == "answered" and submit:
            target = request.url_for("web_survey_response", token=token).path
            return RedirectResponse(target, status_code=303, headers=HEADERS)
        return _notice(_page(request, settings, None), outcome, NOTICE_STATUS[outcome])
    if isinstance(outcome, tuple):
        respondent, answers, error = outcome
        page = _page(request, settings, respondent.language)
        question_id = (error.column or "").split(".", 1)[0]
        question = respondent.definition.question(question_id)
        text = _problem_text(page, question, error) if question else page._(PROBLEMS["other"])
        return _render(
            page, token, respondent, answers=answers, problem=(question_id, text), status_code=422
        )
    target = request.url_for("web_survey_response", token=token).path + "?saved=1"
    return RedirectResponse(target, status_code=303, headers=HEADERS)


def _unsubscribe(database: Database, token: str, confirm: bool) -> bool:
    try:
        with database.session() as session:
            invitations.unsubscribe(session, token, now=utc_now(), confirm=confirm)
    except NotFoundError:
        return False
    return True


@router.get("/unsubscribe/{token}", name="web_survey_unsubscribe")
async def unsubscribe_page(
    request: Request, database: Store, settings: SettingsDep, token: str
) -> HTMLResponse:
    page = _page(request, settings, None)
    if not await run_in_threadpool(_unsubscribe, database, token, False):
        return _notice(page, "invalid", 404)
    response = page.render("feedback/unsubscribe.html", {"token": token})
    response.headers.update(HEADERS)
    return response


@router.post("/unsubscribe/{token}", name="web_survey_unsubscribe_confirm")
async def unsubscribe_confirm(
    request: Request, database: Store, settings: SettingsDep, token: str
) -> HTMLResponse:
    page = _page(request, settings, None)
    if _from_elsewhere(request) or not await run_in_threadpool(_unsubscribe, database, token, True):
        return _notice(page, "invalid", 404)
    return _notice(page, "unsubscribed", 200)
