"""The customer list and the customer 360 page: search, filters, pages, profile, consent, the
value card, the timeline with "load more", open tickets, both languages, the permission layer."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from web_support import AGENT, CSRF_TOKEN, MANAGER, SCRIPT_NAME, SeededRun, WebApp

from kehu.core.auth import SYSTEM, Principal
from kehu.core.i18n import Translator
from kehu.core.money import Money
from kehu.customers import service as customers
from kehu.customers.duplicates import find_duplicates
from kehu.customers.schemas import ContactIn
from kehu.customers.tables import Customer
from kehu.store.db import Database
from kehu.value.tables import CustomerScore, Transaction, ValueRun
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


def customer_since(html: str) -> str:
    """The text of the profile's "Customer since" fact."""
    found = re.search(r"<dt>[^<]*</dt><dd class=\"customer-since\">(.*?)</dd>", html, re.S)
    assert found is not None, "no customer-since fact"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_customer_since_is_the_first_purchase_else_the_date_recorded(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    """张伟 was recorded today (by the import) but first bought 300 days ago: the profile gives
    the first purchase, and says so; a customer who never bought shows the date recorded, and
    says that instead."""
    zhang, wang = seeded.customer_ids["张伟"], seeded.customer_ids["王芳"]
    with database.session() as session:
        first = session.scalar(
            select(func.min(Transaction.occurred_at)).where(
                Transaction.customer_id == zhang, Transaction.amount_minor >= 0
            )
        )
        recorded = session.scalar(select(Customer.created_at).where(Customer.id == wang))
        # a return before the first purchase is no purchase
        session.add(
            Transaction(
                customer_id=zhang,
                transaction_key="id:web-early-return",
                occurred_at=first - timedelta(days=30),
                amount_minor=-500,
                currency="CNY",
            )
        )
    assert first is not None and recorded is not None
    assert (recorded - first).days >= 299
    en = Translator("en", ZoneInfo("Asia/Shanghai"))
    html = client.get(f"/customers/{zhang}").text
    assert "<dt>Customer since</dt>" in html
    assert customer_since(html) == f"{en.format_date(first)} (first purchase)"
    assert customer_since(client.get(f"/customers/{wang}").text) == (
        f"{en.format_date(recorded)} (date recorded, no purchase yet)"
    )
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    zh = Translator("zh-Hans", ZoneInfo("Asia/Shanghai"))
    assert customer_since(client.get(f"/customers/{zhang}").text) == (
        f"{zh.format_date(first)}（首次购买）"
    )
    assert customer_since(client.get(f"/customers/{wang}").text) == (
        f"{zh.format_date(recorded)}（建档日期，尚无购买）"
    )


def test_value_card_says_costs_not_recorded_instead_of_the_spend_as_profit(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    """A value run without product costs and a customer without cost-to-serve: the run's
    "profit" is the spend, so the card says the costs are not recorded."""
    zhang = seeded.customer_ids["张伟"]
    card = client.get(f"/customers/{zhang}").text.split('id="value-card"', 1)[1]
    assert "Costs not recorded" not in card.split("</section>", 1)[0]
    with database.session() as session:
        session.execute(
            update(ValueRun).values(
                diagnostics={"margin_basis": "amount (no cost or margin given)"}
            )
        )
        session.execute(
            update(CustomerScore)
            .where(CustomerScore.customer_id == zhang)
            .values(
                margin_minor=CustomerScore.total_spend_minor,
                cost_to_serve_minor=0,
                profit_minor=CustomerScore.total_spend_minor,
            )
        )
    card = client.get(f"/customers/{zhang}").text.split('id="value-card"', 1)[1]
    card = card.split("</section>", 1)[0]
    profit = re.search(r"<dt>Profit</dt><dd[^>]*>(.*?)</dd>", card, re.S)
    assert profit is not None
    assert re.sub(r"<[^>]+>", "", profit.group(1)).strip() == "Costs not recorded"
    assert "the spend is not a profit" in card
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    assert "未记录成本" in client.get(f"/customers/{zhang}").text


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


# -- changes from the 360 page -----------------------------------------------------------------

READER = Principal.for_user(3, ["read_only"], team_ids=[1], display_name="Reader")


def customer_version(database: Database, customer_id: int) -> int:
    with database.session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        return customer.version


def test_edit_the_profile_with_optimistic_locking(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    seen = customer_version(database, zhang)
    html = client.get(f"/customers/{zhang}").text
    assert f'action="/customers/{zhang}/edit"' in html
    assert f'name="version" value="{seen}"' in html
    form = {
        "csrf_token": CSRF_TOKEN,
        "version": str(seen),
        "name": "张伟（北京）",
        "family_name": "张",
        "given_name": "伟",
        "preferred_language": "zh-Hans",
        "notes": "喜欢电话联系",
    }
    response = client.post(f"/customers/{zhang}/edit", data=form)
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/customers/{zhang}?done=edit")
    html = client.get(response.headers["location"]).text
    assert "The profile was saved." in html
    assert '<h1 class="customer-name">张伟（北京）</h1>' in html
    assert "Simplified Chinese" in html and "喜欢电话联系" in html
    assert customer_version(database, zhang) == seen + 1
    for code, message in (
        ("en", "Someone else changed this customer after you opened the page."),
        ("zh-Hans", "在您打开此页面后，其他人已修改了该客户。"),
    ):
        client.cookies.set(COOKIE_NAME, code)
        stale = client.post(f"/customers/{zhang}/edit", data={**form, "notes": "late"})
        assert stale.status_code == 409, code
        assert message in stale.text, code
        assert f'name="version" value="{seen + 1}"' in stale.text  # the latest version
    with database.session() as session:
        customer = session.get(Customer, zhang)
        assert customer is not None and customer.notes == "喜欢电话联系"
    client.cookies.set(COOKIE_NAME, "en")
    blank = client.post(
        f"/customers/{zhang}/edit",
        data={**form, "version": str(seen + 1), "name": "", "family_name": "", "given_name": ""},
    )
    assert blank.status_code == 422 and "A customer needs a name." in blank.text


def test_tags_and_consent_from_the_360_page(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    url = f"/customers/{zhang}"
    response = client.post(f"{url}/tags", data={"csrf_token": CSRF_TOKEN, "tag": "回头客"})
    assert response.status_code == 303
    html = client.get(url).text
    assert '<span class="chip">回头客</span>' in html and "Tagged" in html
    response = client.post(
        f"{url}/tags", data={"csrf_token": CSRF_TOKEN, "tag": "VIP", "remove": "1"}
    )
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert '<span class="chip">VIP</span>' not in html and "The tag was removed." in html
    response = client.post(
        f"{url}/preferences",
        data={
            "csrf_token": CSRF_TOKEN,
            "channel": "wechat",
            "consent": "granted",
            "preference": "preferred",
            "source": "phone call",
        },
    )
    assert response.status_code == 303
    html = client.get(url).text
    assert re.search(
        r'data-channel="wechat">\s*<th scope="row">WeChat</th>\s*'
        r'<td class="consent-granted">Consent given</td>\s*'
        r'<td class="preference-preferred">Preferred',
        html,
    )
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    response = client.post(
        f"{url}/preferences",
        data={"csrf_token": CSRF_TOKEN, "channel": "post", "source": "letter"},
    )
    assert response.status_code == 422 and "请选择营销同意、服务偏好或两者。" in response.text
    response = client.post(
        f"{url}/preferences",
        data={"csrf_token": CSRF_TOKEN, "channel": "pigeon", "consent": "granted", "source": "x"},
    )
    assert response.status_code == 422
    # the forms render in Chinese too
    html = client.get(url).text
    for text in ("编辑资料", "添加标签", "营销同意", "信息来源", "保存资料"):
        assert text in html


def test_forms_need_the_csrf_token_and_write_rights(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang = seeded.customer_ids["张伟"]
    url = f"/customers/{zhang}"
    seen = str(customer_version(database, zhang))
    posts = (
        ("edit", {"version": seen, "name": "changed"}),
        ("tags", {"tag": "forged"}),
        ("tags", {"tag": "VIP", "remove": "1"}),
        ("preferences", {"channel": "email", "consent": "withdrawn", "source": "x"}),
        ("merge", {"duplicate_id": str(seeded.customer_ids["李娜"])}),
    )
    for route, form in posts:
        assert client.post(f"{url}/{route}", data=form).status_code == 403, route
        response = client.post(f"{url}/{route}", data={**form, "csrf_token": "wrong"})
        assert response.status_code == 403, route
    web.principal = READER
    html = client.get(url).text
    assert f'action="/customers/{zhang}/' not in html
    for route, form in posts:
        response = client.post(f"{url}/{route}", data={**form, "csrf_token": CSRF_TOKEN})
        assert response.status_code == 403, route
        # the one error map's page; a refused change, not a refused page
        assert "You are not allowed to do this." in response.text
    web.principal = AGENT  # may write, may not merge
    response = client.post(
        f"{url}/merge",
        data={"csrf_token": CSRF_TOKEN, "duplicate_id": str(seeded.customer_ids["李娜"])},
    )
    assert response.status_code == 403
    with database.session() as session:
        customer = session.get(Customer, zhang)
        assert customer is not None and customer.name == "张伟"
        assert str(customer.version) == seen
        lina = session.get(Customer, seeded.customer_ids["李娜"])
        assert lina is not None and lina.merged_into_id is None


def test_duplicates_listed_with_reasons_and_merged(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang, lina = seeded.customer_ids["张伟"], seeded.customer_ids["李娜"]
    with database.session() as session:
        customers.add_contact(session, SYSTEM, lina, ContactIn(type="phone", value="13800138000"))
    url = f"/customers/{zhang}"
    html = client.get(url).text
    panel = html.split('id="duplicates"', 1)[1].split("</section>", 1)[0]
    assert f'href="/customers/{lina}"' in panel and "李娜" in panel
    assert "Same phone" in panel and 'class="inline-form merge-form"' in panel
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    panel = client.get(url).text.split('id="duplicates"', 1)[1].split("</section>", 1)[0]
    assert "此客户可能的重复记录" in panel and "相同电话" in panel and "合并到此客户" in panel
    web.principal = AGENT  # may see the duplicates, may not merge
    html = client.get(url).text
    assert 'id="duplicates"' in html and "merge-form" not in html
    web.principal = MANAGER
    client.cookies.set(COOKIE_NAME, "en")
    response = client.post(
        f"{url}/merge", data={"csrf_token": CSRF_TOKEN, "duplicate_id": str(lina)}
    )
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert "The duplicate was merged into this customer." in html
    assert 'id="duplicates"' not in html and "Duplicate merged in" in html
    with database.session() as session:
        merged = session.get(Customer, lina)
        assert merged is not None and merged.merged_into_id == zhang
    # the merged customer shows no forms; a second merge is refused with the reason
    assert f'action="/customers/{lina}/' not in client.get(f"/customers/{lina}").text
    again = client.post(f"{url}/merge", data={"csrf_token": CSRF_TOKEN, "duplicate_id": str(lina)})
    assert again.status_code == 409
    assert "These two customers cannot be merged" in again.text


def test_duplicates_on_the_360_page_are_the_full_searchs(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    """The page asks for one customer's duplicates (a targeted search): on a store with
    duplicates of several kinds it lists exactly the full search's pairs of that customer, with
    the same reasons in the same order."""
    ids = seeded.customer_ids
    zhang, lina, others = ids["张伟"], ids["李娜"], sorted(ids.values())
    with database.session() as session:
        customers.add_contact(session, SYSTEM, lina, ContactIn(type="phone", value="13800138000"))
        customers.add_contact(
            session, SYSTEM, lina, ContactIn(type="email", value=" Zhang.Wei@Example.com")
        )
        for other in others[-3:]:
            customers.add_contact(
                session, SYSTEM, other, ContactIn(type="email", value="ZHANG.WEI@example.com")
            )
        full = find_duplicates(session, MANAGER, limit=100_000)
    for customer_id in (zhang, lina, others[-1], others[0]):
        html = client.get(f"/customers/{customer_id}").text
        shown = [
            (int(i), [unescape(r) for r in re.findall(r'<span class="chip">(.*?)</span>', rs)])
            for i, rs in re.findall(
                r'<li class="duplicate" data-customer="(\d+)">.*?'
                r'<span class="duplicate-reasons">(.*?)</span>\s*(?:<form|</li>)',
                html,
                re.S,
            )
        ]
        expected = [
            (
                pair.customer_ids[0]
                if pair.customer_ids[1] == customer_id
                else pair.customer_ids[1],
                [reason[0].upper() + reason[1:] for reason in pair.reasons],
            )
            for pair in full
            if customer_id in pair.customer_ids
        ]
        assert shown == expected, customer_id
    assert len([p for p in full if zhang in p.customer_ids]) == 4


def test_script_in_duplicate_names_and_tags_is_shown_as_text(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    zhang, lina = seeded.customer_ids["张伟"], seeded.customer_ids["李娜"]
    with database.session() as session:
        session.execute(update(Customer).where(Customer.id == lina).values(name=SCRIPT_NAME))
        customers.add_contact(session, SYSTEM, lina, ContactIn(type="phone", value="13800138000"))
    response = client.post(
        f"/customers/{zhang}/tags", data={"csrf_token": CSRF_TOKEN, "tag": SCRIPT_NAME}
    )
    assert response.status_code == 303
    html = client.get(f"/customers/{zhang}").text
    assert SCRIPT_NAME not in html
    assert unescape(html).count(SCRIPT_NAME) >= 3  # the tag, its remove button, the duplicate


def _value_card(client: TestClient, customer_id: int) -> str:
    html = client.get(f"/customers/{customer_id}").text
    card = html.split('id="value-card"', 1)[1].split("</section>", 1)[0]
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card)))


def test_value_card_gives_the_intervals_in_words_in_both_languages(
    client: TestClient, database: Database, desk: SeededDesk, seeded: SeededRun
) -> None:
    """CLV, P(alive) and the expected purchases with the run's 90 % interval ("CLV ¥1,230 (90%
    interval ¥800–¥1,900)"), the horizon named, and what the interval is about; a score without
    intervals (a run before them) shows the figures alone."""
    zhang = seeded.customer_ids["张伟"]
    with database.session() as session:
        score = session.get(CustomerScore, zhang)
        assert score is not None and score.clv_low_minor is not None
        intervals = {
            name: getattr(score, name)
            for name in (
                "clv_low_minor",
                "clv_high_minor",
                "probability_alive_low",
                "probability_alive_high",
                "expected_purchases_low",
                "expected_purchases_high",
            )
        }
    low, high = intervals["clv_low_minor"], intervals["clv_high_minor"]
    alive_low = intervals["probability_alive_low"]
    english = Translator("en")
    money_low = english.format_money(Money(low, "CNY"))
    money_high = english.format_money(Money(high, "CNY"))
    card = _value_card(client, zhang)
    assert f"(90% interval {money_low}–{money_high})" in card
    assert f"(90% interval {english.format_percent(alive_low)}–" in card
    assert "Purchases expected in 52 weeks" in card
    assert "what the customer will actually do varies more" in card

    client.cookies.set(COOKIE_NAME, "zh-Hans")
    chinese = Translator("zh-Hans")
    card = _value_card(client, zhang)
    zh_low = chinese.format_money(Money(low, "CNY"))
    zh_high = chinese.format_money(Money(high, "CNY"))
    assert f"（90% 区间 {zh_low}–{zh_high}）" in card
    assert "未来 52 周的预期购买次数" in card and "客户的实际行为波动会更大" in card
    client.cookies.delete(COOKIE_NAME)

    with database.session() as session:
        session.execute(
            update(CustomerScore)
            .where(CustomerScore.customer_id == zhang)
            .values({name: None for name in intervals})
        )
    try:
        card = _value_card(client, zhang)
        assert "Lifetime value" in card and "interval" not in card
    finally:
        with database.session() as session:
            session.execute(
                update(CustomerScore).where(CustomerScore.customer_id == zhang).values(intervals)
            )
