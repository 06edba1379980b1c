"""SLA events on the ticket page and the customer 360 timeline: dated when the promise broke (or
the warning threshold was crossed), naming the promise and its due time, in both languages.

A ticket has two promises (first response and resolution), so a ticket that broke both shows
two warnings and two breaches: one of each per promise, never the same one twice."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from desk_support import SETTINGS, SeededDesk
from fastapi.testclient import TestClient

from kehu.core.auth import SYSTEM
from kehu.customers import service as customers
from kehu.customers.schemas import CustomerCreate
from kehu.desk.schemas import TicketCreate
from kehu.desk.ticket_commands import create_ticket
from kehu.desk.worker import sla_check
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(d: int, h: int) -> datetime:
    return datetime(2026, 3, d, h, tzinfo=SHANGHAI)


def late_ticket(database: Database, desk: SeededDesk) -> tuple[int, int]:
    """A new customer's ticket filed Monday 23 March 09:00 (Shanghai office hours: first
    response due 13:00, resolution 16 h: Tuesday 17:00), checked only on Wednesday 10:00."""
    with database.session() as session:
        customer = customers.create_customer(session, SYSTEM, CustomerCreate(name="迟到的客户"))
        ticket = create_ticket(
            session,
            SYSTEM,
            TicketCreate(
                customer_id=customer.id,
                subject="一直没人回复",
                team_id=desk.teams["一线客服"],
                kind="complaint",
                channel="web_form",
            ),
            now=sh(23, 9),
            settings=SETTINGS,
        )
        ids = customer.id, ticket.id
    assert sla_check(database, sh(25, 10), settings=SETTINGS).alerts == 4
    return ids


def titles(html: str, css: str) -> list[str]:
    return [
        unescape(re.sub(r"<[^>]+>", "", t)).replace("\u202f", " ").strip()
        for t in re.findall(rf'<span class="{css}">(.*?)</span>', html, re.S)
    ]


EXPECTED_EN = [
    "Close to its service promise: first response (due 3/23/26, 1:00 PM)",
    "Service promise broken: first response (due 3/23/26, 1:00 PM)",
    "Close to its service promise: resolution (due 3/24/26, 5:00 PM)",
    "Service promise broken: resolution (due 3/24/26, 5:00 PM)",
]
EXPECTED_ZH = [
    "即将超出服务承诺：首次响应（应于 2026/3/23 13:00 前完成）",
    "服务承诺未兑现：首次响应（应于 2026/3/23 13:00 前完成）",
    "即将超出服务承诺：解决（应于 2026/3/24 17:00 前完成）",
    "服务承诺未兑现：解决（应于 2026/3/24 17:00 前完成）",
]


def test_the_ticket_page_names_each_broken_promise_at_the_moment_it_broke(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    _, ticket = late_ticket(database, desk)
    html = client.get(f"/tickets/{ticket}").text
    events = html.split('id="events"', 1)[1].split("</section>", 1)[0]
    sla = [t for t in titles(events, "event-title") if "promise" in t]
    assert sla == list(reversed(EXPECTED_EN))  # newest first
    # each dated at its own moment (Tuesday 17:00 and 13:00, Monday 13:00 and 12:00), not at
    # Wednesday 10:00 when the check noticed
    moments = re.findall(r'data-event="sla_\w+">.*?<time datetime="([^"]+)"', events, re.S)
    assert [datetime.fromisoformat(m) for m in moments] == [
        sh(24, 17),
        sh(24, 13),
        sh(23, 13),
        sh(23, 12),
    ]
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(f"/tickets/{ticket}").text
    events = html.split('id="events"', 1)[1].split("</section>", 1)[0]
    assert [t for t in titles(events, "event-title") if "服务承诺" in t] == list(
        reversed(EXPECTED_ZH)
    )


def test_the_360_timeline_names_the_two_promises_instead_of_repeating_one(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    customer, _ = late_ticket(database, desk)
    html = client.get(f"/customers/{customer}").text
    sla = [t for t in titles(html, "timeline-title") if "promise" in t]
    assert sla == list(reversed(EXPECTED_EN))  # newest first
    assert len(set(sla)) == 4
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(f"/customers/{customer}").text
    assert [t for t in titles(html, "timeline-title") if "服务承诺" in t] == list(
        reversed(EXPECTED_ZH)
    )
