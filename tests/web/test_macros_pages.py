"""The ticket page's canned replies and files, and the canned replies settings page: macros of the
ticket's team filled in for it (and, without JavaScript, by the page itself), files sent with a
reply or note through the desk's attachment checks (a refused file: a clear message, the typed
text kept, nothing half-done), downloads, and /settings/macros with its refusals."""

from __future__ import annotations

import re
from html import unescape

from desk_support import MACROS, SeededDesk
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from web_support import AGENT, CSRF_TOKEN, WebApp

from kehu.desk.tables import Macro, Ticket, TicketAttachment, TicketMessage
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def version(database: Database, ticket_id: int) -> int:
    with database.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.version


def macro_ids(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {m.name: m.id for m in session.scalars(select(Macro))}


def reply_box(html: str) -> str:
    found = re.search(r'<textarea id="reply-body"[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None
    return unescape(found.group(1))


def offered(html: str) -> dict[str, str]:
    """The picker's macros: name -> the text it fills in."""
    return {
        unescape(name): unescape(text)
        for text, name in re.findall(
            r'<option value="\d+" data-text="([^"]*)" data-language="[^"]*">([^<]*)</option>', html
        )
    }


def send(
    client: TestClient,
    database: Database,
    ticket_id: int,
    route: str,
    body: str,
    file: tuple[str, bytes, str] | None,
) -> Response:
    data = {"csrf_token": CSRF_TOKEN, "expected_version": str(version(database, ticket_id))}
    data["body"] = body
    files = {"attachment": file} if file is not None else {"attachment": ("", b"", "")}
    return client.post(f"/tickets/{ticket_id}/{route}", data=data, files=files)


def test_the_picker_offers_the_teams_macros_filled_in(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    web.principal = AGENT
    ticket = desk.front_ticket
    html = client.get(f"/tickets/{ticket}").text
    choices = offered(html)
    assert set(choices) == {"破损补发", "感谢反馈"}  # not the billing team's
    customer = next(n for n, i in desk.customer_ids.items() if f">{n}</a>" in html)
    assert customer in choices["破损补发"]
    assert choices["破损补发"] == (
        f"Dear {customer}, we are sorry your parcel arrived damaged. We are sending a "
        f"replacement for ticket #{ticket}. Agent Smith, 一线客服"
    )
    assert choices["感谢反馈"] == f"{customer}您好，感谢您的反馈！"  # only in Chinese
    assert 'src="/static/js/ticket_work.js"' in html
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    chinese = offered(client.get(f"/tickets/{ticket}").text)
    assert chinese["破损补发"].startswith(f"{customer}您好，很抱歉包裹破损。")


def test_without_javascript_the_page_fills_the_reply_box(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    ticket = desk.front_ticket
    macro = macro_ids(database)["破损补发"]
    seen = version(database, ticket)
    html = client.get(f"/tickets/{ticket}?macro={macro}&expected_version={seen}").text
    assert reply_box(html).startswith("Dear ") and f"#{ticket}." in reply_box(html)
    assert 'id="action-error"' not in html
    # someone changed the ticket meanwhile: the conflict notice, the filled text kept
    stale = client.get(f"/tickets/{ticket}?macro={macro}&expected_version={seen - 1}").text
    assert "Someone else changed this ticket after you opened it." in stale
    assert reply_box(stale) == reply_box(html)
    billing_macro = macro_ids(database)["Refund confirmed"]
    assert client.get(f"/tickets/{ticket}?macro={billing_macro}").status_code == 404


def test_a_reply_with_a_file_lists_it_and_downloads_it(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    ticket = desk.front_ticket
    response = send(
        client, database, ticket, "reply", "照片见附件。", ("破损.png", PNG, "image/png")
    )
    assert response.status_code == 303, response.text
    with database.session() as session:
        attachment = session.scalars(
            select(TicketAttachment).where(TicketAttachment.ticket_id == ticket)
        ).one()
        message = session.get(TicketMessage, attachment.message_id)
        assert message is not None and message.body == "照片见附件。"
        attachment_id = attachment.id
    html = client.get(response.headers["location"]).text
    files = html.split('id="attachments"', 1)[1].split("</section>", 1)[0]
    assert f'href="/tickets/{ticket}/attachments/{attachment_id}"' in files
    assert "破损.png" in files and "KB" in files
    download = client.get(f"/tickets/{ticket}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "image/png"
    # the same file asked for under another ticket is not found
    wrong = client.get(f"/tickets/{ticket + 1}/attachments/{attachment_id}")
    assert wrong.status_code == 404


def test_a_note_with_a_file(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket
    note = ("notes.txt", "快递单号 SF123".encode(), "text/plain")
    assert send(client, database, ticket, "note", "见附件", note).status_code == 303
    with database.session() as session:
        attachment = session.scalars(
            select(TicketAttachment).where(TicketAttachment.ticket_id == ticket)
        ).one()
        message = session.get(TicketMessage, attachment.message_id)
        assert message is not None and message.internal and message.body == "见附件"


def _nothing_sent(database: Database, ticket: int, body: str) -> None:
    with database.session() as session:
        bodies = session.scalars(
            select(TicketMessage.body).where(TicketMessage.ticket_id == ticket)
        )
        assert body not in list(bodies)
        files = session.scalars(
            select(TicketAttachment).where(TicketAttachment.ticket_id == ticket)
        )
        assert list(files) == []


def test_a_file_over_the_limit_keeps_the_typed_reply(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.settings = web.settings.model_copy(update={"attachment_max_bytes": 1000})
    ticket = desk.front_ticket
    typed = "Dear customer, the photos are attached.\nBest regards"
    big = ("photo.png", PNG + b"\x00" * 2000, "image/png")
    response = send(client, database, ticket, "reply", typed, big)
    assert response.status_code == 422
    assert "The file is too large: attachments may be at most" in response.text
    assert reply_box(response.text) == typed
    _nothing_sent(database, ticket, typed)
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    chinese = send(client, database, ticket, "reply", typed, big)
    assert "文件太大" in chinese.text and reply_box(chinese.text) == typed


def test_a_file_of_a_mismatched_type_keeps_the_typed_text(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket
    typed = "发票见附件"
    fake = ("invoice.pdf", b"MZ\x90\x00 not a pdf \x00\x01", "application/pdf")
    response = send(client, database, ticket, "reply", typed, fake)
    assert response.status_code == 422
    assert "This file cannot be attached" in response.text
    assert reply_box(response.text) == typed
    note = send(
        client, database, ticket, "note", "内部", ("run.exe", b"MZ\x90", "application/x-ms")
    )
    assert note.status_code == 422 and "This file cannot be attached" in note.text
    assert ">内部</textarea>" in note.text
    _nothing_sent(database, ticket, typed)


def test_the_shortcut_list_is_on_the_staff_pages(client: TestClient, desk: SeededDesk) -> None:
    html = client.get("/tickets").text
    assert '<dialog id="shortcuts-help"' in html and 'src="/static/js/shortcuts.js"' in html
    assert "Next ticket in the queue" in html and "<kbd>?</kbd>" in html
    assert client.get("/static/js/shortcuts.js").status_code == 200


# -- the settings page -------------------------------------------------------------------------


def form(**values: str) -> dict[str, str]:
    return {"csrf_token": CSRF_TOKEN, "name": "", "team_id": "", "body_en": "", **values}


def test_settings_lists_creates_edits_and_deletes_macros(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    listed = client.get("/settings/macros").text
    for name, *_ in MACROS:
        assert name in listed
    assert 'href="/settings/macros/new"' in listed
    created = client.post(
        "/settings/macros",
        data=form(name="Delivery delayed", body_en="Hi {customer_name}", body_zh="您好"),
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/settings/macros?done=created"
    assert "The canned reply was added." in client.get(created.headers["location"]).text
    macro = macro_ids(database)["Delivery delayed"]
    edit = client.get(f"/settings/macros/{macro}").text
    assert 'name="expected_version" value="1"' in edit and "{customer_name}" in edit
    team = str(desk.teams["物流组"])
    saved = client.post(
        f"/settings/macros/{macro}",
        data=form(name="Delivery delayed", team_id=team, body_zh="您好", expected_version="1"),
    )
    assert saved.status_code == 303
    with database.session() as session:
        row = session.get(Macro, macro)
        assert row is not None and row.team_id == int(team) and row.body_en == ""
    stale = client.post(
        f"/settings/macros/{macro}",
        data=form(name="Delivery delayed", body_en="typed text", expected_version="1"),
    )
    assert stale.status_code == 409
    assert "Someone else changed this canned reply" in stale.text and "typed text" in stale.text
    refused = client.post(
        f"/settings/macros/{macro}/delete", data={"csrf_token": CSRF_TOKEN, "expected_version": "1"}
    )
    assert refused.status_code == 409 and macro in macro_ids(database).values()
    deleted = client.post(
        f"/settings/macros/{macro}/delete", data={"csrf_token": CSRF_TOKEN, "expected_version": "2"}
    )
    assert deleted.status_code == 303 and macro not in macro_ids(database).values()


def test_settings_refuses_an_unknown_placeholder_naming_it(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    typed = "Hello {customer_name}, your order {order_number} is late."
    refused = client.post("/settings/macros", data=form(name="Late", body_en=typed))
    assert refused.status_code == 422
    assert "Unknown placeholder {order_number}." in unescape(refused.text)
    assert typed in unescape(refused.text)  # kept in its field
    assert (
        'id="macro-body-en" name="body_en" rows="6" maxlength="20000" lang="en" aria-invalid'
        in (refused.text)
    )
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    chinese = client.post("/settings/macros", data=form(name="Late", body_zh="{订单号}"))
    assert "未知的占位符 {订单号}" in unescape(chinese.text)
    empty = client.post("/settings/macros", data=form(name="Late"))
    assert empty.status_code == 422 and "请填写英文或中文回复" in empty.text
    assert "Late" not in macro_ids(database)


def test_agents_see_the_macros_but_may_not_change_them(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    listed = client.get("/settings/macros").text
    assert "破损补发" in listed and "感谢反馈" in listed and "Refund confirmed" not in listed
    assert 'href="/settings/macros/new"' not in listed
    refused = client.post("/settings/macros", data=form(name="Mine", body_en="x"))
    assert refused.status_code == 403
    assert "Mine" not in macro_ids(database)
