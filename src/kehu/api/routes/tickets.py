"""Tickets: file, list, queue, read (with the service promise), work, attach, export.

Every action is a ``POST`` on ``/api/tickets/{id}/<action>`` and accepts ``expected_version``
in its body, or an ``If-Match`` header (the ``ETag`` of ``GET /api/tickets/{id}``): when the
ticket has changed since, the action is refused with 409. Illegal status changes are 409 with
the reason. A ticket outside the caller's scope is a 404 with the same message as an unknown id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, require
from kehu.csv_safety import spreadsheet_csv, text_cell, value_cell
from kehu.desk import ticket_commands, ticket_merge, ticket_messages, ticket_queries
from kehu.desk.schemas import (
    MAX_TEXT,
    AttachmentOut,
    Channel,
    Kind,
    Priority,
    Status,
    TicketCreate,
    TicketDetail,
    TicketEventOut,
    TicketMessageOut,
    TicketOut,
)
from kehu.desk.similar import MAX_LIMIT as SIMILAR_MAX
from kehu.desk.similar import similar_tickets
from kehu.desk.ticket_commands import MAX_HANDLING_SECONDS
from kehu.desk.ticket_queries import SORT_KEYS, TicketSearch
from kehu.desk.workflow import ACTIVE_CATEGORIES
from kehu.errors import ConflictError, InputError
from kehu.http.deps import CurrentPrincipal, DbSession, Page, Pagination, get_settings
from kehu.http.downloads import content_disposition, form_filename
from kehu.http.errors import error_response
from kehu.store.bounds import INT32_MAX, Id, Version, parse_positive

router = APIRouter(tags=["tickets"])

EXPORT_MAX_ROWS = 100_000


# --- bodies ------------------------------------------------------------------------------------

Handling = Annotated[
    int, Field(ge=0, le=MAX_HANDLING_SECONDS, description="the agent's handling time, seconds")
]
ExpectedVersion = Annotated[
    Version | None, Field(default=None, description="the version you loaded (409 if stale)")
]


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: ExpectedVersion = None
    handling_seconds: Handling = 0


class TicketCreateIn(TicketCreate):
    handling_seconds: Handling = 0


class TicketEditIn(ActionIn):
    """Only the fields given change."""

    subject: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=MAX_TEXT)
    kind: Kind | None = None
    channel: Channel | None = None
    category_id: Id | None = None


class AssignIn(ActionIn):
    assignee_id: Id | None = Field(description="a user id; null unassigns")


class TransferIn(ActionIn):
    team_id: Id
    reason: str = Field(default="", max_length=2000)
    assignee_id: Id | None = None


class ReplyIn(ActionIn):
    body: str = Field(min_length=1, max_length=MAX_TEXT)
    wait_for_customer: bool = Field(
        default=False, description="wait on the customer afterwards (the SLA clock pauses)"
    )


class CustomerReplyIn(BaseModel):
    """What the customer said (e.g. on the phone), recorded by staff."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_TEXT)
    expected_version: ExpectedVersion = None


class NoteIn(ActionIn):
    body: str = Field(min_length=1, max_length=MAX_TEXT)


class StatusIn(ActionIn):
    status: Status
    resolution: str | None = Field(default=None, max_length=2000)


class ResolveIn(ActionIn):
    resolution: str | None = Field(default=None, max_length=2000)


class PriorityIn(ActionIn):
    priority: Priority


class MergeIn(ActionIn):
    target_id: Id = Field(description="the ticket this one is merged into")


class SplitIn(ActionIn):
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=MAX_TEXT)


class SimilarOut(BaseModel):
    score: float
    reasons: list[str]
    ticket: TicketOut


# --- helpers -----------------------------------------------------------------------------------


def _with_etag(response: Response, ticket: TicketOut) -> None:
    response.headers["ETag"] = f'"{ticket.version}"'


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    version = parse_positive(text.strip('"'), at_most=INT32_MAX)
    if version is None:
        raise InputError('send the ticket\'s ETag (its version), e.g. "3"', column="If-Match")
    return version


