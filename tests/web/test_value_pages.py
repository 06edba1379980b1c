"""The value page's at-risk table: each row links to the customer, a customer without a name is
named once by number, profit is what the value run computed (or, when the run had no costs to
subtract, says so), and the count is formatted like the other figures."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from web_support import SeededRun, seed_value_run

from kehu.customers.tables import Customer
from kehu.store.db import Database
from kehu.value.tables import CustomerScore, ValueRun
from kehu.web.i18n import COOKIE_NAME

NO_COSTS = "amount (no cost or margin given)"


def at_risk_rows(html: str) -> dict[int, str]:
    """The at-risk table's rows by customer id (the row's HTML)."""
    section = html.split('id="at-risk"', 1)[1]
    return {
        int(customer): row
        for customer, row in re.findall(
            r'<tr data-customer="(\d+)">(.*?)</tr>', section, flags=re.DOTALL
        )
    }


def cells(row: str) -> list[str]:
    """The text of a row's cells, tags removed."""
    return [
        unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)
    ]


def money(minor: int, symbol: str = "CN¥") -> str:
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{symbol}{minor // 100:,}.{minor % 100:02d}"


def _top_at_risk(seeded: SeededRun) -> str:
    return max(
        (n for n, t in seeded.tiers.items() if t == "high" and seeded.probability_alive[n] < 0.5),
        key=lambda n: seeded.clv_minor[n],
    )


def _score(database: Database, customer_id: int) -> CustomerScore:
    with database.session() as session:
        score = session.get(CustomerScore, customer_id)
        assert score is not None
        session.expunge(score)
        return score


def test_each_at_risk_row_links_to_its_customer(client: TestClient, seeded: SeededRun) -> None:
    rows = at_risk_rows(client.get("/value").text)
    assert len(rows) >= 2
    names = {customer_id: name for name, customer_id in seeded.customer_ids.items()}
    for customer_id, row in rows.items():
        assert (
            f'<td class="customer-name"><a href="/customers/{customer_id}">'
            f"{names[customer_id]}</a></td>" in row
        )
        # and the page behind the link is that customer's
        page = client.get(f"/customers/{customer_id}")
        assert page.status_code == 200
        assert f'<h1 class="customer-name">{names[customer_id]}</h1>' in page.text


def test_a_customer_without_a_name_is_named_once_by_number(
    client: TestClient, database: Database, seeded: SeededRun
) -> None:
    top = seeded.customer_ids[_top_at_risk(seeded)]
    with database.session() as session:
        session.execute(update(Customer).where(Customer.id == top).values(name=None))
        external_id = session.scalar(select(Customer.external_id).where(Customer.id == top))
    assert external_id
    html = client.get("/value").text
    row = at_risk_rows(html)[top]
    assert row.count(external_id) == 1, row
    name, number = cells(row)[:2]
    assert name == "No name" and number == external_id
    assert f'<a href="/customers/{top}"><span class="note no-name">No name</span></a>' in row
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    row = at_risk_rows(client.get("/value").text)[top]
    assert cells(row)[:2] == ["未填写名称", external_id]


def test_profit_is_the_runs_spend_less_costs(
    client: TestClient, database: Database, seeded: SeededRun
) -> None:
    """A run with product costs (here a 30% margin) and cost-to-serve: profit is what the run
    computed, margin less cost-to-serve, never the spend."""
    rows = at_risk_rows(client.get("/value").text)
    for customer_id, row in rows.items():
        score = _score(database, customer_id)
        spend, profit = cells(row)[5:7]
        assert spend == money(score.total_spend_minor)
        assert profit == money(score.margin_minor - score.cost_to_serve_minor)
        assert profit != spend
    assert "carry no product costs" not in client.get("/value").text


def test_a_run_without_costs_says_so_instead_of_showing_the_spend_as_profit(
    client: TestClient, database: Database, seeded: SeededRun
) -> None:
    """As the engine computes it without product costs or a margin (CDNOW's log has neither):
    margin is the whole amount, and with no cost-to-serve recorded, profit equals spend. The
    table says the costs are not recorded; a customer with a recorded cost-to-serve shows the
    spend less it."""
    served = seeded.customer_ids[_top_at_risk(seeded)]
    with database.session() as session:
        session.execute(
            update(ValueRun)
            .where(ValueRun.id == seeded.run_id)
            .values(diagnostics={"margin_basis": NO_COSTS})
        )
        session.execute(
            update(CustomerScore).values(
                margin_minor=CustomerScore.total_spend_minor,
                cost_to_serve_minor=0,
                profit_minor=CustomerScore.total_spend_minor,
            )
        )
        session.execute(
            update(CustomerScore)
            .where(CustomerScore.customer_id == served)
            .values(
                cost_to_serve_minor=12_345, profit_minor=CustomerScore.total_spend_minor - 12_345
            )
        )
    html = client.get("/value").text
    rows = at_risk_rows(html)
    assert len(rows) >= 2 and served in rows
    for customer_id, row in rows.items():
        score = _score(database, customer_id)
        spend, profit = cells(row)[5:7]
        assert spend == money(score.total_spend_minor)
        if customer_id == served:
            assert profit == money(score.total_spend_minor - 12_345)
        else:
            assert profit == "Costs not recorded"
    assert "The purchases of this value run carry no product costs" in html
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/value").text
    assert "未记录成本" in html and "本次价值计算的购买记录没有商品成本" in html


def test_the_at_risk_count_has_thousands_separators(client: TestClient, database: Database) -> None:
    names = tuple(f"客户{i:04d}" for i in range(1_203))
    seed_value_run(database, names)
    with database.session() as session:
        session.execute(update(CustomerScore).values(value_tier="high", probability_alive=0.1))
    note = client.get("/value").text.split('id="at-risk"', 1)[1].split("</p>", 1)[0]
    assert "1,203 high-value customers are less than 50% likely to still be active." in note
    assert "1203" not in note
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/value/at-risk").text
    assert "有 1,203 位高价值客户" in html
