"""A public complaint from a new email address with a phone number a customer has is filed for a
new customer, and the ticket page tells the agent "Possible duplicate of <customer>" with links
to that customer and to the merge on the 360 page, in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from desk_support import SETTINGS, SeededDesk
from fastapi.testclient import TestClient
from web_support import SeededRun

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
    return re.findall(r'<p class="notice notice-duplicate"[^>]*>(.*?)</p>', html, re.S)


def test_a_weak_match_is_a_new_customer_with_a_possible_duplicate_notice(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    ticket, customer = complaint(database, "zhang.new@example.com")
    assert customer != zhang  # not silently attached to 张伟
    html = client.get(f"/tickets/{ticket}").text
    [notice] = notices(html)
    assert "Possible duplicate of" in notice
    assert f'<a href="/customers/{zhang}">张伟</a>' in notice
    assert "Same phone" in notice
    assert f'href="/customers/{customer}#duplicates"' in notice
    # the 360 page of the new customer offers the merge with 张伟
    page = client.get(f"/customers/{customer}").text
    panel = page.split('id="duplicates"', 1)[1].split("</section>", 1)[0]
    assert f'data-customer="{zhang}"' in panel and 'name="duplicate_id"' in panel
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    [notice] = notices(client.get(f"/tickets/{ticket}").text)
    assert "可能与此客户重复" in notice and "核对并合并" in notice


def test_an_exact_email_match_is_the_customer_and_no_notice(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    ticket, customer = complaint(database, "ZHANG.WEI@example.com")
    assert customer == zhang
    assert notices(client.get(f"/tickets/{ticket}").text) == []