IfMatch = Annotated[str | None, Header(alias="If-Match", description="the ticket's ETag")]


def _expected(body: Any, if_match: str | None) -> int | None:
    in_body = getattr(body, "expected_version", None) if body is not None else None
    in_header = _if_match(if_match)
    if in_body is not None and in_header is not None and in_body != in_header:
        raise InputError("If-Match and expected_version name different versions", column="If-Match")
    return in_body if in_body is not None else in_header


def _check_version(
    session: Session, principal: Principal, ticket_id: int, expected: int | None
) -> None:
    """For use cases without ``expected_version`` of their own: refuse a stale edit."""
    if expected is None:
        return
    ticket = ticket_queries.read_ticket(session, principal, ticket_id)
    if ticket.version != expected:
        raise ConflictError(
            f"ticket {ticket.id} was changed by someone else (it is at version {ticket.version}, "
            f"you edited version {expected}); reload it and try again"
        )


def _user(value: str | None, principal: Principal, field: str) -> int | None:
    if value is None or value == "":
        return None
    if value == "me":
        if principal.user_id is None:
            raise InputError("'me' needs a signed-in user", column=field)
        return principal.user_id
    user_id = parse_positive(value)
    if user_id is None:
        raise InputError("a user id or 'me'", column=field, value=value)
    return user_id


def _codes(values: list[str] | None) -> list[str]:
    """Codes given repeated or comma-separated (checked by the search)."""
    return [v for value in values or [] for v in value.split(",") if v]


SORT_HELP = f"comma-separated, '-' for descending; one of {', '.join(SORT_KEYS)}"

Codes = Annotated[list[str] | None, Query(description="one or more, repeated or comma-separated")]
UserFilter = Annotated[str | None, Query(description="a user id, 'me' or 'unassigned'")]


def _search(
    principal: Principal,
    *,
    status_: list[str] | None,
    status_category: list[str] | None,
    team: int | None,
    assignee: str | None,
    customer: int | None,
    kind: list[str] | None,
    category: int | None,
    priority: list[str] | None,
    channel: list[str] | None,
    q: str,
    include_merged: bool,
    promise: list[str] | None = None,
    tier: list[str] | None = None,
    tag: str = "",
) -> TicketSearch:
    """The ticket search of a list or export (``assignee=unassigned``: tickets nobody has)."""
    unassigned = assignee == "unassigned"
    return TicketSearch(
        status=_codes(status_),
        status_category=_codes(status_category),
        kind=_codes(kind),
        priority=_codes(priority),
        channel=_codes(channel),
        team_id=team,
        assignee_id=None if unassigned else _user(assignee, principal, "assignee"),
        unassigned=unassigned,
        promise=_codes(promise),
        value_tier=_codes(tier),
        customer_tag=tag,
        customer_id=customer,
        category_id=category,
        words=q,
        include_merged=include_merged,
    )


# --- creating, lists, the queue ----------------------------------------------------------------


