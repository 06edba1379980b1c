"""Bulk actions on tickets chosen in the queue: assign, transfer, set the priority, close.

Each ticket is changed by the desk's own use case (:mod:`kehu.desk.ticket_commands`: the same
checks, one ticket event and one audit entry per ticket) in a savepoint of its own, so a ticket
is changed entirely or not at all, and the tickets that cannot be changed do not hold back the
others. The answer lists every ticket with its outcome: changed, or the reason it was not:

- ``not_found``: no such ticket, or one outside the caller's teams (the same answer, as for one
  ticket);
- ``not_permitted``: the caller may not make this change;
- ``stale``: changed by someone else since the caller saw it (``expected_version``);
- ``closed``: a closed ticket changes no more;
- ``same_team``: a transfer to the team the ticket is already with;
- ``refused``: any other refusal of the use case (``detail`` says why).

What is wrong with the request as a whole (an unknown action, priority, team or assignee, no
tickets, too many) is an ``InputError`` naming the field, before any ticket is touched; a caller
without ``tickets:write`` is refused as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, require
from kehu.core.config import Settings
from kehu.core.users.assignees import check_assignable
from kehu.desk import ticket_commands
from kehu.desk.routing import team_names
from kehu.desk.ticket_queries import get_ticket
from kehu.desk.workflow import PRIORITIES
from kehu.errors import ConflictError, InputError, KehuError, NotFoundError, PermissionDeniedError

__all__ = ["BULK_ACTIONS", "MAX_TICKETS", "OUTCOMES", "BulkOutcome", "bulk_change"]

BULK_ACTIONS = ("assign", "transfer", "priority", "close")
OUTCOMES = ("changed", "not_found", "not_permitted", "stale", "closed", "same_team", "refused")
MAX_TICKETS = 200


class BulkOutcome(BaseModel):
    """What happened to one ticket of a bulk action."""

    ticket_id: int
    outcome: str  # one of OUTCOMES
    detail: str | None = None  # the use case's reason, when refused
    version: int | None = None  # the ticket's version after the change

    @property
    def changed(self) -> bool:
        return self.outcome == "changed"


def _checked(
    session: Session,
    action: str,
    ticket_ids: Sequence[int],
    *,
    assignee_id: int | None,
    team_id: int | None,
    priority: str | None,
) -> list[int]:
    if action not in BULK_ACTIONS:
        raise InputError(f"one of {', '.join(BULK_ACTIONS)}", column="action", value=action)
    unique = list(dict.fromkeys(ticket_ids))
    if not unique:
        raise InputError("choose at least one ticket", column="ticket_ids")
    if len(unique) > MAX_TICKETS:
        raise InputError(f"at most {MAX_TICKETS} tickets at once", column="ticket_ids")
    if action == "assign":
        check_assignable(session, assignee_id, column="assignee_id")
    if action == "transfer" and (team_id is None or team_id not in team_names(session)):
        raise InputError("a team", column="team_id", value=team_id)
    if action == "priority" and priority not in PRIORITIES:
        raise InputError(f"one of {', '.join(PRIORITIES)}", column="priority", value=priority)
    return unique


def _refusal(
    session: Session,
    principal: Principal,
    ticket_id: int,
    expected: int | None,
    action: str,
    team_id: int | None,
) -> str:
    """Which outcome a refused change was, from the ticket as it is now."""
    ticket = get_ticket(session, principal, ticket_id)
    if expected is not None and ticket.version != expected:
        return "stale"
    if ticket.status == "closed":
        return "closed"
    if action == "transfer" and ticket.team_id == team_id:
        return "same_team"
    return "refused"


def bulk_change(
    session: Session,
    principal: Principal,
    action: str,
    ticket_ids: Sequence[int],
    *,
    assignee_id: int | None = None,
    team_id: int | None = None,
    priority: str | None = None,
    expected_versions: Mapping[int, int] | None = None,
    now: datetime | None = None,
    settings: Settings,
) -> list[BulkOutcome]:
    """Apply ``action`` to each ticket of ``ticket_ids`` (in that order, duplicates once), each
    in its own savepoint; one :class:`BulkOutcome` per ticket."""
    require(principal, "tickets:write")
    unique = _checked(
        session, action, ticket_ids, assignee_id=assignee_id, team_id=team_id, priority=priority
    )
    versions = dict(expected_versions or {})
    outcomes: list[BulkOutcome] = []
    for ticket_id in unique:
        expected = versions.get(ticket_id)
        change = _change(action, assignee_id, team_id, priority)
        try:
            with session.begin_nested():
                ticket = change(
                    session,
                    principal,
                    ticket_id,
                    expected_version=expected,
                    now=now,
                    settings=settings,
                )
        except NotFoundError:
            outcomes.append(BulkOutcome(ticket_id=ticket_id, outcome="not_found"))
        except PermissionDeniedError as error:
            outcomes.append(
                BulkOutcome(ticket_id=ticket_id, outcome="not_permitted", detail=str(error))
            )
        except ConflictError as error:
            outcome = _refusal(session, principal, ticket_id, expected, action, team_id)
            outcomes.append(BulkOutcome(ticket_id=ticket_id, outcome=outcome, detail=str(error)))
        except KehuError as error:  # refused input about this one ticket
            outcomes.append(BulkOutcome(ticket_id=ticket_id, outcome="refused", detail=str(error)))
        else:
            outcomes.append(
                BulkOutcome(ticket_id=ticket_id, outcome="changed", version=ticket.version)
            )
    return outcomes


def _change(
    action: str, assignee_id: int | None, team_id: int | None, priority: str | None
) -> Callable[..., Any]:
    """The use case of ``action``, with the action's own arguments given."""

    def assign(session: Session, principal: Principal, ticket_id: int, **kw: Any) -> Any:
        return ticket_commands.assign(session, principal, ticket_id, assignee_id, **kw)

    def transfer(session: Session, principal: Principal, ticket_id: int, **kw: Any) -> Any:
        assert team_id is not None
        return ticket_commands.transfer(session, principal, ticket_id, team_id, **kw)

    def set_priority(session: Session, principal: Principal, ticket_id: int, **kw: Any) -> Any:
        assert priority is not None
        return ticket_commands.change_priority(session, principal, ticket_id, priority, **kw)

    return {
        "assign": assign,
        "transfer": transfer,
        "priority": set_priority,
        "close": ticket_commands.close,
    }[action]
