"""What an agent works a ticket with, beside the reply box: canned replies (macros) and files.

The macro picker (``tickets/_macros.html``) offers the macros of the ticket's team and of every
team, each already filled in for the ticket in the customer's language
(:func:`kehu.desk.macros.render_for_ticket`). With JavaScript (``static/js/ticket_work.js``)
choosing one fills the reply box at once; without it the picker's form asks the ticket page
itself again (``GET /tickets/44?macro=3&expected_version=5``), which shows the reply box filled
(:func:`filled_reply`); a change made by someone else since the page was opened shows the
conflict notice as every other form of the page does, with the filled text kept.

Files come with a reply or a note (the forms are ``multipart/form-data``) and go through the
desk's attachment use case (:func:`kehu.desk.ticket_messages.add_attachment`: its size and type
checks, the API's), in the same savepoint as the reply or note: a refused file refuses the
message too, and the page says why (:func:`attachment_problem`) with the typed text kept. The
ticket's files are listed (``tickets/_attachments.html``) and downloaded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as ReceivedFile

from kehu.core.auth.principal import Principal
from kehu.desk import macros, ticket_messages, ticket_queries
from kehu.desk.schemas import AttachmentOut
from kehu.errors import InputError, NotFoundError
from kehu.http.downloads import content_disposition, form_filename
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

#: How a refused file is told in the page (the ``value`` of the ``attachment`` InputError).
_TOO_LARGE, _WRONG_TYPE, _EMPTY = "too_large", "wrong_type", "empty"


@dataclass(frozen=True)
class MacroChoice:
    """A macro as the picker offers it: filled in for this ticket."""

    id: int
    name: str
    language: str
    text: str


def macro_choices(page: Page, session: Session, ticket_id: int) -> list[MacroChoice]:
    """The ticket's macros, each filled in for it (the caller's scope, like every read)."""
    principal = _principal(page)
    choices = []
    for macro in macros.macros_for_ticket(session, principal, ticket_id):
        rendered = macros.render_for_ticket(
            session,
            principal,
            macro.id,
            ticket_id,
            settings=page.settings,
            default_language=page.locale,
        )
        choices.append(MacroChoice(macro.id, macro.name, rendered.language, rendered.text))
    return choices


def filled_reply(page: Page, session: Session, ticket_id: int, macro_id: int) -> str:
    """The reply box's text after choosing a macro without JavaScript (``NotFoundError``: no
    such macro for this ticket)."""
    rendered = macros.render_for_ticket(
        session,
        _principal(page),
        macro_id,
        ticket_id,
        settings=page.settings,
        default_language=page.locale,
    )
    return rendered.text


def _megabytes(page: Page, size: int) -> str:
    return page._("%(size)s MB", size=page.translator.format_number(size / 1_048_576, 1))


def file_size(page: Page, size: int) -> str:
    """``12 KB`` / ``1.5 MB``: an attachment's size, in the page's language."""
    if size < 1_048_576:
        return page._("%(size)s KB", size=page.translator.format_number(max(size / 1024, 0.1), 1))
    return _megabytes(page, size)


def work_context(page: Page, session: Session, ticket_id: int) -> dict[str, Any]:
    """What the ticket page's macro picker, file fields and file list show."""
    principal = _principal(page)
    files: list[AttachmentOut] = ticket_queries.list_attachments(session, principal, ticket_id)
    return {
        "macro_choices": macro_choices(page, session, ticket_id),
        "attachments": files,
        "file_size": lambda size: file_size(page, size),
        "attachment_limit": file_size(page, page.settings.attachment_max_bytes),
        "attachment_types": ", ".join(ticket_messages.ALLOWED_CONTENT_TYPES),
    }


def _principal(page: Page) -> Principal:
    principal = page.principal
    assert principal is not None
    return principal


def received_file(upload: object) -> ReceivedFile | None:
    """The file a form's file field carries, or ``None`` (a browser sends an empty, nameless
    part when none was chosen). The form parser gives Starlette's ``UploadFile``."""
    if isinstance(upload, ReceivedFile) and upload.filename:
        return upload
    return None


def attach_upload(
    session: Session,
    principal: Principal,
    ticket_id: int,
    upload: ReceivedFile,
    *,
    message_id: int | None,
    page: Page,
) -> None:
    """Attach the uploaded file to the ticket with the desk's use case (its checks); a refusal
    is an ``InputError`` on the ``attachment`` field whose ``value`` says which check."""
    settings = page.settings
    # one byte past the limit is enough for the use case to refuse it
    content = upload.file.read(settings.attachment_max_bytes + 1)
    try:
        ticket_messages.add_attachment(
            session,
            principal,
            ticket_id,
            filename=form_filename(upload.filename),
            content_type=upload.content_type or "application/octet-stream",
            content=content,
            message_id=message_id,
            settings=settings,
        )
    except InputError as error:
        if error.column == "content":
            kind = _EMPTY if not content else _TOO_LARGE
        elif error.column == "content_type":
            kind = _WRONG_TYPE
        else:
            raise
        raise InputError(error.reason, column="attachment", value=kind) from error


def last_reply_id(session: Session, principal: Principal, ticket_id: int) -> int | None:
    """The id of the caller's newest reply on the ticket (the one just sent)."""
    messages = ticket_queries.list_messages(session, principal, ticket_id)
    ids = [m.id for m in messages if m.kind == "reply" and m.author_id == principal.user_id]
    return max(ids) if ids else None


def attachment_problem(page: Page, error: InputError) -> str:
    """Why the file was refused, in the page's language."""
    _ = page._
    if error.value == _TOO_LARGE:
        return _(
            "The file is too large: attachments may be at most %(limit)s. Your text is kept; "
            "choose a smaller file and send again.",
            limit=file_size(page, page.settings.attachment_max_bytes),
        )
    if error.value == _EMPTY:
        return _("The file is empty. Your text is kept; choose the file again and send again.")
    return _(
        "This file cannot be attached: only PNG, JPEG, PDF and plain text files whose content "
        "matches their type. Your text is kept; choose another file and send again."
    )


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", name="web_ticket_attachment")
def download(page: StaffPage, session: SessionDep, ticket_id: Id, attachment_id: Id) -> Response:
    """The file, always as a download with its stored type (never shown in kehu's origin)."""
    attachment, content = ticket_messages.read_attachment(
        session, _principal(page), attachment_id, settings=page.settings
    )
    if attachment.ticket_id != ticket_id:
        raise NotFoundError(f"no attachment with id {attachment_id} on ticket {ticket_id}")
    return Response(
        content=content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
