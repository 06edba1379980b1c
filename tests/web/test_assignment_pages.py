"""Assignment on the ticket page (take it, assign, reassign, unassign, each an event, a stale
form a 409 with the reason) and the people settings pages (users: invite, role, deactivate,
absence; teams: add, members, automatic assignment), with who may do what."""

from __future__ import annotations

import re

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import AGENT, CSRF_TOKEN, MANAGER, WebApp

from kehu.core.auth import SYSTEM, Principal
from kehu.core.users.tables import User
from kehu.desk import routing
from kehu.desk.schemas import TicketCreate
from kehu.desk.tables import Team, Ticket, TicketEvent
from kehu.desk.ticket_commands import create_ticket
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from staff_support import add_staff

ADMIN = Principal.for_user(1, ["admin"], display_name="Admin")


def _ticket(database: Database, ticket_id: int) -> Ticket:
    with database.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def _assignment(
    client: TestClient, database: Database, ticket_id: int, version: int | None = None, **form: str
):  # type: ignore[no-untyped-def]
    seen = _ticket(database, ticket_id).version if version is None else version
    data = {"csrf_token": CSRF_TOKEN, "expected_version": str(seen), **form}
    return client.post(f"/tickets/{ticket_id}/assignment", data=data)


def _last_event(database: Database, ticket_id: int) -> TicketEvent:
    with database.session() as session:
        event = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.id.desc())
        ).first()
        assert event is not None
        session.expunge(event)
        return event


def _unassigned_front_ticket(database: Database, desk: SeededDesk) -> int:
    with database.session() as session:
        session.execute(
            Ticket.__table__.update()
            .where(Ticket.__table__.c.id == desk.front_ticket)
            .values(assignee_id=None)
        )
    return desk.front_ticket


