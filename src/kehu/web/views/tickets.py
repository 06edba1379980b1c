"""The service desk's ticket page (the queue is :mod:`kehu.web.views.ticket_queue`), where
an agent replies, adds internal notes, transfers, pauses, resumes, resolves, reopens, closes and
changes the priority, next to the similar tickets (:mod:`kehu.desk.similar`: same customer or
matter, each with why it matched).

Every read and change goes through the ticket use cases (:mod:`kehu.desk.ticket_queries`,
:mod:`~kehu.desk.ticket_commands`, :mod:`~kehu.desk.ticket_messages`), which apply the permission
layer: another team's ticket is "not found" for an agent, exactly like an unknown id. Each action
is a form post carrying the session's CSRF token and the ticket version the agent saw
(``expected_version``); a change made by someone else meanwhile answers 409 with a "changed by
someone else" message, an illegal status change 409 with the reason; either way the form shows
again what was typed into it (a reply, a note, a reason), to be sent again after checking. After a
change the browser is sent back to the ticket page (post, redirect, get), or, when a transfer took
the ticket to a team the agent is not in, to their queue with "Ticket #44 transferred to ...".

Staff members (authors, actors, the assignee) are shown by their display names, the same for
every viewer (:func:`kehu.core.users.directory.display_names`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from babel.dates import format_timedelta
from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.core.users.directory import display_names
from kehu.customers.queries import customer_names
from kehu.desk import ticket_commands, ticket_messages, ticket_queries
from kehu.desk.assignment import assignable_staff
from kehu.desk.routing import team_names, ticket_teams
from kehu.desk.schemas import TicketEventOut, TicketMessageOut, TicketOut
from kehu.desk.similar import SimilarTicket, similar_tickets
from kehu.desk.sla import TargetStatus
from kehu.desk.workflow import PRIORITIES
from kehu.errors import ConflictError, InputError
from kehu.store.base import utc_now
from kehu.store.bounds import INT32_MAX, Id
from kehu.web.deps import SessionDep
from kehu.web.labels import namer, sla_event_title
from kehu.web.rendering import Page, StaffPage
from kehu.web.views import ticket_macros
from kehu.web.views.customer_context import customer_context
from kehu.web.views.customers import possible_duplicates
from kehu.web.views.notifications import mention_markup
from kehu.web.views.ticket_themes import ticket_themes

router = APIRouter()

#: What the status buttons do: action -> target status.
STATUS_ACTIONS = {
    "pause": "waiting_on_customer",
    "resume": "in_progress",
    "resolve": "resolved",
    "reopen": "in_progress",
    "close": "closed",
}
#: After a change, the notice shown on the ticket page.
DONE: tuple[str, ...] = (
    *("reply", "note", "transfer", "pause", "resume", "resolve", "reopen", "close", "priority"),
    *("assign", "claim", "unassign"),  # kehu.web.views.ticket_assignment
    *("duplicate_dismissed", "duplicate_merged"),  # kehu.web.views.duplicate_flags
    "themes",  # kehu.web.views.ticket_themes
)
#: How many similar tickets the ticket page lists.
SIMILAR_LIMIT = 8


# -- shared pieces -----------------------------------------------------------------------------


def _principal(page: Page) -> Principal:
    principal = page.principal
    assert principal is not None
    return principal


def duration(page: Page, delta: timedelta) -> str:
    """``3 hours`` / ``3小时``: the rounded length of ``delta``, in the page's language."""
    return str(
        format_timedelta(abs(delta), threshold=1.5, format="long", locale=page.translator.locale)
    )


@dataclass(frozen=True)
class Due:
    """Where a ticket stands against its running promise, for the queue."""

    at: datetime | None
    text: str
    overdue: bool
    paused: bool