@router.post("/api/tickets", status_code=status.HTTP_201_CREATED, summary="File a ticket (staff)")
def create_ticket(
    body: TicketCreateIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> TicketDetail:
    """Routed to a team by the routing rules unless ``team_id`` is given; linked as a repeat
    when the customer filed one in the same category recently; acknowledged to the customer."""
    data = TicketCreate.model_validate(body.model_dump(exclude={"handling_seconds"}))
    ticket = ticket_commands.create_ticket(
        session,
        principal,
        data,
        settings=get_settings(request),
        handling_seconds=body.handling_seconds,
    )
    return ticket_queries.detail_of(session, ticket)


@router.get("/api/tickets/queue", summary="Tickets to work on, most urgent promise first")
def queue(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    team: Id | None = None,
    assignee: UserFilter = None,
    include_waiting: Annotated[
        bool, Query(description="include tickets waiting on the customer")
    ] = True,
) -> Page[TicketOut]:
    """Open tickets in the caller's scope, earliest service-promise due time first (tickets
    with no running target last, oldest first)."""
    categories = list(ACTIVE_CATEGORIES) if include_waiting else ["open"]
    found = ticket_queries.list_queue(
        session,
        principal,
        team_id=team,
        assignee_id=_user(assignee, principal, "assignee"),
        categories=categories,
        limit=paging.page_size,
        offset=paging.offset,
    )
    return Page(items=found.items, total=found.total, page=paging.page, page_size=paging.page_size)


@router.get("/api/tickets", summary="List and search tickets")
def list_tickets(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    status_: Annotated[
        list[str] | None, Query(alias="status", description="statuses, repeated or a,b")
    ] = None,
    status_category: Codes = None,
    team: Id | None = None,
    assignee: UserFilter = None,
    customer: Id | None = None,
    kind: Codes = None,
    category: Id | None = None,
    priority: Codes = None,
    channel: Codes = None,
    q: Annotated[
        str, Query(max_length=200, description="words in subject, messages or the customer")
    ] = "",
    include_merged: bool = False,
    sort: Annotated[str, Query(description=SORT_HELP)] = "-created_at",
    promise: Annotated[
        list[str] | None, Query(description="on_track, at_risk, breached, kept, none")
    ] = None,
    tier: Annotated[list[str] | None, Query(description="the customer's value tier")] = None,
    tag: Annotated[str, Query(max_length=100, description="a tag of the customer")] = "",
) -> Page[TicketOut]:
    search = _search(
        principal,
        status_=status_,
        status_category=status_category,
        team=team,
        assignee=assignee,
        customer=customer,
        kind=kind,
        category=category,
        priority=priority,
        channel=channel,
        q=q,
        include_merged=include_merged,
        promise=promise,
        tier=tier,
        tag=tag,
    )
    found = ticket_queries.search_tickets(
        session, principal, search, sort=sort, limit=paging.page_size, offset=paging.offset
    )
    return Page(items=found.items, total=found.total, page=paging.page, page_size=paging.page_size)


EXPORT_COLUMNS = (
    "id",
    "customer_id",
    "kind",
    "channel",
    "priority",
    "status",
    "subject",
    "team_id",
    "assignee_id",
    "category_id",
    "repeat_of_id",
    "sla_due_at",
    "sla_kept",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "created_at",
)


# Columns of words (codes and what people typed), escaped for spreadsheets; the others are ids,
# timestamps and flags that kehu formats itself (kehu.csv_safety: decided by column).
EXPORT_TEXT_COLUMNS = frozenset({"kind", "channel", "priority", "status", "subject"})


def _export_cell(ticket: TicketOut, column: str) -> str:
    value = getattr(ticket, column)
    return text_cell(value) if column in EXPORT_TEXT_COLUMNS else value_cell(value)


@router.get(
    "/api/tickets/export.csv",
    summary="Export the tickets of a search as CSV (the same filters as the list)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_tickets(
    session: DbSession,
    principal: CurrentPrincipal,
    status_: Annotated[list[str] | None, Query(alias="status")] = None,
    status_category: Codes = None,
    team: Id | None = None,
    assignee: UserFilter = None,
    customer: Id | None = None,
    kind: Codes = None,
    category: Id | None = None,
    priority: Codes = None,
    channel: Codes = None,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(description=SORT_HELP)] = "-created_at",
) -> Response:
    search = _search(
        principal,
        status_=status_,
        status_category=status_category,
        team=team,
        assignee=assignee,
        customer=customer,
        kind=kind,
        category=category,
        priority=priority,
        channel=channel,
        q=q,
        include_merged=False,
    )
    rows = ticket_queries.search_tickets(
        session, principal, search, sort=sort, limit=EXPORT_MAX_ROWS + 1
    ).items
    if len(rows) > EXPORT_MAX_ROWS:
        raise InputError(
            f"more than {EXPORT_MAX_ROWS} tickets match; narrow the search", column="q"
        )
    content = spreadsheet_csv(
        EXPORT_COLUMNS,
        ([_export_cell(ticket, column) for column in EXPORT_COLUMNS] for ticket in rows),
    )
    return Response(
        content=content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition("tickets.csv")},
    )


