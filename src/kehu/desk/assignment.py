"""Who may be given a ticket, and automatic assignment per team.

**Who may work a ticket**: an active user whose role may work tickets (``tickets:write``) and
who either is a member of the ticket's team or sees every team (``tickets:all_teams``:
managers, administrators). A ticket without a team may go to anyone who may work tickets.
:func:`check_may_work` refuses anyone else (``InputError`` on ``assignee_id``), so that a ticket
is never given to someone who cannot see it.

**Automatic assignment** (a team's ``assignment_mode``): a ticket that arrives in a team without
an assignee (filed, routed, transferred, a public complaint, an escalation's transfer) is given
to one of the team's members who may work tickets and is not away
(:func:`kehu.core.users.assignees.active_staff`):

- ``none``: nobody; the ticket waits in the team's queue;
- ``round_robin``: the member after the one given the team's last ticket (by user id, wrapping
  round); the team's row is locked (``SELECT ... FOR UPDATE``) while the next member is chosen
  and the pointer moved, so two tickets arriving at once go to two members;
- ``least_open``: the member holding the fewest open tickets (new, in progress, waiting on the
  customer); ties go to the lower user id. The team's row is locked the same way, so two
  tickets arriving at once see each other's choice.

:func:`pick_assignee` chooses; :func:`kehu.desk.ticket_commands` records the choice as an
``assigned`` event of the system naming the rule (``after.rule``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kehu.core.audit import record_audit
from kehu.core.auth import Principal, require
from kehu.core.auth.permissions import role_permissions
from kehu.core.i18n import N_
from kehu.core.users.assignees import StaffMember, active_staff
from kehu.desk.routing import get_team, list_teams, team_member_ids
from kehu.desk.tables import Team, Ticket
from kehu.desk.workflow import ACTIVE_CATEGORIES
from kehu.errors import InputError

__all__ = [
    "ASSIGNMENT_MODES",
    "ASSIGNMENT_MODE_NAMES",
    "TeamSettings",
    "assignable_staff",
    "check_may_work",
    "pick_assignee",
    "set_assignment_mode",
    "team_settings",
]

#: The automatic assignment modes, with the names the pages show (catalog ids).
ASSIGNMENT_MODE_NAMES = {
    "none": N_("No automatic assignment"),
    "round_robin": N_("Round robin"),
    "least_open": N_("Fewest open tickets"),
}
ASSIGNMENT_MODES = tuple(ASSIGNMENT_MODE_NAMES)


def _works_tickets(member: StaffMember) -> bool:
    return "tickets:write" in role_permissions(member.role)


def _sees_every_team(member: StaffMember) -> bool:
    return "tickets:all_teams" in role_permissions(member.role)


def assignable_staff(session: Session, team_id: int | None, now: datetime) -> list[StaffMember]:
    """The active users who may work a ticket of ``team_id``, by display name (away users
    included: a person may still hand them work, and sees that they are away)."""
    staff = [member for member in active_staff(session, now) if _works_tickets(member)]
    if team_id is None:
        return staff
    members = set(team_member_ids(session, team_id))
    return [m for m in staff if m.user_id in members or _sees_every_team(m)]


def check_may_work(
    session: Session, user_id: int, team_id: int | None, now: datetime, *, column: str
) -> None:
    """Refuse (``InputError`` naming ``column``) a user who may not work a ticket of
    ``team_id`` (the caller has checked that the id is an active user's)."""
    if all(m.user_id != user_id for m in assignable_staff(session, team_id, now)):
        raise InputError(
            f"user {user_id} may not work this team's tickets (not a member of the team)",
            column=column,
            value=user_id,
        )


def _candidates(session: Session, team_id: int, now: datetime) -> list[int]:
    """The team's members who may be given a ticket now, by user id."""
    members = set(team_member_ids(session, team_id))
    return sorted(
        m.user_id
        for m in active_staff(session, now)
        if m.user_id in members and _works_tickets(m) and not m.away
    )


def pick_assignee(session: Session, team_id: int, now: datetime) -> tuple[int, str] | None:
    """The member a ticket arriving in ``team_id`` goes to, and the rule that chose them; None
    when the team assigns nothing automatically or nobody can be given work. Holds the team's
    row locked until the transaction ends (round robin moves its pointer)."""
    locked = session.execute(
        select(Team.assignment_mode, Team.round_robin_last_user_id)
        .where(Team.id == team_id)
        .with_for_update()
    ).one_or_none()
    if locked is None or locked.assignment_mode not in ("round_robin", "least_open"):
        return None
    candidates = _candidates(session, team_id, now)
    if not candidates:
        return None
    if locked.assignment_mode == "round_robin":
        last = locked.round_robin_last_user_id
        after_last = [user_id for user_id in candidates if last is None or user_id > last]
        chosen = (after_last or candidates)[0]
        session.execute(
            update(Team)
            .where(Team.id == team_id)
            .values(round_robin_last_user_id=chosen)
            .execution_options(synchronize_session=False)
        )
        return chosen, "round_robin"
    open_counts: dict[int, int] = {
        int(user_id or 0): int(count)
        for user_id, count in session.execute(
            select(Ticket.assignee_id, func.count())
            .where(
                Ticket.assignee_id.in_(candidates),
                Ticket.status_category.in_(ACTIVE_CATEGORIES),
                Ticket.merged_into_id.is_(None),
            )
            .group_by(Ticket.assignee_id)
        )
    }
    chosen = min(candidates, key=lambda user_id: (open_counts.get(user_id, 0), user_id))
    return chosen, "least_open"


def set_assignment_mode(session: Session, principal: Principal, team_id: int, mode: str) -> Team:
    """Set how the team assigns arriving tickets (``settings:write``); audited."""
    require(principal, "settings:write")
    if mode not in ASSIGNMENT_MODES:
        raise InputError(
            f"unknown assignment mode; modes are {', '.join(ASSIGNMENT_MODES)}",
            column="assignment_mode",
            value=mode,
        )
    team = get_team(session, team_id)
    if team.assignment_mode != mode:
        before = {"assignment_mode": team.assignment_mode}
        team.assignment_mode = mode
        session.flush()
        record_audit(
            session,
            principal,
            "team.assignment_mode_changed",
            "team",
            team.id,
            before,
            {"assignment_mode": mode},
        )
    return team


@dataclass(frozen=True)
class TeamSettings:
    """A team as its settings page shows it."""

    id: int
    name: str
    email: str | None
    assignment_mode: str
    member_ids: list[int]


def team_settings(session: Session, principal: Principal) -> list[TeamSettings]:
    """Every team with its assignment mode and members, for those who change them
    (``settings:write``)."""
    require(principal, "settings:write")
    return [
        TeamSettings(
            team.id,
            team.name,
            team.email,
            team.assignment_mode,
            team_member_ids(session, team.id),
        )
        for team in list_teams(session)
    ]