def due_of(page: Page, ticket: TicketOut, now: datetime) -> Due:
    _ = page._
    if ticket.status_category == "waiting_on_customer":
        return Due(None, _("Paused: waiting on the customer"), False, True)
    if ticket.sla_due_at is None:
        return Due(None, _("No running promise"), False, False)
    left = ticket.sla_due_at - now
    if left < timedelta(0):
        return Due(
            ticket.sla_due_at, _("Overdue by %(time)s", time=duration(page, left)), True, False
        )
    return Due(ticket.sla_due_at, _("%(time)s left", time=duration(page, left)), False, False)


# -- the queue: kehu.web.views.ticket_queue ---------------------------------------------------


# -- the ticket page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetView:
    label: str
    state: str
    due: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    goal: str
    left: str


@dataclass(frozen=True)
class EventView:
    event: TicketEventOut
    title: str
    actor: str
    detail: str


def _staff_name(page: Page, names: dict[int, str], user_id: int) -> str:
    """A staff member's display name (:func:`kehu.core.users.directory.display_names`), the same
    for every viewer; an id no user has any more is shown as a number."""
    _ = page._
    found = names.get(user_id)
    if found:
        return found
    principal = _principal(page)
    if user_id == principal.user_id:
        return principal.display_name or _("You")
    return _("User %(id)s", id=user_id)


def _staff_ids(
    assignee_id: int | None, messages: list[TicketMessageOut], events: list[TicketEventOut]
) -> set[int | None]:
    """Every staff member the ticket page names: authors, actors, assignees (now and before)."""
    ids: set[int | None] = {assignee_id}
    ids.update(m.author_id for m in messages)
    for event in events:
        if event.actor_kind not in ("customer", "system"):
            ids.add(event.actor_id)
        for values in (event.before or {}, event.after or {}):
            assignee = values.get("assignee_id")
            if isinstance(assignee, int):
                ids.add(assignee)
    return ids


def _actor(page: Page, event: TicketEventOut, names: dict[int, str]) -> str:
    _ = page._
    if event.actor_kind == "customer":
        return _("Customer")
    if event.actor_kind == "system" or event.actor_id is None:
        return _("System")
    return _staff_name(page, names, event.actor_id)


def _event_view(
    page: Page, event: TicketEventOut, teams: dict[int, str], names: dict[int, str]
) -> EventView:
    _ = page._
    name = namer(page.translator.lookup)
    before, after = event.before or {}, event.after or {}
    detail = ""
    if event.kind == "transferred":
        detail = _(
            "From %(from)s to %(to)s",
            **{
                "from": teams.get(before.get("team_id") or 0, "–"),
                "to": teams.get(after.get("team_id") or 0, "–"),
            },
        )
        if after.get("reason"):
            detail += " · " + str(after["reason"])
    elif event.kind == "assigned":
        was, given = before.get("assignee_id"), after.get("assignee_id")
        if isinstance(given, int) and isinstance(was, int):
            detail = _(
                "From %(from)s to %(to)s",
                **{"from": _staff_name(page, names, was), "to": _staff_name(page, names, given)},
            )
        elif isinstance(given, int):
            detail = _("To %(name)s", name=_staff_name(page, names, given))
        elif isinstance(was, int):
            detail = _("No longer with %(name)s", name=_staff_name(page, names, was))
    elif event.kind == "created" and after.get("team_id"):
        detail = _("Team %(team)s", team=teams.get(after["team_id"], "–"))
    elif event.kind in ("status_changed", "resolved", "reopened", "paused", "resumed", "closed"):
        if before.get("status") and after.get("status"):
            detail = _(
                "From %(from)s to %(to)s",
                **{
                    "from": name("status", before.get("status")),
                    "to": name("status", after.get("status")),
                },
            )
        if after.get("resolution"):
            detail += " · " + str(after["resolution"])
    elif event.kind == "priority_changed":
        detail = _(
            "From %(from)s to %(to)s",
            **{
                "from": name("priority", before.get("priority")),
                "to": name("priority", after.get("priority")),
            },
        )
    title = sla_event_title(page.translator, event.kind, after) or name("ticket_event", event.kind)
    if event.kind == "assigned":
        title = _assignment_title(page, after) or title
    return EventView(event, title, _actor(page, event, names), detail)


