"""The public door of the API: file a complaint and follow it, without an account.

    POST /api/public/complaints                   file (201): the acknowledgement, the promise
                                                  and the status link (its token, shown once)
    GET  /api/public/status/{token}               the ticket as its customer sees it
    POST /api/public/status/{token}/replies       the customer writes again (201)
    POST /api/tickets/{ticket_id}/status-links/revoke   staff end a ticket's links
    POST /api/tickets/{ticket_id}/status-links          staff issue a new link (201)

No login and no cookies, so no CSRF token either; the limits of :mod:`kehu.desk.public`
(per client address, email and link; 429 with ``Retry-After``) and the body size limit guard
the door. A refused request (bad input, a filled honeypot, an unknown link) counts towards the
limits too. The client address is :func:`kehu.http.client_address.client_address`
(``X-Forwarded-For`` is read only from ``KEHU_TRUSTED_PROXIES``). The links in answers and
e-mails are built on ``KEHU_PUBLIC_BASE_URL`` (:func:`kehu.core.config.public_url`), never on the
request's Host header. Times are UTC; ``*_local`` repeats them in the customer's time zone (the
form's ``timezone``, or the ``timezone`` query parameter), and ``text`` says the promise in words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel

from kehu.core.config import Settings, public_url
from kehu.desk import public
from kehu.desk.public import ComplaintForm, Promise, PublicStatus, ReplyForm
from kehu.desk.schemas import parse
from kehu.errors import InputError, NotFoundError
from kehu.http.client_address import client_address
from kehu.http.deps import AppSettings, CurrentPrincipal, DbSession, get_database
from kehu.store.base import utc_now
from kehu.store.bounds import Id

router = APIRouter(tags=["public"])

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class PromiseOut(BaseModel):
    """The service promise: when we answer first and when we aim to resolve, in business time
    of the policy's calendar."""

    policy_version: int | None
    first_response_target_seconds: int | None
    resolution_target_seconds: int | None
    first_response_due: datetime | None
    first_response_due_local: datetime | None
    resolution_due: datetime | None
    resolution_due_local: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    paused: bool
    timezone: str
    text: str


class AcknowledgementOut(BaseModel):
    ticket_id: int
    reference: str
    kind: str
    subject: str
    created_at: datetime
    promise: PromiseOut
    status_token: str
    status_url: str
    status_api_url: str
    status_expires_at: datetime
    email_requested: bool


class MessageOut(BaseModel):
    author: Literal["customer", "service"]
    body: str
    at: datetime


class StatusOut(BaseModel):
    ticket_id: int
    reference: str
    kind: str
    subject: str
    description: str
    status: str
    status_category: str
    created_at: datetime
    updated_at: datetime
    promise: PromiseOut
    messages: list[MessageOut]
    can_reply: bool
    link_expires_at: datetime | None


class RevokedOut(BaseModel):
    ticket_id: int
    revoked: int


class IssuedLinkOut(BaseModel):
    ticket_id: int
    status_token: str
    status_url: str
    expires_at: datetime


def promise_text(promise: Promise, language: str) -> str:
    """The promise in one sentence, in ``language`` (en or zh-Hans)."""
    zone = promise.timezone

    def when(instant: datetime) -> str:
        return public.format_instant(instant, zone, language)

    chinese = language == "zh-Hans"
    if promise.resolved_at is not None:
        return "您的问题已解决。" if chinese else "Your matter has been resolved."
    if promise.paused:
        return "我们正在等待您的回复。" if chinese else "We are waiting for your reply."
    parts: list[str] = []
    if promise.first_response_due is not None:
        due = when(promise.first_response_due)
        parts.append(f"我们将在 {due} 之前答复您" if chinese else f"we will reply by {due}")
    if promise.resolution_due is not None:
        due = when(promise.resolution_due)
        parts.append(f"力争在 {due} 之前解决" if chinese else f"we aim to resolve it by {due}")
    if not parts:
        return "我们会尽快答复您。" if chinese else "We will reply as soon as we can."
    if chinese:
        return "服务承诺：" + "，".join(parts) + "。"
    return "Our service promise: " + " and ".join(parts) + "."


def promise_out(promise: Promise, language: str) -> PromiseOut:
    def seconds(value: Any) -> int | None:
        return None if value is None else int(value.total_seconds())

    return PromiseOut(
        policy_version=promise.policy_version,
        first_response_target_seconds=seconds(promise.first_response_target),
        resolution_target_seconds=seconds(promise.resolution_target),
        first_response_due=promise.first_response_due,
        first_response_due_local=promise.local(promise.first_response_due),
        resolution_due=promise.resolution_due,
        resolution_due_local=promise.local(promise.resolution_due),
        first_responded_at=promise.first_responded_at,
        resolved_at=promise.resolved_at,
        paused=promise.paused,
        timezone=promise.timezone,
        text=promise_text(promise, language),
    )


def status_out(view: PublicStatus, language: str) -> StatusOut:
    return StatusOut(
        ticket_id=view.ticket_id,
        reference=f"#{view.ticket_id}",
        kind=view.kind,
        subject=view.subject,
        description=view.description,
        status=view.status,
        status_category=view.status_category,
        created_at=view.created_at,
        updated_at=view.updated_at,
        promise=promise_out(view.promise, language),
        messages=[MessageOut(author=m.author, body=m.body, at=m.at) for m in view.messages],
        can_reply=view.can_reply,
        link_expires_at=view.link_expires_at,
    )


