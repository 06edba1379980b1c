"""The bell and /notifications: a colleague's @mention in a note reaches the agent's list and
the bell's count; opening it marks it read and lands on the ticket; "mark all read"; the e-mail
choice; the ticket page shows mentions highlighted, and refuses a mention of someone who cannot
see the ticket in place, naming them and keeping the typed note."""

from __future__ import annotations

import re

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import AGENT, CSRF_TOKEN, MANAGER, WebApp

from kehu.core.notifications import Notification
from kehu.core.users.tables import User
from kehu.desk.tables import Ticket
from kehu.web.i18n import COOKIE_NAME
from staff_support import add_staff

OUTSIDER = 7  # an agent in no team: sees no team's ticket


def note(client: TestClient, web: WebApp, ticket_id: int, body: str) -> object:
    with web.database.session() as session:
        ticket = session.get_one(Ticket, ticket_id)
        version = ticket.version
    return client.post(
        f"/tickets/{ticket_id}/note",
        data={"csrf_token": CSRF_TOKEN, "expected_version": str(version), "body": body},
    )


def prepare(web: WebApp) -> None:
    """User 1 (the manager's principal) is a manager in the store too; an outsider agent."""
    with web.database.session() as session:
        add_staff(session, OUTSIDER)
        session.get_one(User, 1).role = "manager"
        session.get_one(User, 1).display_name = MANAGER.display_name
        session.get_one(User, 2).display_name = AGENT.display_name


def test_a_mention_reaches_the_bell_and_opens_the_ticket(
    web: WebApp, client: TestClient, desk: SeededDesk
) -> None:
    prepare(web)
    ticket_id = desk.front_ticket
    web.principal = MANAGER
    sent = note(client, web, ticket_id, "@staff2 请回电客户")
    assert sent.status_code == 303, sent.text  # type: ignore[attr-defined]

    web.principal = AGENT
    badge = client.get("/notifications/badge")
    assert badge.status_code == 200 and 'data-unread="1"' in badge.text
    queue = client.get("/tickets").text
    assert "data-bell" in queue and 'hx-get="/notifications/badge"' in queue
    listed = client.get("/notifications")
    assert listed.status_code == 200
    assert f"王经理 mentioned you on ticket #{ticket_id}" in listed.text
    assert "1 unread notification" in listed.text
    found = re.search(r'action="/notifications/(\d+)/open"', listed.text)
    assert found is not None
    opened = client.post(f"/notifications/{found[1]}/open", data={"csrf_token": CSRF_TOKEN})
    assert opened.status_code == 303 and opened.headers["location"] == f"/tickets/{ticket_id}"
    assert "data-unread" not in client.get("/notifications/badge").text
    assert "Nothing unread." in client.get("/notifications").text

    # the manager cannot open the agent's
    web.principal = MANAGER
    other = client.post(f"/notifications/{found[1]}/open", data={"csrf_token": CSRF_TOKEN})
    assert other.status_code == 404


def test_the_ticket_page_highlights_mentions(
    web: WebApp, client: TestClient, desk: SeededDesk
) -> None:
    prepare(web)
    web.principal = MANAGER
    note(client, web, desk.front_ticket, "Ask @staff2 about <b>it</b>, not ana@example.com")
    page = client.get(f"/tickets/{desk.front_ticket}").text
    assert '<mark class="mention" data-mention="2" title="Agent Smith">@staff2</mark>' in page
    assert "&lt;b&gt;it&lt;/b&gt;" in page  # the rest is still escaped
    assert 'data-mentions="/tickets/' in page and "js/mentions.js" in page
    colleagues = client.get(f"/tickets/{desk.front_ticket}/mentionable").json()
    usernames = {c["username"] for c in colleagues}
    assert {"staff1", "staff2"} <= usernames and f"staff{OUTSIDER}" not in usernames


def test_a_mention_of_someone_who_cannot_see_the_ticket_is_refused_in_place(
    web: WebApp, client: TestClient, desk: SeededDesk
) -> None:
    prepare(web)
    web.principal = MANAGER
    typed = f"@staff{OUTSIDER} could you check?"
    refused = note(client, web, desk.front_ticket, typed)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    assert f"Staff {OUTSIDER} cannot see this ticket, so the mention was not saved" in html
    assert typed in html  # the note is kept in its box
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    chinese = note(client, web, desk.front_ticket, typed)
    assert f"Staff {OUTSIDER} 无权查看此工单" in chinese.text  # type: ignore[attr-defined]
    with web.database.session() as session:
        assert session.scalars(select(Notification)).all() == []


def test_mark_all_read_and_the_email_choice(
    web: WebApp, client: TestClient, desk: SeededDesk
) -> None:
    prepare(web)
    web.principal = MANAGER
    note(client, web, desk.front_ticket, "@staff2 one")
    note(client, web, desk.front_ticket, "@Agent Smith two")
    web.principal = AGENT
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    page = client.get("/notifications").text
    assert "2 条未读通知" in page and "全部标为已读" in page
    done = client.post("/notifications/read-all", data={"csrf_token": CSRF_TOKEN})
    assert done.status_code == 303
    assert "没有未读通知。" in client.get("/notifications").text
    assert client.post("/notifications/read-all", data={"csrf_token": "wrong"}).status_code == 403
    off = client.post("/notifications/email", data={"csrf_token": CSRF_TOKEN})
    assert off.status_code == 303
    assert 'name="email" value="1" checked' not in client.get("/notifications").text
    client.post("/notifications/email", data={"csrf_token": CSRF_TOKEN, "email": "1"})
    assert 'name="email" value="1" checked' in client.get("/notifications").text
