"""The promise calibration page: the figures of the use case per promise target, business times in
both languages, the minimum sample, trying a target, applying one as a new version (the notice
with the expected kept rate, 409 on a stale version and 422 on bad input shown in the card with
the typed text kept), the permission layer and the link from the service figures."""

from __future__ import annotations

import re
from datetime import timedelta

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from web_support import AGENT, CSRF_TOKEN, MANAGER, WebApp

from kehu.desk import sla_store
from kehu.desk.calibration import promise_calibration
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME


def window(desk: SeededDesk) -> dict[str, str]:
    return {
        "from": (desk.now - timedelta(days=200)).date().isoformat(),
        "to": desk.now.date().isoformat(),
    }


def card(html: str, policy_id: int, target: str) -> str:
    start = html.index(f'id="target-{policy_id}-{target}"')
    return html[start : html.index("</section>", start)]


def field(html: str, name: str) -> str:
    found = re.search(rf'<dd class="{name}">(.*?)</dd>', html, re.S)
    assert found, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def policy_ids(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {p.name: p.id for p in sla_store.list_policies(session)}


def test_the_page_shows_the_use_case(
    client: TestClient, database: Database, desk: SeededDesk, web: WebApp
) -> None:
    web.settings = web.settings.model_copy(update={"calibration_min_sample": 2})
    html = client.get("/service/calibration", params=window(desk)).text
    with database.session() as session:
        result = promise_calibration(
            session,
            MANAGER,
            start=desk.now.date() - timedelta(days=200),
            end=desk.now.date(),
            settings=web.settings,
        )
    assert html.count('class="panel calibration-target"') == len(result.rows) == 4
    measured = [r for r in result.rows if r.sample >= 2]
    assert measured, "the seeded desk has measured tickets"
    for row in result.rows:
        part = card(html, row.policy_id, row.target.value)
        assert field(part, "sample").startswith(str(row.sample))
        if row.suggested is not None:
            hours, minutes = divmod(-(-row.suggested // timedelta(minutes=1)), 60)
            assert (
                f'name="hours" min="0" max="8760" step="1" inputmode="numeric" value="{hours}"'
                in part
            )
            assert f'value="{minutes}"' in part
            assert field(part, "suggested-kept") == f"{row.suggested_kept_rate * 100:.1f}%"
    standard = policy_ids(database)["标准服务承诺"]
    first = card(html, standard, "first_response")
    assert field(first, "promised") == "4 hr"
    resolution = card(html, standard, "resolution")
    assert field(resolution, "promised") == "16 hr"
    assert "at least 2 measured tickets" in html
    # a kept-share curve per target with two or more measured tickets, inline SVG
    curves = [r for r in result.rows if r.sample >= 2]
    assert html.count('<svg class="chart chart-line"') == len(curves)
    assert "Share of tickets kept, by target" in html
    # the measured tickets by kind, priority and tier, summing to the sample
    for row in measured:
        part = card(html, row.policy_id, row.target.value)
        table = part.split('class="data-table groups-table"', 1)[1]
        counts = re.findall(r'<td class="num">([\d,]+)</td>\s*<td class="num">[^<]*%</td>', table)
        assert sum(int(c) for c in counts) == row.sample == sum(g.sample for g in row.groups)
    assert 'class="action-form apply-form"' in html  # a manager may apply


def test_too_few_tickets_and_chinese(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/service/calibration", params=window(desk)).text
    urgent = policy_ids(database)["紧急服务承诺"]
    part = card(html, urgent, "first_response")
    assert field(part, "promised") == "1小时"
    assert "工单太少" in field(part, "suggested") and "至少需要 20 单" in field(part, "suggested")
    assert "承诺校准" in html and "第 95 百分位" in html and "最近秩法" in html


def test_trying_a_target(client: TestClient, database: Database, desk: SeededDesk) -> None:
    standard = policy_ids(database)["标准服务承诺"]
    params = {**window(desk), "policy": standard, "target": "resolution"}
    html = client.get("/service/calibration", params={**params, "hours": 100, "minutes": 0}).text
    part = card(html, standard, "resolution")
    assert "Would have been kept under 100 hr" in part
    assert field(part, "tried-kept") == "100.0%"
    bad = client.get("/service/calibration", params={**params, "hours": "x", "minutes": "5"})
    assert bad.status_code == 422
    part = card(bad.text, standard, "resolution")
    assert "Enter a target of whole hours and minutes" in part and 'value="x"' in part


def test_applying_a_target_makes_a_version(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    standard = policy_ids(database)["标准服务承诺"]
    form = {
        **window(desk),
        "csrf_token": CSRF_TOKEN,
        "policy_id": str(standard),
        "target": "first_response",
        "expected_version": "1",
        "hours": "5",
        "minutes": "30",
    }
    answer = client.post("/service/calibration", data=form)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert "applied=2" in location and location.endswith(f"#target-{standard}-first_response")
    html = client.get(location).text
    notice = re.search(r'id="applied-notice">(.*?)</p>', html, re.S)
    assert notice
    assert "Saved as version 2 of 标准服务承诺: First response within 5 hr 30 min." in notice.group(
        1
    )
    assert "of the tickets would have kept it" in notice.group(1)
    assert field(card(html, standard, "first_response"), "promised") == "5 hr 30 min"
    with database.session() as session:
        versions = sla_store.policy_versions(session, standard)
    assert [v.first_response_seconds for v in versions] == [4 * 3600, 5 * 3600 + 30 * 60]

    stale = client.post("/service/calibration", data={**form, "hours": "7", "minutes": "15"})
    assert stale.status_code == 409
    part = card(stale.text, standard, "first_response")
    assert "Someone else changed this service promise" in part
    assert 'value="7"' in part and 'value="15"' in part
    assert 'name="expected_version" value="2"' in part  # the form now carries the latest
    bad = client.post(
        "/service/calibration", data={**form, "expected_version": "2", "hours": "0", "minutes": "0"}
    )
    assert bad.status_code == 422
    assert "Enter a target of whole hours and minutes" in card(bad.text, standard, "first_response")
    expired = client.post("/service/calibration", data={**form, "csrf_token": "wrong"})
    assert expired.status_code == 403
    with database.session() as session:
        assert len(sla_store.policy_versions(session, standard)) == 2


def test_an_agent_reads_but_may_not_apply(
    client: TestClient, database: Database, desk: SeededDesk, web: WebApp
) -> None:
    web.principal = AGENT
    html = client.get("/service/calibration", params=window(desk)).text
    assert 'class="panel calibration-target"' in html
    assert "apply-form" not in html
    standard = policy_ids(database)["标准服务承诺"]
    refused = client.post(
        "/service/calibration",
        data={
            **window(desk),
            "csrf_token": CSRF_TOKEN,
            "policy_id": str(standard),
            "target": "first_response",
            "expected_version": "1",
            "hours": "5",
        },
    )
    assert refused.status_code == 403


def test_the_service_figures_link_here(client: TestClient, desk: SeededDesk) -> None:
    html = client.get("/service").text
    assert 'href="/service/calibration"' in html