def _language(request: Request, language: str | None) -> str:
    if language in public.LANGUAGES:
        return str(language)
    header = (request.headers.get("accept-language") or "").lower()
    return "zh-Hans" if header.startswith("zh") else "en"


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The request body as documented in OpenAPI (the route parses it itself, so that a
    refused body counts towards the rate limits)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


@router.post(
    "/api/public/complaints",
    status_code=201,
    response_model=AcknowledgementOut,
    openapi_extra=_body_schema(ComplaintForm),
)
def file_complaint(
    request: Request,
    response: Response,
    settings: AppSettings,
    payload: Annotated[dict[str, Any], Body()],
) -> AcknowledgementOut:
    """File a complaint (or inquiry, request, praise) without an account.

    Body: ``name``, ``email`` and/or ``phone``, ``kind`` (default complaint), ``subject``,
    ``description``, ``contact_by_email`` (consent to be emailed about this ticket),
    ``language`` (en | zh-Hans), ``timezone`` (IANA). Leave ``website`` empty."""
    database = get_database(request)
    address = client_address(request, settings)
    now = utc_now()
    email = payload.get("email") if isinstance(payload.get("email"), str) else None
    try:
        form = _parse_complaint(payload)
        with database.session() as session:
            ack = public.file_complaint(
                session,
                form,
                now=now,
                client_address=address,
                settings=settings,
            )
    except InputError:
        public.record_refused_attempt(
            database, "complaint", client_address=address, email=email, now=now, settings=settings
        )
        raise
    response.headers.update(NO_STORE)
    return AcknowledgementOut(
        ticket_id=ack.ticket_id,
        reference=f"#{ack.ticket_id}",
        kind=ack.kind,
        subject=ack.subject,
        created_at=ack.created_at,
        promise=promise_out(ack.promise, form.language),
        status_token=ack.status_token,
        status_url=ack.status_url,
        status_api_url=public_url(settings, f"/api/public/status/{ack.status_token}"),
        status_expires_at=ack.status_expires_at,
        email_requested=ack.email_requested,
    )


def _parse_complaint(payload: dict[str, Any]) -> ComplaintForm:
    return parse(ComplaintForm, payload)


def _lookup(
    request: Request, settings: Settings, token: str, timezone: str | None, now: datetime
) -> PublicStatus:
    database = get_database(request)
    address = client_address(request, settings)
    try:
        with database.session() as session:
            public.check_lookups(session, address, now=now, settings=settings)
            return public.status_for_token(
                session, token, now, timezone=timezone, settings=settings
            )
    except NotFoundError:
        public.record_refused_attempt(
            database, "lookup", client_address=address, now=now, settings=settings
        )
        raise


@router.get("/api/public/status/{token}", response_model=StatusOut)
def ticket_status(
    request: Request,
    response: Response,
    settings: AppSettings,
    token: str,
    timezone: Annotated[str | None, Query(max_length=64)] = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
) -> StatusOut:
    """The ticket this status link grants: status, promise and the public conversation (404
    alike for unknown, expired and revoked links)."""
    view = _lookup(request, settings, token, timezone, utc_now())
    response.headers.update(NO_STORE)
    return status_out(view, _language(request, language))


@router.post(
    "/api/public/status/{token}/replies",
    status_code=201,
    response_model=StatusOut,
    openapi_extra=_body_schema(ReplyForm),
)
def reply(
    request: Request,
    response: Response,
    settings: AppSettings,
    token: str,
    payload: Annotated[dict[str, Any], Body()],
    timezone: Annotated[str | None, Query(max_length=64)] = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
) -> StatusOut:
    """Write to us about this ticket (``{"body": "..."}``); a ticket waiting on you resumes."""
    database = get_database(request)
    address = client_address(request, settings)
    now = utc_now()
    try:
        message = parse(ReplyForm, payload)
        with database.session() as session:
            public.check_lookups(session, address, now=now, settings=settings)
            view = public.reply_with_token(
                session,
                token,
                message,
                now=now,
                client_address=address,
                timezone=timezone,
                settings=settings,
            )
    except (InputError, NotFoundError) as error:
        action: Literal["lookup", "reply"] = (
            "lookup" if isinstance(error, NotFoundError) else "reply"
        )
        public.record_refused_attempt(
            database, action, client_address=address, now=now, settings=settings
        )
        raise
    response.headers.update(NO_STORE)
    return status_out(view, _language(request, language))


@router.post("/api/tickets/{ticket_id}/status-links/revoke", tags=["tickets"])
def revoke_links(session: DbSession, principal: CurrentPrincipal, ticket_id: Id) -> RevokedOut:
    """End every live status link of the ticket (the customer's link stops working)."""
    revoked = public.revoke_status_links(session, principal, ticket_id)
    return RevokedOut(ticket_id=ticket_id, revoked=revoked)


@router.post("/api/tickets/{ticket_id}/status-links", status_code=201, tags=["tickets"])
def issue_link(
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    settings: AppSettings,
    ticket_id: Id,
) -> IssuedLinkOut:
    """A new status link to give to the customer (its token is shown only in this answer)."""
    token, link = public.issue_status_link(session, principal, ticket_id, settings=settings)
    response.headers.update(NO_STORE)
    return IssuedLinkOut(
        ticket_id=ticket_id,
        status_token=token,
        status_url=public.status_url(token, settings),
        expires_at=link.expires_at,
    )