def _assignment_title(page: Page, after: dict[str, Any]) -> str | None:
    """An automatic assignment names its rule; a claim says the agent took the ticket."""
    _ = page._
    if after.get("rule") == "round_robin":
        return _("Auto-assigned by round robin")
    if after.get("rule") == "least_open":
        return _("Auto-assigned to the member with the fewest open tickets")
    if after.get("claimed"):
        return _("Taken")
    return None


def _target_view(page: Page, label: str, target: TargetStatus) -> TargetView:
    _ = page._
    hours = target.goal.total_seconds() / 3600
    goal = _(
        "%(hours)s business hours",
        hours=page.translator.format_number(hours, 1 if hours % 1 else 0),
    )
    left = ""
    if target.state in ("running", "paused"):
        if target.remaining >= timedelta(0):
            left = _("%(time)s of business time left", time=duration(page, target.remaining))
        else:
            left = _("Overdue by %(time)s", time=duration(page, target.remaining))
    return TargetView(
        label=label,
        state=str(target.state),
        due=target.due if target.state in ("running", "paused") else None,
        stopped_at=target.stopped_at,
        breached_at=target.breached_at,
        goal=goal,
        left=left,
    )


@dataclass(frozen=True)
class SimilarView:
    ticket: TicketOut
    customer: str | None
    reasons: list[str]


def _similar(
    page: Page, session: Session, principal: Principal, ticket_id: int
) -> list[SimilarView]:
    """The similar tickets (scoped like every read), with why each matched, translated."""
    name = namer(page.translator.lookup)
    found: list[SimilarTicket] = similar_tickets(session, principal, ticket_id, limit=SIMILAR_LIMIT)
    names = customer_names(session, principal, {s.ticket.customer_id for s in found})
    return [
        SimilarView(
            ticket=TicketOut.model_validate(s.ticket),
            customer=names.get(s.ticket.customer_id),
            reasons=[name("similar_reason", reason) for reason in s.reasons],
        )
        for s in found
    ]


def _can_write(principal: Principal) -> bool:
    return principal.can("tickets:write")


def ticket_context(page: Page, session: Session, ticket_id: int) -> dict[str, Any]:
    """Everything the ticket page shows (``NotFoundError`` outside the caller's scope)."""
    _ = page._
    principal = _principal(page)
    ticket = ticket_queries.get_ticket(session, principal, ticket_id)
    messages = ticket_queries.list_messages(session, principal, ticket_id)
    events = ticket_queries.list_events(session, principal, ticket_id)
    teams = team_names(session)
    now = utc_now()
    status = ticket_queries.sla_status(session, ticket, now)
    targets = []
    if status is not None:
        targets = [
            _target_view(page, _("First response"), status.first_response),
            _target_view(page, _("Resolution"), status.resolution),
        ]
    customer = customer_names(session, principal, {ticket.customer_id}).get(ticket.customer_id)
    staff = display_names(session, _staff_ids(ticket.assignee_id, messages, events))
    return {
        "ticket": TicketOut.model_validate(ticket),
        "customer_name": customer,
        "messages": messages,
        "events": [_event_view(page, e, teams, staff) for e in reversed(events)],
        "sla": status,
        "targets": targets,
        "team": teams.get(ticket.team_id or 0, ""),
        "assignee": (
            _staff_name(page, staff, ticket.assignee_id) if ticket.assignee_id is not None else ""
        ),
        "transfer_teams": {i: n for i, n in teams.items() if i != ticket.team_id},
        # who the assignment form offers (tickets/_assignment.html)
        "assignable": assignable_staff(session, ticket.team_id, now),
        "priorities": PRIORITIES,
        "similar": _similar(page, session, principal, ticket_id),
        "possible_duplicates": possible_duplicates(page, session, principal, ticket.customer_id),
        **customer_context(page, session, principal, ticket),
        **ticket_themes(page, session, principal, ticket_id),  # the feedback domain's panel
        "can_write": _can_write(principal),
        # the template names customer messages itself; a staff message without an author was
        # written by kehu (an automatic reply, a message of the system principal)
        "author": lambda author_id: (
            _staff_name(page, staff, author_id) if author_id is not None else _("System")
        ),
        "name": namer(page.translator.lookup),
        "with_mentions": mention_markup(session),  # @mentions highlighted in staff messages
        **ticket_macros.work_context(page, session, ticket_id),  # macros and files
    }


