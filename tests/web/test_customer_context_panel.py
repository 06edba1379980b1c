"""The customer panel beside the ticket (issue 8, must 4): a manager sees the value tier and the
lifetime value, an agent without value rights the tier only; the customer's other tickets among
those the viewer may read (another team's left out, uncounted), the latest purchases, the effort
so far and the consent per channel, in both languages."""

from __future__ import annotations

import re
from datetime import timedelta

from desk_support import SETTINGS, SeededDesk
from fastapi.testclient import TestClient
from web_support import AGENT, MANAGER, SeededRun, WebApp

from kehu.core.auth import SYSTEM, Principal
from kehu.core.i18n import Translator
from kehu.core.money import Money
from kehu.desk import ticket_commands
from kehu.desk.schemas import TicketCreate
from kehu.store.base import utc_now
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME

READER = Principal.for_user(3, ["read_only"], team_ids=[1], display_name="Reader")


def panel(html: str) -> str:
    found = re.search(r'<section class="panel customer-context".*?</section>', html, re.S)
    assert found is not None, "no customer panel on the ticket page"
    return found.group(0)


def other_team_ticket_of_zhang(database: Database, desk: SeededDesk) -> int:
    """A second open ticket of 张伟, in team 2 (not the test agent's)."""
    with database.session() as session:
        ticket = ticket_commands.create_ticket(
            session,
            SYSTEM,
            TicketCreate(
                customer_id=desk.customer_ids["张伟"],
                kind="inquiry",
                channel="email",
                subject="发票抬头写错了",
                team_id=2,
            ),
            now=utc_now() - timedelta(hours=1),
            settings=SETTINGS,
        )
        return ticket.id


def test_a_manager_sees_tier_and_lifetime_value_and_every_team_ticket(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    other = other_team_ticket_of_zhang(database, desk)
    html = panel(client.get(f"/tickets/{desk.front_ticket}").text)
    tier = seeded.tiers["张伟"]
    assert f'<span class="tier tier-{tier}">' in html
    clv = Translator("en").format_money(Money(seeded.clv_minor["张伟"], "CNY"))
    assert "Lifetime value" in html
    assert re.search(r'class="num context-clv">\s*' + re.escape(clv), html)
    # the other team's ticket is listed for a manager (every team), this ticket is not
    assert f'data-ticket="{other}"' in html
    assert f'data-ticket="{desk.front_ticket}"' not in html
    assert "Only your teams" not in html
    # purchases: the latest three of four (newest first), with the count
    purchases = re.findall(r"SO-2026\d+", html)
    assert len(purchases) == 3 and purchases == sorted(purchases, reverse=True)
    assert "4 purchases in all." in html
    # effort and consent per channel
    assert re.search(r"Tickets \d+ · contacts \d+ · transfers \d+ · repeats \d+", html)
    assert re.search(r'data-channel="email">[^<]*<span class="consent-granted">', html)
    assert re.search(r'data-channel="sms">.*?<span class="preference-refused">', html)


def test_an_agent_sees_the_tier_only_and_only_their_teams_tickets(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    other = other_team_ticket_of_zhang(database, desk)
    web.principal = AGENT
    assert not AGENT.can("value:read")
    html = panel(client.get(f"/tickets/{desk.front_ticket}").text)
    assert f'<span class="tier tier-{seeded.tiers["张伟"]}">' in html
    assert "context-clv" not in html and "Lifetime value" not in html
    clv = Translator("en").format_money(Money(seeded.clv_minor["张伟"], "CNY"))
    assert clv not in html
    # the other team's ticket is neither listed nor counted; the panel says the list is narrowed
    assert f'data-ticket="{other}"' not in html
    assert "Only your teams" in html and "tickets are listed." in html
    assert "SO-2026" in html  # purchases are customer data, shown to whoever reads the customer


def test_the_panel_in_chinese(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = panel(client.get(f"/tickets/{desk.front_ticket}").text)
    for text in ("客户概况", "价值层级", "客户费力度", "最近购买", "联系同意"):
        assert text in html, text
    assert "终身价值" not in html


def test_every_role_that_sees_the_ticket_gets_the_panel(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    for principal in (READER, AGENT, MANAGER):
        web.principal = principal
        page = client.get(f"/tickets/{desk.front_ticket}")
        assert page.status_code == 200
        assert "Value tier" in panel(page.text)