# --- one ticket --------------------------------------------------------------------------------


@router.get("/api/tickets/{ticket_id}", summary="A ticket with its service promise (SLA) now")
def get_ticket(
    ticket_id: Id, response: Response, session: DbSession, principal: CurrentPrincipal
) -> TicketDetail:
    detail = ticket_queries.ticket_detail(session, principal, ticket_id)
    _with_etag(response, detail)
    return detail


@router.patch("/api/tickets/{ticket_id}", summary="Edit subject, description, kind, channel...")
def edit_ticket(
    ticket_id: Id,
    body: TicketEditIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    changes = body.model_dump(
        include=body.model_fields_set - {"expected_version", "handling_seconds"}
    )
    for field in ("subject", "kind", "channel"):
        if field in changes and changes[field] is None:
            raise InputError("cannot be removed", column=field)
    ticket = ticket_commands.update_ticket(
        session,
        principal,
        ticket_id,
        expected_version=_expected(body, if_match),
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
        **changes,
    )
    return _action_response(response, ticket_queries.detail_of(session, ticket))


@router.get("/api/tickets/{ticket_id}/events", summary="The ticket's event log, oldest first")
def events(ticket_id: Id, session: DbSession, principal: CurrentPrincipal) -> list[TicketEventOut]:
    return ticket_queries.list_events(session, principal, ticket_id)


@router.get("/api/tickets/{ticket_id}/messages", summary="Replies, customer messages and notes")
def messages(
    ticket_id: Id,
    session: DbSession,
    principal: CurrentPrincipal,
    include_internal: Annotated[bool, Query(description="include internal notes")] = True,
) -> list[TicketMessageOut]:
    return ticket_queries.list_messages(
        session, principal, ticket_id, include_internal=include_internal
    )


@router.get("/api/tickets/{ticket_id}/similar", summary="Similar open or recently resolved tickets")
def similar(
    ticket_id: Id,
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=SIMILAR_MAX)] = 10,
    recent_days: Annotated[
        int, Query(ge=0, le=3650, description="resolved or closed within this many days")
    ] = 30,
) -> list[SimilarOut]:
    """Same customer or same category (tree), ranked: see :mod:`kehu.desk.similar`."""
    found = similar_tickets(session, principal, ticket_id, limit=limit, recent_days=recent_days)
    return [
        SimilarOut(
            score=s.score, reasons=list(s.reasons), ticket=TicketOut.model_validate(s.ticket)
        )
        for s in found
    ]


# --- actions -----------------------------------------------------------------------------------


def _action_response(response: Response, detail: TicketDetail) -> TicketDetail:
    _with_etag(response, detail)
    return detail


#: shared with the other ticket actions (kehu.api.routes.assignment: claim)
expected_version = _expected
action_response = _action_response


