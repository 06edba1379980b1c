"""The customer list and the customer 360 page: search, filters, pages, profile, consent, the
value card, the timeline with "load more", open tickets, both languages, the permission layer."""

from __future__ import annotations

import re
from html import unescape

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from sqlalchemy import update
from web_support import AGENT, SCRIPT_NAME, SeededRun, WebApp

from kehu.auth import SYSTEM
from kehu.customers import service as customers
from kehu.customers.tables import Customer
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME


def listed(html: str) -> list[str]:
    return [
        unescape(n)
        for n in re.findall(r'<td class="customer-name"><a href="/customers/\d+">(.*?)</a>', html)
    ]


def test_list_searches_chinese_substrings_phone_fragments_and_emails(
    client: TestClient, desk: SeededDesk
) -> None:
    assert listed(client.get("/customers", params={"q": "明远"}).text) == ["上海明远贸易有限公司"]
    assert listed(client.get("/customers", params={"q": "0013 8000"}).text) == ["张伟"]
    assert listed(client.get("/customers", params={"q": "ZHANG.WEI@example"}).text) == ["张伟"]
    assert listed(client.get("/customers", params={"q": "有限公司 上海"}).text) == [
        "上海明远贸易有限公司"
    ]
    html = client.get("/customers", params={"q": "nobody-like-this"}).text
    assert listed(html) == [] and "No customer matches." in html


def test_list_filters_by_kind_and_tag_and_pages(client: TestClient, desk: SeededDesk) -> None:
    first = client.get("/customers")
    assert first.status_code == 200
    assert len(listed(first.text)) == 25
    assert "Customers 1–25 of 36" in first.text
    assert 'rel="next" href="/customers?offset=25"' in first.text
    second = client.get("/customers?offset=25").text
    assert len(listed(second)) == 11 and 'rel="prev"' in second and 'rel="next"' not in second
    assert set(listed(first.text)).isdisjoint(listed(second))
    assert listed(client.get("/customers", params={"tag": "VIP"}).text) == ["张伟"]
    assert listed(client.get("/customers", params={"kind": "organisation"}).text) == []
    assert len(listed(client.get("/customers", params={"kind": "person"}).text)) == 25
    # the filters travel with the pages
    paged = client.get("/customers", params={"kind": "person", "q": ""}).text
    assert 'href="/customers?offset=25&amp;kind=person"' in paged


def test_list_in_chinese(client: TestClient, desk: SeededDesk) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/customers", params={"q": "张伟"}).text
    assert '<html lang="zh-Hans">' in html
    assert "搜索" in html and "个人" in html and "VIP" in html


def test_customer_360_page(client: TestClient, desk: SeededDesk, seeded: SeededRun) -> None:
    zhang = seeded.customer_ids["张伟"]
    response = client.get(f"/customers/{zhang}")
    assert response.status_code == 200
    html = response.text
    assert '<h1 class="customer-name">张伟</h1>' in html
    assert "+86 138 0013 8000" in html and "zhang.wei@example.com" in html
    assert '<span class="chip">VIP</span>' in html
    # consent per channel
    assert re.search(
        r'data-channel="email">\s*<th scope="row">Email</th>\s*'
        r'<td class="consent-granted">Consent given',
        html,
    )
    assert re.search(r'data-channel="sms">.*?<td class="preference-refused">Refused', html, re.S)
    # the value card from the latest run
    card = html.split('id="value-card"', 1)[1].split("</section>", 1)[0]
    assert "Lifetime value" in card and "Probability alive" in card and "RFM segment" in card
    assert "CN¥" in card and "From value run" in card
    # open tickets and the timeline (purchases, scores, tickets, customer events)
    assert f'href="/tickets/{desk.front_ticket}"' in html.split('class="panel open-tickets"')[1]
    for kind in ("purchase", "value", "ticket", "customer"):
        assert f"timeline-item timeline-{kind}" in html
    assert "Amount CN¥2,560.00" in html and "Ticket filed" in html


def test_customer_360_page_in_chinese_formats_money_and_dates(
    client: TestClient, desk: SeededDesk, seeded: SeededRun
) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(f"/customers/{seeded.customer_ids['张伟']}").text
    assert "金额 ¥2,560.00" in html and "CN¥" not in html
    assert "已同意" in html and "时间线" in html and "存活概率" in html
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", html)


def test_timeline_loads_more_with_the_before_cursor(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    with database.session() as session:
        for i in range(30):
            customers.tag_customer(session, SYSTEM, zhang, f"tag {i:02d}")
    html = client.get(f"/customers/{zhang}").text
    first = re.findall(r'<li class="timeline-item', html)
    assert len(first) == 20
    more = re.search(r'hx-get="(/customers/\d+/timeline\?before=[^"]+)"', html)
    assert more is not None and 'hx-target="#timeline-more"' in html
    seen = re.findall(r'<span class="timeline-detail">(tag \d\d)</span>', html)
    url = unescape(more.group(1))
    pages = 0
    while url:
        fragment = client.get(url)
        assert fragment.status_code == 200
        assert "<html" not in fragment.text  # a fragment, not a page
        seen += re.findall(r'<span class="timeline-detail">(tag \d\d)</span>', fragment.text)
        found = re.search(r'hx-get="(/customers/\d+/timeline\?before=[^"]+)"', fragment.text)
        url = unescape(found.group(1)) if found else ""
        pages += 1
    assert pages >= 2
    assert sorted(seen) == [f"tag {i:02d}" for i in range(30)]  # none repeated, none skipped
    assert client.get(f"/customers/{zhang}/timeline?before=garbage").status_code == 422


def test_agent_sees_no_value_card_and_only_their_teams_tickets(
    client: TestClient, web: WebApp, desk: SeededDesk, seeded: SeededRun
) -> None:
    web.principal = AGENT
    html = client.get(f"/customers/{seeded.customer_ids['王芳']}").text
    assert "Your role does not show customer value." in html
    assert "Lifetime value" not in html
    # 王芳's ticket belongs to another team: neither listed nor on the timeline
    assert f'href="/tickets/{desk.other_team_ticket}"' not in html
    assert "No open tickets." in html
    assert "timeline-ticket" not in html


def test_unknown_customer_is_a_404_page(client: TestClient, desk: SeededDesk) -> None:
    response = client.get("/customers/999999")
    assert response.status_code == 404
    assert "There is no such record, or you may not see it." in response.text
    assert client.get("/customers/999999/timeline").status_code == 404


def test_script_in_customer_fields_is_shown_as_text(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    with database.session() as session:
        session.execute(
            update(Customer).where(Customer.id == zhang).values(name=SCRIPT_NAME, notes=SCRIPT_NAME)
        )
        customers.tag_customer(session, SYSTEM, zhang, SCRIPT_NAME)
    for path in (f"/customers/{zhang}", "/customers?tag=" + SCRIPT_NAME):
        html = client.get(path).text
        assert SCRIPT_NAME not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