def _render_ticket(
    page: Page,
    session: Session,
    ticket_id: int,
    *,
    done: str | None = None,
    error: str | None = None,
    kept: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The ticket page; after a refused change, ``kept`` is what was typed into the form (its
    field -> value), shown again so that nothing typed is lost."""
    context = ticket_context(page, session, ticket_id)
    _ = page._
    notices = {
        "reply": _("Your reply was sent to the customer."),
        "note": _("The internal note was added."),
        "transfer": _("The ticket was transferred."),
        "pause": _("The ticket now waits on the customer; the promise clock is paused."),
        "resume": _("The ticket is in progress again; the promise clock runs."),
        "resolve": _("The ticket is resolved."),
        "reopen": _("The ticket was reopened."),
        "close": _("The ticket is closed."),
        "priority": _("The priority was changed."),
        "assign": _("The ticket was assigned."),
        "claim": _("You took the ticket."),
        "unassign": _("The ticket is no longer assigned to anyone."),
        "duplicate_dismissed": _("The possible duplicate was dismissed."),
        "duplicate_merged": _("The possible duplicate was confirmed and merged."),
        "themes": _("The ticket's themes were corrected; the tagging keeps them."),
    }
    return page.render(
        "tickets/detail.html",
        {**context, "notice": notices.get(done or ""), "error": error, "kept": kept or {}},
        active="tickets",
        status_code=status_code,
    )


@router.get("/tickets/{ticket_id}", name="web_ticket")
def ticket_page(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    done: Annotated[str | None, Query(max_length=20)] = None,
    macro: Annotated[str, Query(max_length=20)] = "",
    expected_version: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    if macro.isdigit():
        # the macro picker without JavaScript: the reply box filled (ticket_macros)
        filled = ticket_macros.filled_reply(page, session, ticket_id, int(macro))
        seen = ticket_queries.read_ticket(session, _principal(page), ticket_id).version
        stale = expected_version.isdigit() and int(expected_version) != seen
        return _render_ticket(
            page,
            session,
            ticket_id,
            error=page._(
                "Someone else changed this ticket after you opened it. The page now shows "
                "the latest version: check it and make your change again."
            )
            if stale
            else None,
            kept={"reply_body": filled},
        )
    return _render_ticket(page, session, ticket_id, done=done if done in DONE else None)


# -- actions -----------------------------------------------------------------------------------


def _refusal(
    page: Page, action: str, ticket: TicketOut, error: ConflictError, team_id: int | None
) -> str:
    """Why ``action`` is not allowed on ``ticket`` as it is now, in the page's language."""
    _ = page._
    status = ticket.status
    if status == "closed":
        return _(
            "The ticket is closed and cannot change any more; a new ticket from the customer is "
            "linked to it as a repeat."
        )
    if action == "pause":
        if status == "resolved":
            return _("A resolved ticket must be reopened before it can wait on the customer.")
        if status == "waiting_on_customer":
            return _("The ticket is already waiting on the customer.")
    if action == "reply" and status == "resolved":
        return _("A resolved ticket must be reopened before it can wait on the customer.")
    if action == "resume" and status != "waiting_on_customer":
        return _("Only a ticket that waits on the customer can be resumed.")
    if action == "resolve" and status == "resolved":
        return _("The ticket is already resolved.")
    if action == "reopen" and status != "resolved":
        return _("Only a resolved ticket can be reopened.")
    if action == "close" and status != "resolved":
        return _("Only a resolved ticket can be closed.")
    if action == "transfer" and team_id == ticket.team_id:
        return _("The ticket is already with this team.")
    return _("This change is not allowed now: %(reason)s", reason=str(error))


def _act(
    page: Page,
    session: Session,
    ticket_id: int,
    action: str,
    expected_version: int,
    csrf_token: str | None,
    change: Callable[[Session, Principal], Any],
    *,
    kept: dict[str, str],
    team_id: int | None = None,
) -> Response:
    """Run ``change`` in a savepoint of the request's transaction; on success back to the ticket
    page, or to the queue when the change took the ticket out of the caller's sight (a transfer
    to a team they are not in). A conflict (409) or refused input (422) shows the page again with
    the reason, in the form's place, and with what was typed (``kept``: form field -> value) in
    the form again. A missing record or a refused permission is left to the one error map (its
    404 or 403 page)."""
    _ = page._
    principal = _principal(page)
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    problem: str | None = None
    status_code = 200
    try:
        with session.begin_nested():
            change(session, principal)
    except ConflictError as error:
        status_code = 409
        ticket = ticket_queries.read_ticket(session, principal, ticket_id)
        if ticket.version != expected_version:
            problem = _(
                "Someone else changed this ticket after you opened it. The page now shows "
                "the latest version: check it and make your change again."
            )
        else:
            problem = _refusal(page, action, ticket, error, team_id)
    except InputError as error:
        status_code = 422
        if error.column in ("body",):
            problem = _("Write a message first.")
        elif error.column == "team_id":
            problem = _("Choose a team to transfer the ticket to.")
        elif error.column == "priority":
            problem = _("Choose a priority.")
        elif error.column == "assignee_id":
            problem = _("Choose a colleague who works in this ticket's team.")
        elif error.column == "mentions":
            problem = _(
                "%(names)s cannot see this ticket, so the mention was not saved. Remove the "
                "mention, or transfer the ticket to their team first.",
                names=str(error.value),
            )
        elif error.column == "attachment":
            problem = ticket_macros.attachment_problem(page, error)
        else:
            problem = _("Check the field %(field)s.", field=error.column or "–")
    if problem is None:
        if (
            action == "transfer"
            and team_id is not None
            and team_id not in ticket_teams(session, principal)
        ):
            # the ticket scope's rule: the caller no longer sees the ticket, so the ticket page
            # would be "no such record"; their queue confirms the transfer instead
            queue_path = page.request.url_for("web_tickets").path
            return RedirectResponse(
                f"{queue_path}?transferred={ticket_id}&to={team_id}", status_code=303
            )
        target = page.request.url_for("web_ticket", ticket_id=ticket_id).path
        return RedirectResponse(f"{target}?done={action}", status_code=303)
    return _render_ticket(
        page, session, ticket_id, error=problem, kept=kept, status_code=status_code
    )


Version = Annotated[int, Form(ge=0, le=INT32_MAX)]
Csrf = Annotated[str | None, Form(max_length=200)]
Body = Annotated[str, Form(max_length=20_000)]
#: A file sent with a reply or a note (ticket_macros.attach_upload).
Attachment = Annotated[UploadFile | None, File()]


@router.post("/tickets/{ticket_id}/reply", name="web_ticket_reply")
def post_reply(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    expected_version: Version,
    body: Body = "",
    wait_for_customer: Annotated[str | None, Form(max_length=5)] = None,
    csrf_token: Csrf = None,
    attachment: Attachment = None,
) -> Response:
    wait = wait_for_customer in ("1", "on", "true")

    def change(session: Session, principal: Principal) -> Any:
        ticket = ticket_messages.reply(
            session,
            principal,
            ticket_id,
            body,
            wait_for_customer=wait,
            expected_version=expected_version,
            settings=page.settings,
        )
        upload = ticket_macros.received_file(attachment)
        if upload is not None:
            message_id = ticket_macros.last_reply_id(session, principal, ticket_id)
            ticket_macros.attach_upload(
                session, principal, ticket_id, upload, message_id=message_id, page=page
            )
        return ticket

    return _act(
        page,
        session,
        ticket_id,
        "pause" if wait else "reply",
        expected_version,
        csrf_token,
        change,
        kept={"reply_body": body, "wait_for_customer": "1" if wait else ""},
    )


@router.post("/tickets/{ticket_id}/note", name="web_ticket_note")
def post_note(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    expected_version: Version,
    body: Body = "",
    csrf_token: Csrf = None,
    attachment: Attachment = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        ticket = ticket_queries.read_ticket(session, principal, ticket_id)
        if ticket.version != expected_version:
            raise ConflictError("the ticket was changed by someone else")
        note = ticket_messages.add_note(session, principal, ticket_id, body, settings=page.settings)
        upload = ticket_macros.received_file(attachment)
        if upload is not None:
            ticket_macros.attach_upload(
                session, principal, ticket_id, upload, message_id=note.id, page=page
            )
        return note

    return _act(
        page,
        session,
        ticket_id,
        "note",
        expected_version,
        csrf_token,
        change,
        kept={"note_body": body},
    )


@router.post("/tickets/{ticket_id}/transfer", name="web_ticket_transfer")
def post_transfer(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    expected_version: Version,
    team_id: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Csrf = None,
) -> Response:
    target = int(team_id) if team_id.isdigit() else None

    def change(session: Session, principal: Principal) -> Any:
        if target is None or target not in team_names(session):
            raise InputError("choose a team", column="team_id")
        return ticket_commands.transfer(
            session,
            principal,
            ticket_id,
            target,
            reason=reason,
            expected_version=expected_version,
            settings=page.settings,
        )

    return _act(
        page,
        session,
        ticket_id,
        "transfer",
        expected_version,
        csrf_token,
        change,
        kept={"transfer_team": team_id, "transfer_reason": reason},
        team_id=target,
    )


@router.post("/tickets/{ticket_id}/status", name="web_ticket_status")
def post_status(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    expected_version: Version,
    action: Annotated[str, Form(max_length=20)],
    resolution: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Csrf = None,
) -> Response:
    if action not in STATUS_ACTIONS:
        _ = page._
        return page.render(
            "error.html",
            {"title": _("Not found"), "message": _("There is no such action.")},
            status_code=422,
        )

    def change(session: Session, principal: Principal) -> Any:
        ticket = ticket_queries.read_ticket(session, principal, ticket_id)
        if ticket.version != expected_version:
            raise ConflictError("the ticket was changed by someone else")
        if action == "resume" and ticket.status != "waiting_on_customer":
            raise ConflictError("only a ticket waiting on the customer can be resumed")
        if action == "reopen":
            return ticket_commands.reopen(
                session,
                principal,
                ticket_id,
                expected_version=expected_version,
                settings=page.settings,
            )
        if action == "close":
            if ticket.status != "resolved":
                raise ConflictError("only a resolved ticket can be closed")
            return ticket_commands.close(
                session,
                principal,
                ticket_id,
                expected_version=expected_version,
                settings=page.settings,
            )
        return ticket_commands.change_status(
            session,
            principal,
            ticket_id,
            STATUS_ACTIONS[action],
            expected_version=expected_version,
            resolution=resolution.strip() or None,
            settings=page.settings,
        )

    return _act(
        page,
        session,
        ticket_id,
        action,
        expected_version,
        csrf_token,
        change,
        kept={"resolution": resolution},
    )


@router.post("/tickets/{ticket_id}/priority", name="web_ticket_priority")
def post_priority(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    expected_version: Version,
    priority: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Csrf = None,
) -> Response:
    return _act(
        page,
        session,
        ticket_id,
        "priority",
        expected_version,
        csrf_token,
        lambda session, principal: ticket_commands.change_priority(
            session,
            principal,
            ticket_id,
            priority,
            expected_version=expected_version,
            settings=page.settings,
        ),
        kept={},
    )
