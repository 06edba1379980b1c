"""The ticket queue's saved views and bulk actions.

- ``GET /api/ticket-views``: the caller's own saved views and the shared ones;
  ``POST /api/ticket-views`` saves one (``params``: the queue's URL parameters, see
  :mod:`kehu.desk.ticket_queue`; ``shared`` needs ``tickets:share_views``);
  ``DELETE /api/ticket-views/{id}`` deletes one's own (or, for a lead, a shared one).
- ``POST /api/tickets/bulk``: assign, transfer, set the priority of, or close several tickets.
  Each ticket changes whole or not at all; the answer lists every ticket with its ``outcome``
  (``changed``, or why not: ``not_found``, ``not_permitted``, ``stale``, ``closed``,
  ``same_team``, ``refused``; see :mod:`kehu.desk.ticket_bulk`), with status 200 even when some
  were refused. A wrong request as a whole (unknown action, team, assignee, priority) is 422.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from kehu.desk import ticket_bulk, ticket_views
from kehu.desk.schemas import Priority
from kehu.desk.ticket_bulk import BulkOutcome
from kehu.desk.ticket_views import TicketViewOut
from kehu.http.deps import CurrentPrincipal, DbSession, get_settings
from kehu.store.bounds import Id, Version

router = APIRouter(tags=["tickets"])


class TicketViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=ticket_views.MAX_NAME)
    shared: bool = Field(default=False, description="shown to every user (leads and managers)")
    params: dict[Annotated[str, Field(max_length=20)], Annotated[str, Field(max_length=300)]] = (
        Field(
            default_factory=dict,
            description="the queue's filters and sort as URL parameters, e.g. "
            '{"team": "3", "promise": "breached", "sort": "-due"}',
        )
    )


@router.get("/api/ticket-views", summary="Saved views of the ticket queue: one's own and shared")
def list_views(session: DbSession, principal: CurrentPrincipal) -> list[TicketViewOut]:
    return ticket_views.list_views(session, principal)


@router.post(
    "/api/ticket-views",
    status_code=status.HTTP_201_CREATED,
    summary="Save the queue's filters and sort under a name",
)
def save_view(body: TicketViewIn, session: DbSession, principal: CurrentPrincipal) -> TicketViewOut:
    return ticket_views.save_view(session, principal, body.name, body.params, shared=body.shared)


@router.delete(
    "/api/ticket-views/{view_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a saved view (one's own; a lead's shared one)",
)
def delete_view(view_id: Id, session: DbSession, principal: CurrentPrincipal) -> None:
    ticket_views.delete_view(session, principal, view_id)


class BulkTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id
    expected_version: Version | None = Field(
        default=None, description="the version you saw (stale: left unchanged)"
    )


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["assign", "transfer", "priority", "close"]
    tickets: list[BulkTicket] = Field(min_length=1, max_length=ticket_bulk.MAX_TICKETS)
    assignee_id: Id | None = Field(default=None, description="assign: a user id; null unassigns")
    team_id: Id | None = Field(default=None, description="transfer: the team")
    priority: Priority | None = Field(default=None, description="priority: the new priority")


class BulkOut(BaseModel):
    changed: int
    refused: int
    results: list[BulkOutcome]


@router.post("/api/tickets/bulk", summary="Assign, transfer, reprioritise or close many tickets")
def bulk(
    body: BulkIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> BulkOut:
    results = ticket_bulk.bulk_change(
        session,
        principal,
        body.action,
        [t.id for t in body.tickets],
        assignee_id=body.assignee_id,
        team_id=body.team_id,
        priority=body.priority,
        expected_versions={
            t.id: t.expected_version for t in body.tickets if t.expected_version is not None
        },
        settings=get_settings(request),
    )
    changed = sum(1 for r in results if r.changed)
    return BulkOut(changed=changed, refused=len(results) - changed, results=results)
