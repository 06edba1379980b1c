"""The public pages: anyone may complain (or ask, request, praise) without an account, is told
the service promise, and follows the ticket through the status link.

    GET  /complain                    the form
    POST /complain                    file it; 303 to the acknowledgement
    GET  /complain/received/{token}   the acknowledgement: reference, promise, status link
    GET  /status/{token}              the ticket as its customer sees it, and a reply form
    POST /status/{token}              the customer's reply; 303 back to the status page

The pages act for nobody (no staff session is looked at). The anonymous form is protected by a
signed form token bound to a random cookie (``kehu_form``, SameSite=Strict) and the ``Origin``
header, so another site cannot post it through a visitor's browser; the token also carries the
time the form was shown (minimum fill time), and a honeypot field catches naive bots. The status
link's token is the credential of the status pages (they answer "no-referrer", "noindex" and
"no-store"). ``static/js/public.js`` tells the server the visitor's time zone (a form field and
the ``kehu_tz`` cookie) so that the promise is told in the customer's own time. The status link
shown is on ``KEHU_PUBLIC_BASE_URL`` (never on the request's Host header), and the limits count
the address :func:`kehu.http.client_address.client_address` gives (``X-Forwarded-For`` only from
``KEHU_TRUSTED_PROXIES``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kehu.core.config import Settings
from kehu.core.i18n import N_, Translator
from kehu.desk import public
from kehu.desk.public import ComplaintForm, FormRefusedError, Promise, ReplyForm
from kehu.desk.schemas import parse
from kehu.errors import ConflictError, InputError, NotFoundError, RateLimitedError
from kehu.http.client_address import client_address
from kehu.store.base import utc_now
from kehu.store.db import Database
from kehu.web.deps import get_database, get_locale, get_settings
from kehu.web.rendering import Page

router = APIRouter()

FORM_COOKIE = "kehu_form"
ZONE_COOKIE = "kehu_tz"

KIND_LABELS = {
    "complaint": N_("Complaint"),
    "inquiry": N_("Inquiry"),
    "request": N_("Request"),
    "praise": N_("Praise"),
}
#: Statuses in the customer's words.
STATUS_LABELS = {
    "new": N_("Received"),
    "in_progress": N_("Being handled"),
    "waiting_on_customer": N_("Waiting for your reply"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}
FIELD_PROBLEMS = {
    "name": N_("Please enter your name (up to 200 characters)."),
    "email": N_("Please enter a valid email address."),
    "phone": N_("Please enter a valid phone number (5 to 20 digits)."),
    "kind": N_("Please choose what you would like to tell us."),
    "subject": N_("Please enter a subject on one line (up to 200 characters)."),
    "description": N_("Please describe the matter in up to 5000 characters."),
    "body": N_("Please write your message (up to 5000 characters)."),
    "reachable": N_("Please give an email address or a phone number so that we can answer."),
    "email_consent": N_("Please give an email address if we may write to you by email."),
}
REFUSALS = {
    "too_fast": N_("That was quick! Please check your message and send it again."),
    "expired": N_("The form was open for a long time. Please check it and send it again."),
    "invalid": N_("The form could not be checked. Please send it again."),
    "honeypot": N_("The form could not be accepted."),
}
RATE_LIMITED = N_("Too many messages from here. Please wait %(minutes)d minutes and try again.")

STATUS_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


def _zone(request: Request, settings: Settings) -> str:
    candidate = unquote(request.cookies.get(ZONE_COOKIE, ""))[:64]
    if candidate:
        try:
            ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            candidate = ""
    return candidate or settings.timezone


def anonymous_page(
    request: Request,
    locale: Annotated[str, Depends(get_locale)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> Page:
    """A page for the public: nobody is logged in here, dates in the visitor's time zone."""
    zone = ZoneInfo(_zone(request, settings))
    return Page(request, None, Translator(locale, zone), settings, "")


AnonymousPage = Annotated[Page, Depends(anonymous_page)]
Store = Annotated[Database, Depends(get_database)]


def _from_elsewhere(request: Request) -> bool:
    """Posted from a page of another site (by the ``Origin`` header). An absent or opaque
    (``null``: sent under the status pages' no-referrer policy) origin proves nothing either
    way; the signed, cookie-bound form token and the status token are the real defence."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    return urlsplit(origin).netloc != request.headers.get("host", request.url.netloc)


def _binding(request: Request) -> tuple[str, bool]:
    """The browser's form cookie, and whether it is new (to be set on the response)."""
    value = request.cookies.get(FORM_COOKIE, "")
    if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(24), True