@router.post("/api/tickets/{ticket_id}/assign", summary="Assign (or unassign) the ticket")
def assign(
    ticket_id: Id,
    body: AssignIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    ticket = ticket_commands.assign(
        session,
        principal,
        ticket_id,
        body.assignee_id,
        expected_version=_expected(body, if_match),
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return _action_response(response, ticket_queries.detail_of(session, ticket))


@router.post("/api/tickets/{ticket_id}/transfer", summary="Transfer the ticket to another team")
def transfer(
    ticket_id: Id,
    body: TransferIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    ticket = ticket_commands.transfer(
        session,
        principal,
        ticket_id,
        body.team_id,
        reason=body.reason,
        assignee_id=body.assignee_id,
        expected_version=_expected(body, if_match),
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return _action_response(response, ticket_queries.detail_of(session, ticket))


@router.post("/api/tickets/{ticket_id}/reply", summary="Reply to the customer")
def reply(
    ticket_id: Id,
    body: ReplyIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    """Queued in the outbox. With ``wait_for_customer`` the ticket then waits on the customer
    and the SLA clock pauses."""
    ticket = ticket_messages.reply(
        session,
        principal,
        ticket_id,
        body.body,
        wait_for_customer=body.wait_for_customer,
        expected_version=_expected(body, if_match),
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return _action_response(response, ticket_queries.detail_of(session, ticket))


@router.post(
    "/api/tickets/{ticket_id}/customer-reply",
    summary="Record what the customer said (e.g. on the phone)",
)
def customer_reply(
    ticket_id: Id,
    body: CustomerReplyIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    """A ticket waiting on the customer resumes; a resolved one is reopened."""
    require(principal, "tickets:write")
    _check_version(session, principal, ticket_id, _expected(body, if_match))
    ticket = ticket_messages.add_customer_reply(
        session, principal, ticket_id, body.body, settings=get_settings(request)
    )
    return _action_response(response, ticket_queries.detail_of(session, ticket))


@router.post(
    "/api/tickets/{ticket_id}/notes",
    status_code=status.HTTP_201_CREATED,
    summary="Add an internal note (never sent to the customer)",
)
def add_note(
    ticket_id: Id,
    body: NoteIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketMessageOut:
    require(principal, "tickets:write")
    _check_version(session, principal, ticket_id, _expected(body, if_match))
    message = ticket_messages.add_note(
        session,
        principal,
        ticket_id,
        body.body,
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return TicketMessageOut.model_validate(message)


@router.post(
    "/api/tickets/{ticket_id}/status",
    summary="Change the status (waiting_on_customer pauses the SLA clock; in_progress resumes)",
)
def change_status(
    ticket_id: Id,
    body: StatusIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    ticket = ticket_commands.change_status(
        session,
        principal,
        ticket_id,
        body.status,
        expected_version=_expected(body, if_match),
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
        resolution=body.resolution,
    )
    return _action_response(response, ticket_queries.detail_of(session, ticket))


def _status_action(
    action: str,
    ticket_id: Id,
    body: ActionIn | None,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal,
    if_match: str | None,
) -> TicketDetail:
    body = body or ActionIn()
    options: dict[str, Any] = {
        "expected_version": _expected(body, if_match),
        "handling_seconds": body.handling_seconds,
        "settings": get_settings(request),
    }
    resolution = getattr(body, "resolution", None)
    if resolution:
        options["resolution"] = resolution
    use_case = {
        "resolve": ticket_commands.resolve,
        "reopen": ticket_commands.reopen,
        "close": ticket_commands.close,
    }[action]
    ticket = use_case(session, principal, ticket_id, **options)
    return _action_response(response, ticket_queries.detail_of(session, ticket))


@router.post("/api/tickets/{ticket_id}/resolve", summary="Resolve the ticket")
def resolve(
    ticket_id: Id,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    body: ResolveIn | None = None,
    if_match: IfMatch = None,
) -> TicketDetail:
    return _status_action(
        "resolve", ticket_id, body, request, response, session, principal, if_match
    )


@router.post("/api/tickets/{ticket_id}/reopen", summary="Reopen a resolved ticket")
def reopen(
    ticket_id: Id,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    body: ActionIn | None = None,
    if_match: IfMatch = None,
) -> TicketDetail:
    return _status_action(
        "reopen", ticket_id, body, request, response, session, principal, if_match
    )


@router.post("/api/tickets/{ticket_id}/close", summary="Close the ticket for good")
def close(
    ticket_id: Id,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    body: ResolveIn | None = None,
    if_match: IfMatch = None,
) -> TicketDetail:
    return _status_action("close", ticket_id, body, request, response, session, principal, if_match)


@router.post(
    "/api/tickets/{ticket_id}/priority",
    summary="Change the priority (another service promise may apply from now on)",
)
def change_priority(
    ticket_id: Id,
    body: PriorityIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    ticket = ticket_commands.change_priority(
        session,
        principal,
        ticket_id,
        body.priority,
        expected_version=_expected(body, if_match),
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return _action_response(response, ticket_queries.detail_of(session, ticket))


@router.post(
    "/api/tickets/{ticket_id}/merge",
    summary="Merge this ticket into another of the same customer (returns the target)",
)
def merge(
    ticket_id: Id,
    body: MergeIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    require(principal, "tickets:write")
    _check_version(session, principal, ticket_id, _expected(body, if_match))
    target = ticket_merge.merge_tickets(
        session,
        principal,
        ticket_id,
        body.target_id,
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return _action_response(response, ticket_queries.detail_of(session, target))


@router.post(
    "/api/tickets/{ticket_id}/split",
    status_code=status.HTTP_201_CREATED,
    summary="Split a separate matter off into a new ticket (returns the new ticket)",
)
def split(
    ticket_id: Id,
    body: SplitIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    require(principal, "tickets:write")
    _check_version(session, principal, ticket_id, _expected(body, if_match))
    new = ticket_merge.split_ticket(
        session,
        principal,
        ticket_id,
        subject=body.subject,
        description=body.description,
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return _action_response(response, ticket_queries.detail_of(session, new))


# --- attachments -------------------------------------------------------------------------------


@router.get("/api/tickets/{ticket_id}/attachments", summary="The ticket's attachments")
def attachments(
    ticket_id: Id, session: DbSession, principal: CurrentPrincipal
) -> list[AttachmentOut]:
    return ticket_queries.list_attachments(session, principal, ticket_id)


@router.post(
    "/api/tickets/{ticket_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    summary="Attach a file (png, jpeg, pdf or plain text; its bytes must match its type)",
    responses={413: {"description": "the file is over the attachment size limit"}},
)
def upload_attachment(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="the file")],
    content_type: Annotated[
        str | None,
        Form(max_length=100, description="the declared type (default: the file part's type)"),
    ] = None,
    expected_version: Annotated[Version | None, Form()] = None,
    if_match: IfMatch = None,
) -> AttachmentOut:
    require(principal, "tickets:write")
    settings = get_settings(request)
    declared = content_type or file.content_type or ""
    field = "content_type" if content_type else "file"
    if not declared:
        raise InputError("declare the file's type", column="content_type")
    content = file.file.read(settings.attachment_max_bytes + 1)
    if len(content) > settings.attachment_max_bytes:
        return error_response(  # type: ignore[return-value]
            413,
            "PayloadTooLarge",
            f"the file is over the limit of {settings.attachment_max_bytes} bytes",
            field="file",
        )
    versions = (expected_version, _if_match(if_match))
    if None not in versions and versions[0] != versions[1]:
        raise InputError("If-Match and expected_version name different versions", column="If-Match")
    _check_version(session, principal, ticket_id, versions[0] or versions[1])
    try:
        attachment = ticket_messages.add_attachment(
            session,
            principal,
            ticket_id,
            filename=form_filename(file.filename),
            content_type=declared,
            content=content,
            settings=settings,
        )
    except InputError as exc:
        if exc.column == "content_type" and field == "file":
            exc.column = "file"  # the type came with the file part
        raise
    return AttachmentOut.model_validate(attachment)


@router.get(
    "/api/attachments/{attachment_id}",
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_attachment(
    attachment_id: Id, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    """Always as a download (``Content-Disposition: attachment``) with the stored type and
    ``X-Content-Type-Options: nosniff``, so a browser never renders it in the app's origin."""
    attachment, content = ticket_messages.read_attachment(
        session, principal, attachment_id, settings=get_settings(request)
    )
    return Response(
        content=content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
