"""A public complaint from a new email address with a phone number a customer has is filed for a
new customer, and a possible-duplicate flag is stored (issue 8, defect 9): shown on the ticket
page and on both customers' pages, in both languages, until a staff member confirms it (the new
customer is merged into the known one with the customers domain's merge) or dismisses it (who
and when recorded; it stays dismissed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from desk_support import SETTINGS, SeededDesk
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import AGENT, CSRF_TOKEN, SeededRun, WebApp

from kehu.customers.duplicate_flags import raise_flag
from kehu.customers.tables import Customer, CustomerEvent, DuplicateFlag
from kehu.desk.public import ComplaintForm, file_complaint
from kehu.desk.tables import Ticket
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME


def complaint(database: Database, email: str) -> tuple[int, int]:
    with database.session() as session:
        ack = file_complaint(
            session,
            ComplaintForm(
                name="张先生",
                email=email,
                phone="13800138000",  # 张伟's phone, written without spaces or country code
                subject="杯子又碎了",
                description="第二次收到破损的包裹。",
            ),
            now=datetime.now(UTC),
            client_address=None,
            settings=SETTINGS,
        )
        ticket = session.get(Ticket, ack.ticket_id)
        assert ticket is not None
        return ticket.id, ticket.customer_id


def notices(html: str) -> list[str]:
    return re.findall(r'<div class="notice notice-duplicate"[^>]*>(.*?)</div>\s*</div>', html, re.S)


def flags(database: Database) -> list[DuplicateFlag]:
    with database.session() as session:
        found = list(session.scalars(select(DuplicateFlag).order_by(DuplicateFlag.id)))
        session.expunge_all()
        return found


def flag_form(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the notice's ``confirm`` or ``dismiss`` form, with its action."""
    form = re.search(
        rf'<form method="post" action="(/customers/duplicate-flags/\d+/{action})">(.*?)</form>',
        html,
        re.S,
    )
    assert form is not None, f"no {action} form"
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(2)))
    return {"action": form.group(1), **fields}


def test_a_weak_match_stores_a_flag_shown_on_the_ticket_and_both_customer_pages(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    ticket, customer = complaint(database, "zhang.new@example.com")
    assert customer != zhang  # not silently attached to 张伟
    [flag] = flags(database)
    assert (flag.customer_id, flag.duplicate_of_id, flag.reason, flag.status) == (
        customer,
        zhang,
        "same_phone",
        "open",
    )
    html = client.get(f"/tickets/{ticket}").text
    [notice] = notices(html)
    assert "Possible duplicate of" in notice
    assert f'<a href="/customers/{zhang}">张伟</a>' in notice
    assert "Same phone number" in notice
    assert f'href="/customers/{customer}#duplicates"' in notice
    assert flag_form(html, "confirm")["ticket_id"] == str(ticket)  # a manager may merge
    # the new customer's page and 张伟's page show the same flag
    [on_new] = notices(client.get(f"/customers/{customer}").text)
    assert f'<a href="/customers/{zhang}">张伟</a>' in on_new
    [on_known] = notices(client.get(f"/customers/{zhang}").text)
    assert f'<a href="/customers/{customer}">张先生</a>' in on_known
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    [notice] = notices(client.get(f"/tickets/{ticket}").text)
    assert "可能与此客户重复" in notice and "电话号码相同" in notice and "不是同一客户" in notice


def test_an_exact_email_match_is_the_customer_and_no_flag(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    ticket, customer = complaint(database, "ZHANG.WEI@example.com")
    assert customer == zhang
    assert flags(database) == []
    assert notices(client.get(f"/tickets/{ticket}").text) == []


def test_an_agent_dismisses_the_flag_for_good(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    ticket, customer = complaint(database, "zhang.new@example.com")
    with database.session() as session:  # routed to the agent's team
        filed = session.get(Ticket, ticket)
        assert filed is not None
        filed.team_id = desk.teams["一线客服"]
    web.principal = AGENT
    shown = client.get(f"/tickets/{ticket}")
    assert shown.status_code == 200, shown.status_code
    html = shown.text
    assert "confirm-duplicate" not in html  # an agent may not merge customers
    form = flag_form(html, "dismiss")
    action = form.pop("action")
    answer = client.post(action, data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/tickets/{ticket}?done=duplicate_dismissed"
    page = client.get(answer.headers["location"]).text
    assert notices(page) == [] and "The possible duplicate was dismissed." in page
    [flag] = flags(database)
    assert flag.status == "dismissed" and flag.resolved_by_user_id == AGENT.user_id
    assert flag.resolved_at is not None
    with database.session() as session:
        kinds = set(
            session.scalars(select(CustomerEvent.kind).where(CustomerEvent.customer_id == customer))
        )
        assert {"duplicate_flagged", "duplicate_dismissed"} <= kinds
        # the same pair is never flagged again, whichever way round
        assert raise_flag(session, zhang, customer, "same_phone", now=datetime.now(UTC)) is None
    assert notices(client.get(f"/customers/{zhang}").text) == []
    # dismissing again (a stale page) is a conflict shown in place
    again = client.post(action, data=form)
    assert again.status_code == 409 and "already decided" in again.text


def test_a_manager_confirms_and_the_customers_are_merged(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    ticket, customer = complaint(database, "zhang.new@example.com")
    form = flag_form(client.get(f"/tickets/{ticket}").text, "confirm")
    answer = client.post(form.pop("action"), data=form)
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"]).text
    assert "The possible duplicate was confirmed and merged." in page and notices(page) == []
    [flag] = flags(database)
    assert flag.status == "confirmed" and flag.merge_id is not None
    with database.session() as session:
        merged = session.get(Customer, customer)
        moved = session.get(Ticket, ticket)
        assert merged is not None and merged.merged_into_id == zhang
        assert moved is not None and moved.customer_id == zhang  # the ticket followed


def test_the_forms_need_the_csrf_token(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    ticket, _customer = complaint(database, "zhang.new@example.com")
    form = flag_form(client.get(f"/tickets/{ticket}").text, "dismiss")
    action = form.pop("action")
    assert form["csrf_token"] == CSRF_TOKEN
    refused = client.post(action, data={**form, "csrf_token": "forged"})
    assert refused.status_code != 303
    assert [f.status for f in flags(database)] == ["open"]