def _set_binding(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        FORM_COOKIE,
        value,
        max_age=7 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


# -- the promise in words ----------------------------------------------------------------------


def promise_lines(page: Page, promise: Promise) -> list[str]:
    """The promise as the customer reads it, in the page's language and their time zone."""
    _ = page._

    def when(instant: datetime) -> str:
        return public.format_instant(instant, promise.timezone, page.locale)

    if promise.resolved_at is not None:
        return [_("Your matter has been resolved.")]
    lines: list[str] = []
    if promise.paused:
        lines.append(_("We are waiting for your reply; our clock stops until you answer."))
    if promise.first_response_due is not None:
        lines.append(_("We will reply by %(time)s.", time=when(promise.first_response_due)))
    elif promise.first_responded_at is not None:
        lines.append(_("We replied on %(time)s.", time=when(promise.first_responded_at)))
    if promise.resolution_due is not None:
        lines.append(_("We aim to resolve it by %(time)s.", time=when(promise.resolution_due)))
    if not lines:
        lines.append(_("We will reply as soon as we can."))
    return lines


# -- the form ----------------------------------------------------------------------------------


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _problem(error: InputError) -> str:
    if error.column in FIELD_PROBLEMS:
        return error.column
    if error.column is None and "email address to be contacted" in error.reason:
        return "email_consent"
    return "reachable"


def _render_form(
    page: Page,
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    problem: str | None = None,
    notice: str | None = None,
    retry_after: int = 0,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    binding, new = _binding(request)
    token = public.issue_form_token(page.settings, utc_now(), binding=binding)
    response = page.render(
        "public/complain.html",
        {
            "values": values or {},
            "kinds": [(code, KIND_LABELS[code]) for code in public.KINDS],
            "problem": problem,
            "problem_text": FIELD_PROBLEMS.get(problem or ""),
            "notice": notice,
            "notice_text": REFUSALS.get(notice or ""),
            "rate_limited": page._(RATE_LIMITED, minutes=_minutes(retry_after)),
            "form_token": token,
            "limits": {
                "name": public.MAX_NAME,
                "email": public.MAX_EMAIL,
                "phone": public.MAX_PHONE,
                "subject": public.MAX_SUBJECT,
                "description": public.MAX_DESCRIPTION,
            },
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    if new:
        _set_binding(response, request, binding)
    return response


@router.get("/complain", name="web_complain")
def complain(page: AnonymousPage, request: Request) -> HTMLResponse:
    return _render_form(page, request)


@router.post("/complain", name="web_complain_submit")
def submit_complaint(
    page: AnonymousPage,
    request: Request,
    database: Store,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    phone: Annotated[str, Form(max_length=1000)] = "",
    kind: Annotated[str, Form(max_length=40)] = "complaint",
    subject: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=20_000)] = "",
    contact_by_email: Annotated[str, Form(max_length=10)] = "",
    timezone: Annotated[str, Form(max_length=100)] = "",
    website: Annotated[str, Form(max_length=1000)] = "",
    form_token: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    values = {
        "name": name,
        "email": email,
        "phone": phone,
        "kind": kind,
        "subject": subject,
        "description": description,
        "contact_by_email": bool(contact_by_email),
    }
    if _from_elsewhere(request):
        return _render_form(page, request, values=values, notice="invalid", status_code=403)
    settings = page.settings
    binding = request.cookies.get(FORM_COOKIE, "")
    now = utc_now()
    address = client_address(request, settings)
    try:
        form = parse(
            ComplaintForm,
            {
                **values,
                "email": email or None,
                "phone": phone or None,
                "language": page.locale,
                "timezone": timezone or unquote(request.cookies.get(ZONE_COOKIE, "")) or None,
                "website": website,
                "form_token": form_token,
            },
        )
        with database.session() as session:
            ack = public.file_complaint(
                session,
                form,
                now=now,
                client_address=address,
                settings=settings,
                form_binding=binding,
            )
    except RateLimitedError as error:
        return _render_form(
            page,
            request,
            values=values,
            notice="rate_limited",
            retry_after=error.retry_after,
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except FormRefusedError as error:
        public.record_refused_attempt(
            database, "complaint", client_address=address, email=email, now=now, settings=settings
        )
        return _render_form(page, request, values=values, notice=error.refusal, status_code=422)
    except InputError as error:
        public.record_refused_attempt(
            database, "complaint", client_address=address, email=email, now=now, settings=settings
        )
        return _render_form(page, request, values=values, problem=_problem(error), status_code=422)
    target = request.url_for("web_complaint_received", token=ack.status_token).path
    redirect = RedirectResponse(target, status_code=303, headers=STATUS_HEADERS)
    if form.timezone and ack.promise.timezone == form.timezone:  # a zone the server knows
        redirect.set_cookie(
            ZONE_COOKIE,
            form.timezone,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return redirect


# -- acknowledgement and status ----------------------------------------------------------------


def _not_found(page: Page) -> HTMLResponse:
    _ = page._
    response = page.render(
        "error.html",
        {
            "title": _("Link not valid"),
            "message": _(
                "This status link is not valid: it may have expired or been revoked. "
                "Please contact us again through the form."
            ),
        },
        status_code=404,
    )
    response.headers.update(STATUS_HEADERS)
    return response


def _view(
    page: Page, request: Request, database: Database, token: str
) -> public.PublicStatus | HTMLResponse:
    settings = page.settings
    now = utc_now()
    address = client_address(request, settings)
    try:
        with database.session() as session:
            public.check_lookups(session, address, now=now, settings=settings)
            return public.status_for_token(
                session, token, now, timezone=_zone(request, settings), settings=settings
            )
    except RateLimitedError:
        return _not_found(page)
    except NotFoundError:
        public.record_refused_attempt(
            database, "lookup", client_address=address, now=now, settings=settings
        )
        return _not_found(page)


def _status_context(page: Page, view: public.PublicStatus, token: str) -> dict[str, Any]:
    return {
        "view": view,
        "token": token,
        "kind_label": KIND_LABELS.get(view.kind, view.kind),
        "status_label": STATUS_LABELS.get(view.status, view.status),
        "promise_lines": promise_lines(page, view.promise),
        "status_url": public.status_url(token, page.settings),
    }


@router.get("/complain/received/{token}", name="web_complaint_received")
def complaint_received(
    page: AnonymousPage, request: Request, database: Store, token: str
) -> HTMLResponse:
    view = _view(page, request, database, token)
    if isinstance(view, HTMLResponse):
        return view
    context = _status_context(page, view, token)
    response = page.render("public/acknowledged.html", context)
    response.headers.update(STATUS_HEADERS)
    return response


def _render_status(
    page: Page,
    view: public.PublicStatus,
    token: str,
    *,
    problem: str | None = None,
    notice: str | None = None,
    draft: str = "",
    retry_after: int = 0,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = _status_context(page, view, token)
    context.update(
        {
            "problem_text": FIELD_PROBLEMS.get(problem or ""),
            "notice": notice,
            "rate_limited": page._(RATE_LIMITED, minutes=_minutes(retry_after)),
            "draft": draft,
            "reply_limit": public.MAX_REPLY,
        }
    )
    response = page.render("public/status.html", context, status_code=status_code)
    response.headers.update(STATUS_HEADERS)
    response.headers.update(headers or {})
    return response


@router.get("/status/{token}", name="web_public_status")
def ticket_status(
    page: AnonymousPage,
    request: Request,
    database: Store,
    token: str,
    sent: bool = False,
) -> HTMLResponse:
    view = _view(page, request, database, token)
    if isinstance(view, HTMLResponse):
        return view
    return _render_status(page, view, token, notice="sent" if sent else None)


@router.post("/status/{token}", name="web_public_reply")
def reply(
    page: AnonymousPage,
    request: Request,
    database: Store,
    token: str,
    body: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    view = _view(page, request, database, token)
    if isinstance(view, HTMLResponse):
        return view
    if _from_elsewhere(request):
        return _render_status(page, view, token, notice="invalid", draft=body, status_code=403)
    settings = page.settings
    now = utc_now()
    address = client_address(request, settings)
    try:
        message = parse(ReplyForm, {"body": body})
        with database.session() as session:
            public.reply_with_token(
                session,
                token,
                message,
                now=now,
                client_address=address,
                timezone=_zone(request, settings),
                settings=settings,
            )
    except RateLimitedError as error:
        return _render_status(
            page,
            view,
            token,
            notice="rate_limited",
            draft=body,
            retry_after=error.retry_after,
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except ConflictError:
        return _render_status(page, view, token, notice="closed", draft=body, status_code=409)
    except NotFoundError:
        return _not_found(page)
    except InputError:
        public.record_refused_attempt(
            database, "reply", client_address=address, now=now, settings=settings
        )
        return _render_status(page, view, token, problem="body", draft=body, status_code=422)
    target = request.url_for("web_public_status", token=token).path + "?sent=1#conversation"
    return RedirectResponse(target, status_code=303, headers=STATUS_HEADERS)
