"""The ticket queue page (``/tickets``): search, filters, sortable columns, pages, saved views
and bulk actions.

The filters are the URL parameters of :mod:`kehu.desk.ticket_queue` (``q``, ``status``,
``team``, ``assignee`` = a user id, ``me`` or ``unassigned``, ``kind``, ``priority``,
``promise``, ``tier``, ``tag``, ``sort``, ``page``, ``page_size``), so other pages link to
``/tickets?team=3&promise=breached`` and a saved view is such a query; every link of the page
(a column header, the next page) keeps them. A wrong parameter is refused in place (422, naming
it), with the default queue below and the typed words kept in the search box.

Bulk actions (assign, transfer, priority, close) post the chosen tickets with the version each
showed (:mod:`kehu.desk.ticket_bulk`: each ticket changes whole or not at all); the browser is
sent back to the same queue with what changed and, for each ticket left unchanged, the reason.
Everything goes through the desk's scoped use cases: an agent sees and changes only their
teams' tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.analytics.tiers import TIER_NAMES
from kehu.core.i18n import N_
from kehu.core.users.directory import display_names
from kehu.customers.queries import customer_names
from kehu.customers.search import tag_names
from kehu.desk import ticket_bulk, ticket_queries, ticket_views
from kehu.desk.routing import team_member_ids, team_names, ticket_teams
from kehu.desk.schemas import TicketOut
from kehu.desk.sla_store import VALUE_TIERS
from kehu.desk.ticket_queue import (
    PAGE_SIZES,
    STATUS_FILTERS,
    QueueQuery,
    page_of,
    parse_queue_query,
)
from kehu.desk.workflow import KINDS, PRIORITIES
from kehu.errors import ConflictError, InputError
from kehu.store.base import utc_now
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.labels import namer
from kehu.web.rendering import Page, StaffPage
from kehu.web.views.tickets import Due, due_of

router = APIRouter()

PROMISE_LABELS = {
    "on_track": N_("On track"),
    "at_risk": N_("At risk"),
    "breached": N_("Breached"),
    "kept": N_("Kept"),
    "none": N_("No promise"),
}
OUTCOME_LABELS = {
    "not_found": N_("Not found, or not in your teams."),
    "not_permitted": N_("You may not make this change."),
    "stale": N_("Someone else changed it meanwhile; open it and check."),
    "closed": N_("It is closed and cannot change any more."),
    "same_team": N_("It is already with this team."),
    "refused": N_("This change is not allowed now."),
}
#: The columns a header click sorts by (column -> sort key).
SORTABLE = ("id", "subject", "kind", "priority", "status", "team", "assignee", "due", "promise")


@dataclass(frozen=True)
class QueueRow:
    ticket: TicketOut
    customer: str
    team: str
    assignee: str
    due: Due
    promise: str


@dataclass(frozen=True)
class Refused:
    ticket_id: int
    reason: str


def _principal(page: Page) -> Any:
    principal = page.principal
    assert principal is not None
    return principal


def _multi(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in items:
        values.setdefault(key, []).append(value)
    return values


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.isdigit()][: ticket_bulk.MAX_TICKETS]


def _refused(text: str) -> list[tuple[int, str]]:
    found = []
    for part in text.split(",")[: ticket_bulk.MAX_TICKETS]:
        ticket_id, _sep, outcome = part.partition(":")
        if ticket_id.isdigit() and outcome in OUTCOME_LABELS:
            found.append((int(ticket_id), outcome))
    return found


def _people(session: Session, teams: Mapping[int, str]) -> dict[int, str]:
    """The members of the teams the viewer sees, by name: whom a ticket can be given to."""
    ids = {user_id for team_id in teams for user_id in team_member_ids(session, team_id)}
    names = display_names(session, ids)
    return dict(sorted(names.items(), key=lambda item: item[1]))


def render_queue(
    page: Page,
    session: Session,
    params: Mapping[str, Any],
    *,
    problem: str | None = None,
    status_code: int = 200,
    kept: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The queue for the URL parameters ``params``; a wrong one is shown in place (422) over
    the default queue. ``problem`` (a refused form below) and ``kept`` (what was typed into it)
    are shown as they are."""
    _ = page._
    principal = _principal(page)
    name = namer(page.translator.lookup)
    typed = dict(kept or {})
    try:
        query = parse_queue_query(params)
        page_no, size = page_of(params)
    except InputError as error:
        problem = _(
            "Check the filter “%(field)s”: %(reason)s", field=error.column or "", reason=error
        )
        status_code = 422
        words = params.get("q") or ""
        typed.setdefault("q", (words if isinstance(words, str) else " ".join(words))[:200])
        query, page_no, size = QueueQuery(), 1, 50
    now = utc_now()
    found = ticket_queries.search_tickets(
        session,
        principal,
        query.search(principal, now),
        sort=query.sort,
        limit=size,
        offset=(page_no - 1) * size,
    )
    tickets = found.items
    teams = ticket_teams(session, principal)
    all_teams = team_names(session)
    customers = customer_names(session, principal, {t.customer_id for t in tickets})
    people = _people(session, teams)
    assignees = display_names(session, {t.assignee_id for t in tickets})
    promises = ticket_queries.promise_states(session, principal, [t.id for t in tickets], now)
    rows = [
        QueueRow(
            ticket=t,
            customer=customers.get(t.customer_id, f"#{t.customer_id}"),
            team=all_teams.get(t.team_id, "") if t.team_id is not None else "",
            assignee=(
                assignees.get(t.assignee_id, f"#{t.assignee_id}")
                if t.assignee_id is not None
                else ""
            ),
            due=due_of(page, t, now),
            promise=promises.get(t.id, "none"),
        )
        for t in tickets
    ]
    here = query.params()
    paging = {"page_size": str(size)} if size != 50 else {}
    pages = max(1, -(-found.total // size))

    def link(**changes: Any) -> str:
        values = {**here, **paging, **{k: str(v) for k, v in changes.items() if v is not None}}
        return "/tickets" + ("?" + urlencode(values) if values else "")

    sort_links = {
        key: "/tickets?" + urlencode({**query.sorted_by(key).params(), **paging})
        for key in SORTABLE
    }
    current = query.sort.split(",")[0]
    sort_state = {current.lstrip("-"): "descending" if current.startswith("-") else "ascending"}
    notices = _notices(page, params, all_teams)
    return page.render(
        "tickets/queue.html",
        {
            "rows": rows,
            "total": found.total,
            "query": query,
            "typed": typed,
            "queue_query": urlencode(here),
            "status_filters": STATUS_FILTERS,
            "teams": teams,
            "all_teams": all_teams,
            "people": people,
            "kinds": KINDS,
            "priorities": PRIORITIES,
            "promises": PROMISE_LABELS,
            "tiers": {
                code: page.translator.display_name(TIER_NAMES.get(code), code)
                for code in VALUE_TIERS
            },
            "tags": tag_names(session, principal) if principal.can("customers:read") else [],
            "page_sizes": PAGE_SIZES,
            "page_size": size,
            "page_no": page_no,
            "pages": pages,
            "previous_link": link(page=page_no - 1) if page_no > 1 else None,
            "next_link": link(page=page_no + 1) if page_no < pages else None,
            "sort_links": sort_links,
            "sort_state": sort_state,
            "views": ticket_views.list_views(session, principal),
            "can_share": principal.can(ticket_views.SHARE_PERMISSION),
            "can_write": principal.can("tickets:write"),
            "user_id": principal.user_id,
            "name": name,
            "problem": problem,
            **notices,
        },
        active="tickets",
        status_code=status_code,
    )


def _notices(page: Page, params: Mapping[str, Any], teams: Mapping[int, str]) -> dict[str, Any]:
    """What the page confirms after a change: a transfer (from the ticket page), a bulk action
    (what changed, and each ticket left unchanged with the reason), a saved or deleted view."""
    _ = page._

    def one(key: str) -> str:
        value = params.get(key)
        if isinstance(value, list):
            value = value[0] if value else ""
        return str(value or "")

    notice = None
    transferred, to = one("transferred"), one("to")
    if transferred.isdigit() and to.isdigit() and int(to) in teams:
        # back from a transfer to a team the caller is not in (see tickets._act)
        notice = _(
            "Ticket #%(id)s transferred to %(team)s.", id=int(transferred), team=teams[int(to)]
        )
    changed = _ids(one("changed"))
    refused = [
        Refused(ticket_id, _(OUTCOME_LABELS[outcome]))
        for ticket_id, outcome in _refused(one("refused"))
    ]
    if one("changed") or refused:
        notice = page.translator.ngettext(
            "%(num)s ticket changed.", "%(num)s tickets changed.", len(changed)
        )
    if one("saved") == "1":
        notice = _("The view was saved.")
    if one("deleted") == "1":
        notice = _("The view was deleted.")
    return {"notice": notice, "refused": refused}


@router.get("/tickets", name="web_tickets")
def queue(page: StaffPage, session: SessionDep) -> HTMLResponse:
    return render_queue(page, session, _multi(page.request.query_params.multi_items()))


def _back(back: str) -> dict[str, list[str]]:
    """The queue's parameters a form came from (its ``back`` field: a query string)."""
    return {k: v for k, v in parse_qs(back[:2000]).items() if k != "page"}


def _queue_url(params: Mapping[str, Any], **extra: str) -> str:
    """The queue with ``params`` (checked again; wrong ones are dropped with the rest) and
    ``extra``."""
    try:
        values = parse_queue_query(params).params()
        _page_no, size = page_of(
            {"page_size": params.get("page_size")} if params.get("page_size") else {}
        )
    except InputError:
        values, size = {}, 50
    if size != 50:
        values["page_size"] = str(size)
    values.update(extra)
    return "/tickets" + ("?" + urlencode(values) if values else "")


@router.post("/tickets/bulk", name="web_tickets_bulk")
def bulk(
    page: StaffPage,
    session: SessionDep,
    action: Annotated[str, Form(max_length=20)] = "",
    ticket: Annotated[list[str] | None, Form()] = None,
    assignee: Annotated[str, Form(max_length=20)] = "",
    team: Annotated[str, Form(max_length=20)] = "",
    priority: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Apply a bulk action to the chosen tickets (``ticket``: ``<id>:<version>`` each)."""
    _ = page._
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    params = _back(back)
    versions: dict[int, int] = {}
    for value in (ticket or [])[: ticket_bulk.MAX_TICKETS + 1]:
        ticket_id, _sep, version = value.partition(":")
        if ticket_id.isdigit():
            versions[int(ticket_id)] = int(version) if version.isdigit() else 0
    principal = _principal(page)
    assignee_id: int | None = None
    if assignee == "me":
        assignee_id = principal.user_id
    elif assignee.isdigit():
        assignee_id = int(assignee)
    try:
        outcomes = ticket_bulk.bulk_change(
            session,
            principal,
            action,
            list(versions),
            assignee_id=assignee_id,
            team_id=int(team) if team.isdigit() else None,
            priority=priority or None,
            expected_versions={k: v for k, v in versions.items() if v},
            settings=page.settings,
        )
    except InputError as error:
        problems = {
            "ticket_ids": _("Choose at least one ticket."),
            "team_id": _("Choose the team to transfer to."),
            "assignee_id": _("Choose whom to assign the tickets to."),
            "priority": _("Choose the new priority."),
            "action": _("Choose what to do with the tickets."),
        }
        problem = problems.get(error.column or "", str(error))
        return render_queue(page, session, params, problem=problem, status_code=422)
    changed = ",".join(str(o.ticket_id) for o in outcomes if o.changed)
    refused = ",".join(f"{o.ticket_id}:{o.outcome}" for o in outcomes if not o.changed)
    return RedirectResponse(_queue_url(params, changed=changed, refused=refused), status_code=303)


@router.post("/tickets/views", name="web_ticket_view_save")
def save_view(
    page: StaffPage,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    shared: Annotated[str, Form(max_length=5)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Save the queue's current filters and sort (``back``) under ``name``."""
    _ = page._
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    params = _back(back)
    filters = {k: v for k, v in params.items() if k != "page_size"}
    try:
        with session.begin_nested():
            view = ticket_views.save_view(
                session, _principal(page), name, filters, shared=shared == "1"
            )
    except InputError as error:
        problem = (
            _("Give the view a name (at most 100 characters).")
            if error.column == "name"
            else _(
                "Check the filter “%(field)s”: %(reason)s", field=error.column or "", reason=error
            )
        )
        return render_queue(
            page, session, params, problem=problem, status_code=422, kept={"view_name": name}
        )
    except ConflictError:
        problem = _("You already have a view with this name.")
        return render_queue(
            page, session, params, problem=problem, status_code=409, kept={"view_name": name}
        )
    return RedirectResponse(_queue_url(view.params, saved="1"), status_code=303)


@router.post("/tickets/views/{view_id}/delete", name="web_ticket_view_delete")
def delete_view(
    page: StaffPage,
    session: SessionDep,
    view_id: Id,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    ticket_views.delete_view(session, _principal(page), view_id)
    return RedirectResponse("/tickets?deleted=1", status_code=303)
