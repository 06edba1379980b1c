"""The ticket queue and the ticket page: SLA order and badges, filters, the agent's actions
(reply, wait for the customer, note, transfer, pause, resume, resolve, reopen) with CSRF and
``expected_version``, stale edits (409), illegal transitions (409 with the reason), both
languages, and the permission layer (another team's ticket is the same 404 as an unknown id)."""

from __future__ import annotations

import re
from html import unescape

from desk_support import SUBJECTS, TEXTS, SeededDesk
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from web_support import AGENT, CSRF_TOKEN, MANAGER, SCRIPT_NAME, WebApp

from kehu.core.auth import SYSTEM, Principal
from kehu.desk import ticket_messages
from kehu.desk.tables import Ticket, TicketEvent, TicketMessage
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from settings_support import DEFAULT_SETTINGS

READER = Principal.for_user(3, ["read_only"], team_ids=[1], display_name="Reader")


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-ticket="(\d+)"', html)]


def without_links_here(html: str) -> str:
    """The page less the language switch's way back (the only place the path appears)."""
    return re.sub(r"next=[^\"]*", "next=", html)


def version(database: Database, ticket_id: int) -> int:
    with database.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.version


def events(database: Database, ticket_id: int) -> list[str]:
    with database.session() as session:
        return list(
            session.scalars(
                select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.id)
            )
        )


def post(
    client: TestClient, database: Database, ticket_id: int, route: str, **form: str
) -> Response:
    data = {"csrf_token": CSRF_TOKEN, "expected_version": str(version(database, ticket_id))}
    data.update(form)
    return client.post(f"/tickets/{ticket_id}/{route}", data=data)


# -- the queue ---------------------------------------------------------------------------------