def test_an_agent_takes_a_ticket_then_frees_it(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    ticket_id = _unassigned_front_ticket(database, desk)
    page = client.get(f"/tickets/{ticket_id}").text
    assert 'id="take-ticket"' in page
    taken = _assignment(client, database, ticket_id, action="claim")
    assert taken.status_code == 303
    assert taken.headers["location"].endswith("?done=claim")
    assert _ticket(database, ticket_id).assignee_id == AGENT.user_id
    event = _last_event(database, ticket_id)
    assert (event.kind, event.after) == ("assigned", {"assignee_id": 2, "claimed": True})
    page = client.get(f"/tickets/{ticket_id}?done=claim").text
    assert "You took the ticket." in page
    assert "Taken" in page
    assert 'id="take-ticket"' not in page
    freed = _assignment(client, database, ticket_id, action="unassign")
    assert freed.status_code == 303
    assert _ticket(database, ticket_id).assignee_id is None


def test_reassigning_offers_only_the_teams_colleagues(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = MANAGER
    ticket_id = _unassigned_front_ticket(database, desk)
    with database.session() as session:
        add_staff(session, 7)
        session.execute(User.__table__.update().where(User.id == 7).values(display_name="林芳"))
        routing.add_team_member(session, SYSTEM, desk.teams["一线客服"], 7)
    page = client.get(f"/tickets/{ticket_id}").text
    offered = re.findall(r'<select id="assignee".*?</select>', page, re.S)[0]
    assert "林芳" in offered and 'value="2"' in offered
    assert 'value="1"' not in offered  # user 1 is no member of the front team
    assert (
        _assignment(client, database, ticket_id, action="assign", assignee_id="2").status_code
        == 303
    )
    reassigned = _assignment(client, database, ticket_id, action="assign", assignee_id="7")
    assert reassigned.status_code == 303
    event = _last_event(database, ticket_id)
    assert (event.before, event.after) == ({"assignee_id": 2}, {"assignee_id": 7})
    outsider = _assignment(client, database, ticket_id, action="assign", assignee_id="1")
    assert outsider.status_code == 422
    assert "Choose a colleague who works in this ticket&#39;s team." in outsider.text
    assert _ticket(database, ticket_id).assignee_id == 7


def test_a_stale_assignment_is_a_conflict_with_the_reason(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    ticket_id = _unassigned_front_ticket(database, desk)
    seen = _ticket(database, ticket_id).version
    assert _assignment(client, database, ticket_id, action="claim").status_code == 303
    stale = _assignment(client, database, ticket_id, version=seen, action="unassign")
    assert stale.status_code == 409
    assert "Someone else changed this ticket" in stale.text
    assert _ticket(database, ticket_id).assignee_id == AGENT.user_id


def test_the_users_page_offers_what_each_role_may_do(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = MANAGER
    page = client.get("/settings/users").text
    assert 'id="invite"' not in page  # inviting is users:admin
    assert 'class="settings-form absence-form"' in page
    assert page.count('data-user="') >= 2
    web.principal = AGENT
    own = client.get("/settings/users").text
    assert own.count('data-user="') == 1 and 'data-user="2"' in own
    refused = client.post(
        "/settings/users/2/role", data={"csrf_token": CSRF_TOKEN, "role": "admin"}
    )
    assert refused.status_code == 403
    other = client.post(
        "/settings/users/1/absence", data={"csrf_token": CSRF_TOKEN, "action": "away"}
    )
    assert other.status_code == 403
    mine = client.post(
        "/settings/users/2/absence",
        data={"csrf_token": CSRF_TOKEN, "action": "away", "through": "2099-01-31"},
    )
    assert mine.status_code == 303
    with database.session() as session:
        user = session.get(User, 2)
        assert user is not None and user.absent and user.absent_until is not None
    assert "Away through" in client.get("/settings/users").text


def test_an_administrator_invites_a_colleague_and_sees_the_password_once(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = ADMIN
    form = {
        "csrf_token": CSRF_TOKEN,
        "display_name": "林芳",
        "email": "Lin.Fang@example.com",
        "role": "agent",
        "locale": "zh-Hans",
    }
    answer = client.post("/settings/users/invite", data=form)
    assert answer.status_code == 200
    password = re.findall(r'id="initial-password">([^<]+)<', answer.text)[0]
    assert len(password) >= web.settings.password_min_length
    with database.session() as session:
        user = session.scalars(select(User).where(User.email == "lin.fang@example.com")).one()
        assert (user.role, user.locale) == ("agent", "zh-Hans")
        assert password not in user.password_hash
    assert password not in client.get("/settings/users").text
    again = client.post("/settings/users/invite", data=form)
    assert again.status_code == 409
    assert "exists already" in again.text
    assert 'value="林芳"' in again.text  # what was typed is kept
    bad = client.post("/settings/users/invite", data={**form, "email": "not an address"})
    assert bad.status_code == 422
    assert "Enter a valid e-mail address." in bad.text


def test_an_administrator_changes_a_role_and_deactivates(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = ADMIN
    with database.session() as session:
        session.execute(User.__table__.update().where(User.id == 1).values(role="admin"))
    changed = client.post(
        "/settings/users/2/role", data={"csrf_token": CSRF_TOKEN, "role": "manager"}
    )
    assert changed.status_code == 303
    off = client.post(
        "/settings/users/2/active", data={"csrf_token": CSRF_TOKEN, "action": "deactivate"}
    )
    assert off.status_code == 303
    with database.session() as session:
        user = session.get(User, 2)
        assert user is not None and (user.role, user.is_active) == ("manager", False)
    last = client.post(
        "/settings/users/1/active", data={"csrf_token": CSRF_TOKEN, "action": "deactivate"}
    )
    assert last.status_code == 409
    assert "last active administrator" in last.text
    back = client.post(
        "/settings/users/2/active", data={"csrf_token": CSRF_TOKEN, "action": "activate"}
    )
    assert back.status_code == 303


def test_a_manager_sets_round_robin_and_a_new_ticket_is_assigned(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = MANAGER
    front = desk.teams["一线客服"]
    page = client.get("/settings/teams").text
    assert f'data-team="{front}"' in page
    set_mode = client.post(
        f"/settings/teams/{front}/assignment",
        data={"csrf_token": CSRF_TOKEN, "assignment_mode": "round_robin"},
    )
    assert set_mode.status_code == 303
    with database.session() as session:
        team = session.get(Team, front)
        assert team is not None and team.assignment_mode == "round_robin"
        customer_id = session.scalar(select(Ticket.customer_id).limit(1))
        assert customer_id is not None
        ticket = create_ticket(
            session,
            SYSTEM,
            TicketCreate(
                customer_id=customer_id,
                kind="inquiry",
                channel="phone",
                subject="Where is my parcel?",
                team_id=front,
            ),
            settings=web.settings,
        )
        assert ticket.assignee_id == 2
    added = client.post(
        "/settings/teams",
        data={"csrf_token": CSRF_TOKEN, "name": "大客户组", "assignment_mode": "least_open"},
    )
    assert added.status_code == 303
    twice = client.post("/settings/teams", data={"csrf_token": CSRF_TOKEN, "name": "大客户组"})
    assert twice.status_code == 409
    with database.session() as session:
        new_team = session.scalars(select(Team).where(Team.name == "大客户组")).one()
        assert new_team.assignment_mode == "least_open"
    member = client.post(
        f"/settings/teams/{new_team.id}/members", data={"csrf_token": CSRF_TOKEN, "user_id": "2"}
    )
    assert member.status_code == 303
    removed = client.post(
        f"/settings/teams/{new_team.id}/members/2/remove", data={"csrf_token": CSRF_TOKEN}
    )
    assert removed.status_code == 303
    web.principal = AGENT
    assert client.get("/settings/teams").status_code == 403


def test_the_pages_in_chinese(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = ADMIN
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    users_page = client.get("/settings/users")
    assert users_page.status_code == 200
    assert "邀请同事" in users_page.text
    teams_page = client.get("/settings/teams")
    assert "自动分配" in teams_page.text
    web.principal = AGENT
    ticket_id = _unassigned_front_ticket(database, desk)
    assert "我来处理" in client.get(f"/tickets/{ticket_id}").text


def test_an_administrator_renames_and_gives_a_new_initial_password(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = ADMIN
    renamed = client.post(
        "/settings/users/2/profile",
        data={"csrf_token": CSRF_TOKEN, "display_name": "李客服", "locale": "zh-Hans"},
    )
    assert renamed.status_code == 303
    with database.session() as session:
        user = session.get(User, 2)
        assert user is not None and (user.display_name, user.locale) == ("李客服", "zh-Hans")
        old_hash = user.password_hash
    empty = client.post(
        "/settings/users/2/profile", data={"csrf_token": CSRF_TOKEN, "display_name": " "}
    )
    assert empty.status_code == 422
    assert "Enter a name." in empty.text
    answer = client.post("/settings/users/2/password", data={"csrf_token": CSRF_TOKEN})
    assert answer.status_code == 200
    password = re.findall(r'id="initial-password">([^<]+)<', answer.text)[0]
    with database.session() as session:
        user = session.get(User, 2)
        assert user is not None and user.password_hash != old_hash
    web.principal = MANAGER
    refused = client.post("/settings/users/2/password", data={"csrf_token": CSRF_TOKEN})
    assert refused.status_code == 403
    assert password not in refused.text