def test_queue_is_sorted_by_due_time_with_badges(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    response = client.get("/tickets")
    assert response.status_code == 200
    html = response.text
    ids = queue_ids(html)
    with database.session() as session:
        rows = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    dues = [due for i in ids if (due := rows[i].sla_due_at) is not None]
    assert dues == sorted(dues) and len(dues) >= 5
    assert all(rows[i].status_category in ("open", "waiting_on_customer") for i in ids)
    # the nine-day-old ticket nobody answered is overdue; the waiting one is paused, last
    overdue = desk.tickets[SUBJECTS[1]]
    row = html.split(f'<tr data-ticket="{overdue}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="overdue"' in row and "Breached" in row and "Overdue by" in row
    waiting = desk.tickets[SUBJECTS[3]]
    assert ids[-1] == waiting
    assert "Paused: waiting on the customer" in html.split(f'<tr data-ticket="{waiting}"')[1]
    assert "left" in html.split(f'<tr data-ticket="{desk.front_ticket}"')[1].split("</tr>")[0]


def test_queue_filters_by_status_team_and_mine(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    everything = queue_ids(client.get("/tickets?status=all").text)
    assert len(everything) == 12
    resolved = queue_ids(client.get("/tickets?status=resolved").text)
    assert len(resolved) == 5
    waiting = queue_ids(client.get("/tickets?status=waiting_on_customer").text)
    assert waiting == [desk.tickets[SUBJECTS[3]]]
    billing = desk.teams["账务组"]
    assert set(queue_ids(client.get(f"/tickets?team={billing}").text)) == {
        desk.tickets[SUBJECTS[2]],
        desk.tickets[SUBJECTS[7]],
    }
    assert queue_ids(client.get("/tickets?mine=1").text) == []  # nothing is assigned yet


def test_agent_sees_only_their_teams_tickets(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    web.principal = AGENT
    html = client.get("/tickets?status=all").text
    ids = set(queue_ids(html))
    assert desk.front_ticket in ids and desk.other_team_ticket not in ids
    # nor is another team offered as a filter (a transfer may still go to any team)
    team_filter = html.split('id="filter-team"', 1)[1].split("</select>", 1)[0]
    assert "一线客服" in team_filter and "账务组" not in team_filter
    # a team the agent is not in, asked for by id, shows their own tickets only
    assert desk.other_team_ticket not in queue_ids(
        client.get(f"/tickets?team={desk.teams['账务组']}").text
    )


def test_agent_gets_the_same_404_for_another_teams_ticket_as_for_an_unknown_one(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    web.principal = AGENT
    other = client.get(f"/tickets/{desk.other_team_ticket}")
    unknown = client.get("/tickets/999999")
    assert other.status_code == unknown.status_code == 404
    assert without_links_here(other.text) == without_links_here(unknown.text)
    assert SUBJECTS[2] not in other.text
    # and cannot act on it either
    response = client.post(
        f"/tickets/{desk.other_team_ticket}/reply",
        data={"csrf_token": CSRF_TOKEN, "expected_version": "1", "body": "hello"},
    )
    assert response.status_code == 404
    assert without_links_here(response.text) == without_links_here(unknown.text)


# -- the ticket page ---------------------------------------------------------------------------


def test_ticket_page_shows_conversation_notes_promise_and_events(
    client: TestClient, desk: SeededDesk
) -> None:
    response = client.get(f"/tickets/{desk.front_ticket}")
    assert response.status_code == 200
    html = response.text
    assert SUBJECTS[0] in html
    assert '<li class="message message-customer">' in html
    assert '<li class="message message-reply">' in html
    note = html.split('<li class="message message-note">', 1)[1].split("</li>", 1)[0]
    assert "Internal note" in note and "客户是老客户" in note
    sla = html.split('id="sla"', 1)[1].split("</section>", 1)[0]
    assert "标准服务承诺" in sla and "First response" in sla and "Resolution" in sla
    assert "Kept" in sla and "Running" in sla and "business hours" in sla
    for title in ("Ticket filed", "Reply sent to the customer", "The customer wrote"):
        assert title in html
    for form in ("reply", "note", "transfer", "status"):
        assert f'action="/tickets/{desk.front_ticket}/{form}"' in html
    assert f'name="csrf_token" value="{CSRF_TOKEN}"' in html
    assert 'name="expected_version" value="' in html


def test_ticket_page_in_chinese(client: TestClient, desk: SeededDesk) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(f"/tickets/{desk.front_ticket}").text
    for text in ("服务承诺", "首次响应", "内部备注", "回复客户", "转接", "事件", "工单已提交"):
        assert text in html
    assert re.search(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", html)


def test_agent_replies_notes_transfers_pauses_resumes_resolves_and_reopens(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    ticket = desk.front_ticket
    seeded_events = len(events(database, ticket))
    response = post(client, database, ticket, "reply", body="我们已安排补发。")
    assert response.status_code == 303
    assert response.headers["location"] == f"/tickets/{ticket}?done=reply"
    page = client.get(response.headers["location"]).text
    assert "Your reply was sent to the customer." in page and "我们已安排补发。" in page

    assert post(client, database, ticket, "note", body="补发单号 SF123").status_code == 303
    assert post(client, database, ticket, "status", action="pause").status_code == 303
    assert client.get(f"/tickets/{ticket}").text.count("Waiting on the customer") >= 1
    assert post(client, database, ticket, "status", action="resume").status_code == 303
    assert (
        post(client, database, ticket, "status", action="resolve", resolution="已补发").status_code
        == 303
    )
    assert post(client, database, ticket, "status", action="reopen").status_code == 303
    assert (
        post(
            client, database, ticket, "reply", body="请确认是否收到。", wait_for_customer="1"
        ).status_code
        == 303
    )
    with database.session() as session:
        current = session.get(Ticket, ticket)
        assert current is not None and current.status == "waiting_on_customer"
    billing = desk.teams["账务组"]
    assert (
        post(
            client, database, ticket, "transfer", team_id=str(billing), reason="涉及退款"
        ).status_code
        == 303
    )
    assert events(database, ticket)[seeded_events:] == [
        "replied",
        "note_added",
        "paused",
        "resumed",
        "resolved",
        "reopened",
        "replied",
        "paused",
        "transferred",
    ]
    # transferred away: the agent no longer sees the ticket; a manager sees every event
    assert client.get(f"/tickets/{ticket}").status_code == 404
    web.principal = MANAGER
    html = client.get(f"/tickets/{ticket}").text
    for title in (
        "Internal note added",
        "Waiting on the customer (clock paused)",
        "Resumed (clock running)",
        "Reopened",
        "Transferred to another team",
    ):
        assert title in html
    assert "From 一线客服 to 账务组 · 涉及退款" in html


def test_a_stale_edit_is_refused_with_a_translated_message(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket
    seen = version(database, ticket)
    assert post(client, database, ticket, "note", body="first").status_code == 303
    for code, message in (
        ("en", "Someone else changed this ticket after you opened it."),
        ("zh-Hans", "在您打开此工单后，其他人已修改了它。"),
    ):
        client.cookies.set(COOKIE_NAME, code)
        for action, form in (
            ("reply", {"body": "late"}),
            ("note", {"body": "late"}),
            ("status", {"action": "resolve"}),
            ("transfer", {"team_id": str(desk.teams["物流组"])}),
        ):
            response = client.post(
                f"/tickets/{ticket}/{action}",
                data={"csrf_token": CSRF_TOKEN, "expected_version": str(seen), **form},
            )
            assert response.status_code == 409, (code, action)
            assert message in response.text, (code, action)
    with database.session() as session:
        bodies = session.scalars(
            select(TicketMessage.body).where(TicketMessage.ticket_id == ticket)
        ).all()
    assert "late" not in bodies
    assert events(database, ticket)[-1] == "note_added"


def test_illegal_transitions_show_the_reason(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.tickets[SUBJECTS[4]]  # resolved
    before = version(database, ticket)
    response = post(client, database, ticket, "status", action="pause")
    assert response.status_code == 409
    assert "A resolved ticket must be reopened before it can wait on the customer." in response.text
    assert version(database, ticket) == before  # nothing changed, not even the version
    response = post(client, database, ticket, "status", action="resume")
    assert response.status_code == 409
    assert "Only a ticket that waits on the customer can be resumed." in response.text
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    response = post(client, database, ticket, "status", action="resolve")
    assert response.status_code == 409 and "此工单已解决。" in response.text
    open_ticket = desk.front_ticket
    same_team = str(desk.teams["一线客服"])
    response = post(client, database, open_ticket, "transfer", team_id=same_team)
    assert response.status_code == 409 and "此工单已在该团队。" in response.text


def test_bad_input_csrf_and_read_only(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket
    response = post(client, database, ticket, "reply", body="   ")
    assert response.status_code == 422 and "Write a message first." in response.text
    response = post(client, database, ticket, "transfer", team_id="")
    assert response.status_code == 422
    response = post(client, database, ticket, "reply", body="hi", csrf_token="wrong")
    assert response.status_code == 403
    response = client.post(f"/tickets/{ticket}/reply", data={"expected_version": "1", "body": "hi"})
    assert response.status_code == 403
    assert post(client, database, ticket, "status", action="explode").status_code == 422
    web.principal = READER
    assert client.get(f"/tickets/{ticket}").status_code == 200
    assert 'action="/tickets/' not in client.get(f"/tickets/{ticket}").text
    assert post(client, database, ticket, "note", body="x").status_code == 403
    assert events(database, ticket)[-1] == "note_added"  # the seed's note, nothing new


def test_script_in_ticket_text_is_shown_as_text(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket
    assert post(client, database, ticket, "reply", body=SCRIPT_NAME).status_code == 303
    assert post(client, database, ticket, "note", body=SCRIPT_NAME).status_code == 303
    transfer = post(
        client, database, ticket, "transfer", team_id=str(desk.teams["物流组"]), reason=SCRIPT_NAME
    )
    assert transfer.status_code == 303
    html = client.get(f"/tickets/{ticket}").text
    assert SCRIPT_NAME not in html
    assert unescape(html).count(SCRIPT_NAME) >= 3


# -- similar tickets, close, priority ----------------------------------------------------------


def _file(database: Database, customer_id: int, subject: str, team_id: int) -> int:
    from kehu.core.auth import SYSTEM
    from kehu.desk import ticket_commands
    from kehu.desk.schemas import TicketCreate

    with database.session() as session:
        ticket = ticket_commands.create_ticket(
            session,
            SYSTEM,
            TicketCreate(
                customer_id=customer_id,
                subject=subject,
                team_id=team_id,
                kind="complaint",
                channel="email",
            ),
            settings=DEFAULT_SETTINGS,
        )
        return ticket.id


def test_similar_tickets_are_scoped_explained_linked_and_escaped(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    front = desk.front_ticket
    zhang = desk.customer_ids["张伟"]
    mine = _file(database, zhang, SCRIPT_NAME, desk.teams["一线客服"])
    hidden = _file(database, zhang, "another team's matter", desk.teams["账务组"])
    web.principal = AGENT
    html = client.get(f"/tickets/{front}").text
    panel = html.split('id="similar"', 1)[1].split("</section>", 1)[0]
    assert f'href="/tickets/{mine}"' in panel
    assert "Same customer" in panel and "Still open" in panel and "Same kind" in panel
    assert SCRIPT_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in panel
    # another team's ticket of the same customer is outside the agent's scope
    assert f'href="/tickets/{hidden}"' not in html and "another team" not in html
    web.principal = MANAGER
    panel = client.get(f"/tickets/{front}").text.split('id="similar"', 1)[1]
    assert f'href="/tickets/{hidden}"' in panel.split("</section>", 1)[0]
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    panel = client.get(f"/tickets/{front}").text.split('id="similar"', 1)[1]
    panel = panel.split("</section>", 1)[0]
    assert "相似工单" in panel and "同一客户" in panel and "仍未结" in panel


def test_close_a_resolved_ticket(client: TestClient, database: Database, desk: SeededDesk) -> None:
    resolved = desk.tickets[SUBJECTS[4]]
    assert 'value="close"' in client.get(f"/tickets/{resolved}").text
    assert 'value="close"' not in client.get(f"/tickets/{desk.front_ticket}").text
    response = post(client, database, desk.front_ticket, "status", action="close")
    assert response.status_code == 409
    assert "Only a resolved ticket can be closed." in response.text
    response = post(client, database, resolved, "status", action="close")
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/tickets/{resolved}?done=close")
    assert events(database, resolved)[-1] == "closed"
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(response.headers["location"]).text
    assert "工单已关闭。" in html and 'id="actions"' not in html
    again = post(client, database, resolved, "priority", priority="high")
    assert again.status_code == 409 and "此工单已关闭" in again.text


def test_change_priority(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket
    web.principal = AGENT
    seen = version(database, ticket)
    response = post(client, database, ticket, "priority", priority="urgent")
    assert response.status_code == 303
    assert events(database, ticket)[-1] == "priority_changed"
    html = client.get(f"/tickets/{ticket}?done=priority").text
    assert "The priority was changed." in html
    assert '<option value="urgent" selected>Urgent</option>' in html
    response = post(client, database, ticket, "priority", priority="whenever")
    assert response.status_code == 422 and "Choose a priority." in response.text
    for code, message in (
        ("en", "Someone else changed this ticket after you opened it."),
        ("zh-Hans", "在您打开此工单后，其他人已修改了它。"),
    ):
        client.cookies.set(COOKIE_NAME, code)
        stale = client.post(
            f"/tickets/{ticket}/priority",
            data={"csrf_token": CSRF_TOKEN, "expected_version": str(seen), "priority": "low"},
        )
        assert stale.status_code == 409 and message in stale.text
    assert post(
        client, database, ticket, "priority", priority="low", csrf_token="x"
    ).status_code == (403)
    web.principal = READER
    assert 'action="/tickets/' not in client.get(f"/tickets/{ticket}").text
    assert post(client, database, ticket, "priority", priority="low").status_code == 403
    with database.session() as session:
        current = session.get(Ticket, ticket)
        assert current is not None and current.priority == "urgent"


# -- issue 8: transfers away, staff names, typed text kept, the queue's badge ------------------


def _notice(html: str) -> str:
    return unescape(html.split('<p class="notice" role="status">', 1)[1].split("</p>", 1)[0])


def test_an_agent_who_transfers_a_ticket_away_lands_on_their_queue_with_a_confirmation(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    ticket = desk.front_ticket
    billing = desk.teams["账务组"]
    response = post(client, database, ticket, "transfer", team_id=str(billing), reason="涉及退款")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.split("?", 1)[0] == "/tickets"
    queue_page = client.get(location)
    assert queue_page.status_code == 200
    assert _notice(queue_page.text) == f"Ticket #{ticket} transferred to 账务组."
    assert ticket not in queue_ids(queue_page.text)  # it left the agent's queue
    assert events(database, ticket)[-1] == "transferred"
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    assert _notice(client.get(location).text) == f"工单 #{ticket} 已转给 账务组。"
    # the ticket itself is out of the agent's reach, as before
    assert client.get(f"/tickets/{ticket}").status_code == 404


def test_an_agent_who_still_sees_the_ticket_after_a_transfer_lands_on_it(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = Principal.for_user(2, ["agent"], team_ids=[1, 3], display_name="Agent")
    ticket = desk.front_ticket
    logistics = desk.teams["物流组"]
    response = post(client, database, ticket, "transfer", team_id=str(logistics))
    assert response.status_code == 303
    assert response.headers["location"] == f"/tickets/{ticket}?done=transfer"
    html = client.get(response.headers["location"]).text
    assert _notice(html) == "The ticket was transferred."
    assert 'id="ticket-team">物流组<' in html
    # a manager sees every team: back on the ticket too
    web.principal = MANAGER
    response = post(client, database, ticket, "transfer", team_id=str(desk.teams["账务组"]))
    assert response.headers["location"] == f"/tickets/{ticket}?done=transfer"


def test_a_confirmation_names_only_a_known_team(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    web.principal = AGENT
    for query in ("transferred=5&to=999", "transferred=x&to=1", "to=1", "transferred=5"):
        html = client.get(f"/tickets?{query}").text
        assert '<p class="notice" role="status">' not in html, query


def _name_staff(database: Database, names: dict[int, str]) -> None:
    from kehu.core.users.tables import User

    with database.session() as session:
        for user_id, display_name in names.items():
            user = session.get(User, user_id)
            assert user is not None
            user.display_name = display_name


def test_every_viewer_sees_colleagues_by_their_names(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    from kehu.desk import ticket_commands

    _name_staff(database, {1: "王经理", 2: "Agent Smith"})
    ticket = desk.front_ticket
    web.principal = MANAGER
    assert post(client, database, ticket, "note", body="经理的备注").status_code == 303
    with database.session() as session:
        ticket_commands.assign(session, MANAGER, ticket, 2, settings=DEFAULT_SETTINGS)

    def message(html: str, text: str) -> str:
        return next(li for li in html.split("<li class=") if text in li)

    # the agent sees the manager's note and events by the manager's name, and the assignee
    web.principal = AGENT
    html = client.get(f"/tickets/{ticket}").text
    assert "王经理" in message(html, "经理的备注")
    assert "Agent Smith" in message(html, TEXTS[1])  # the seed's reply, the agent's own
    events_panel = html.split('id="events"', 1)[1].split("</section>", 1)[0]
    note_event = events_panel.split('data-event="note_added"')[1].split("</li>", 1)[0]
    assert "王经理" in note_event  # the latest note, the manager's
    assigned = events_panel.split('data-event="assigned"')[1].split("</li>", 1)[0]
    assert "王经理" in assigned and "Agent Smith" in assigned  # who assigned it, to whom
    assert 'id="ticket-assignee">Agent Smith<' in html
    assert not re.search(r"User \d", html)
    # the manager sees the agent's reply by the agent's name; in Chinese too
    web.principal = MANAGER
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(f"/tickets/{ticket}").text
    assert "Agent Smith" in message(html, TEXTS[1])
    assert "王经理" in message(html, "经理的备注")
    assert 'id="ticket-assignee">Agent Smith<' in html
    assert not re.search(r"用户 \d", html)


def _field(html: str, element: str) -> str:
    """The opening tag (and, for a textarea, the text) of the element with id ``element``."""
    start = html.index(f'id="{element}"')
    return unescape(html[html.rindex("<", 0, start) : html.index("</", start)])


def _form_version(html: str, form: str) -> str:
    part = html.split(f'class="action-form {form}"', 1)[1].split("</form>", 1)[0]
    found = re.search(r'name="expected_version" value="(\d+)"', part)
    assert found is not None
    return found.group(1)


def test_text_typed_before_a_conflict_is_kept_and_can_be_sent(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket
    seen = str(version(database, ticket))
    assert post(client, database, ticket, "note", body="someone else's note").status_code == 303
    typed = f"补发单号 SF987 {SCRIPT_NAME}"
    for code in ("en", "zh-Hans"):
        client.cookies.set(COOKIE_NAME, code)
        stale = {"csrf_token": CSRF_TOKEN, "expected_version": seen}
        reply = client.post(
            f"/tickets/{ticket}/reply", data={**stale, "body": typed, "wait_for_customer": "1"}
        )
        assert reply.status_code == 409
        assert SCRIPT_NAME not in reply.text  # kept as text
        assert _field(reply.text, "reply-body").endswith(typed)
        assert "checked" in _field(reply.text, "wait-for-customer")
        assert _field(reply.text, "note-body").endswith(">")  # only the failed form is filled
        note = client.post(f"/tickets/{ticket}/note", data={**stale, "body": typed + " note"})
        assert note.status_code == 409
        assert _field(note.text, "note-body").endswith(typed + " note")
        assert _field(note.text, "reply-body").endswith(">")
        transfer = client.post(
            f"/tickets/{ticket}/transfer",
            data={**stale, "team_id": str(desk.teams["物流组"]), "reason": "运费理赔"},
        )
        assert transfer.status_code == 409
        assert 'value="运费理赔"' in _field(transfer.text, "transfer-reason")
        assert f'<option value="{desk.teams["物流组"]}" selected>' in transfer.text
        resolve = client.post(
            f"/tickets/{ticket}/status", data={**stale, "action": "resolve", "resolution": "已补发"}
        )
        assert resolve.status_code == 409
        assert 'value="已补发"' in _field(resolve.text, "resolution")
    # blank input (422) keeps the form as typed too
    blank = post(client, database, ticket, "reply", body="   ", wait_for_customer="1")
    assert blank.status_code == 422 and "checked" in _field(blank.text, "wait-for-customer")
    # after checking, the kept reply is sent with the version the page now shows
    again = client.post(
        f"/tickets/{ticket}/reply",
        data={
            "csrf_token": CSRF_TOKEN,
            "expected_version": _form_version(reply.text, "reply-form"),
            "body": typed,
        },
    )
    assert again.status_code == 303
    with database.session() as session:
        bodies = session.scalars(
            select(TicketMessage.body).where(TicketMessage.ticket_id == ticket)
        ).all()
    assert typed in bodies and bodies.count(typed) == 1


def test_the_queue_badge_of_a_broken_promise_says_it_once(
    client: TestClient, desk: SeededDesk
) -> None:
    overdue = desk.tickets[SUBJECTS[1]]

    def row(html: str) -> str:
        return html.split(f'<tr data-ticket="{overdue}"', 1)[1].split("</tr>", 1)[0]

    english = row(client.get("/tickets").text)
    assert "Breached" in english and "Overdue by" in english
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    chinese = row(client.get("/tickets").text)
    badge = chinese.split('class="badge badge-breached">', 1)[1].split("</span>", 1)[0]
    assert badge == "未兑现" and chinese.count("已超时") == 1


def test_a_staff_reply_without_an_author_is_the_systems_not_the_customers(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    ticket_id = next(iter(desk.tickets.values()))
    with database.session() as session:
        ticket_messages.reply(
            session, SYSTEM, ticket_id, "An automatic reply", settings=DEFAULT_SETTINGS
        )
    html = client.get(f"/tickets/{ticket_id}").text
    bubble = re.search(
        r'<li class="message message-reply">\s*<p class="message-meta">([^<]*)</p>'
        r'\s*<div class="message-body">An automatic reply</div>',
        html,
    )
    assert bubble is not None, html
    assert bubble.group(1).startswith("System · ")
