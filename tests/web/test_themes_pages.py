"""Complaint themes on the pages: the ticket page's themes panel (tagged by the job; an agent of
the ticket's team corrects or removes a theme, the correction is shown as the agent's and kept
by the next run; a read-only user sees the themes without the controls), and the themes page
/feedback/themes (the ranked list with counts, trend, gaps and examples; the catalogue, edited
by a manager only), in English and Chinese. The expected values are the seeded desk's ticket
subjects and the default catalogue's names (no statistic is pinned here: see
tests/feedback/test_themes.py and tests/analytics/test_themes.py)."""

from __future__ import annotations

import re

from desk_support import SUBJECTS, SeededDesk
from fastapi.testclient import TestClient
from web_support import AGENT, CSRF_TOKEN, MANAGER, WebApp

from kehu.core.auth import Principal
from kehu.feedback import themes
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME

READER = Principal.for_user(3, ["read_only"], team_ids=[1], display_name="Reader")


def panel(html: str) -> str:
    found = re.search(r'<section class="panel ticket-themes".*?</section>', html, re.S)
    assert found is not None, "no themes panel on the ticket page"
    return found.group(0)


def _tag(database: Database) -> None:
    with database.session() as session:
        themes.tag_new_texts(session)


def _theme_id(database: Database, key: str) -> int:
    with database.session() as session:
        return next(t.id for t in themes.list_themes(session, MANAGER) if t.key == key)


def test_an_agent_corrects_a_tickets_themes_and_the_correction_is_kept(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    ticket = desk.front_ticket  # "快递外包装破损，杯子碎了": the parcel came broken
    assert SUBJECTS[0].startswith("快递")
    web.principal = AGENT
    before = panel(client.get(f"/tickets/{ticket}").text)
    assert "Not tagged yet" in before
    _tag(database)
    html = panel(client.get(f"/tickets/{ticket}").text)
    assert 'data-theme="delivery"' in html and "suggested, score" in html
    assert "Correct the themes" in html
    defect = _theme_id(database, "defect")
    delivery = _theme_id(database, "delivery")
    posted = client.post(
        f"/tickets/{ticket}/themes",
        data={"csrf_token": CSRF_TOKEN, "theme_ids": [str(defect), str(delivery)]},
        follow_redirects=False,
    )
    assert posted.status_code == 303 and "done=themes" in posted.headers["location"]
    page = client.get(posted.headers["location"]).text
    assert "The ticket&#39;s themes were corrected" in page
    corrected = panel(page)
    assert corrected.count("set by an agent") == 2 and "Checked by an agent" in corrected
    removed = client.post(
        f"/tickets/{ticket}/themes/{delivery}/remove",
        data={"csrf_token": CSRF_TOKEN},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    _tag(database)  # the next run keeps the agent's themes
    kept = panel(client.get(f"/tickets/{ticket}").text)
    assert re.findall(r'data-theme="(\w+)"', kept) == ["defect"]
    # a forged form changes nothing
    forged = client.post(f"/tickets/{ticket}/themes", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert re.findall(r'data-theme="(\w+)"', panel(client.get(f"/tickets/{ticket}").text)) == [
        "defect"
    ]


def test_a_reader_sees_the_themes_without_controls_and_the_panel_in_chinese(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    _tag(database)
    web.principal = READER
    html = panel(client.get(f"/tickets/{desk.front_ticket}").text)
    assert 'data-theme="delivery"' in html
    assert "Correct the themes" not in html and "Remove" not in html
    refused = client.post(
        f"/tickets/{desk.front_ticket}/themes", data={"csrf_token": CSRF_TOKEN, "theme_ids": []}
    )
    assert refused.status_code == 403
    web.principal = AGENT
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    zh = panel(client.get(f"/tickets/{desk.front_ticket}").text)
    for text in ("投诉主题", "物流配送", "修改主题"):
        assert text in zh, text
    assert "Delivery" not in zh


def test_the_themes_page_ranks_the_themes_in_both_languages(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    _tag(database)
    web.principal = MANAGER
    html = client.get("/feedback/themes").text
    assert "Which problems cost the most satisfaction" in html
    rows = re.findall(r'<tr class="theme-row" data-theme="(\w+)">', html)
    assert {"delivery", "refund", "billing", "points"} <= set(rows)
    # no survey answers seeded: ranked by the number of texts, the most frequent first
    assert "ranked by the number of texts" in html
    counts = [int(n) for n in re.findall(r'<td class="num">(\d+) <span class="note">', html)]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    assert 'id="install-defaults"' in html and "Add a theme" in html
    assert f'href="/tickets/{desk.front_ticket}"' in html  # an example links its ticket
    assert "By value tier" in html and "By RFM segment" in html  # the seeded value run
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    zh = client.get("/feedback/themes").text
    for text in ("投诉主题", "哪些问题最伤满意度", "物流配送", "主题目录", "按价值层级"):
        assert text in zh, text


def test_a_manager_adds_and_changes_a_theme_an_agent_only_reads(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = MANAGER
    added = client.post(
        "/feedback/themes",
        data={
            "csrf_token": CSRF_TOKEN,
            "key": "address",
            "name_en": "Changing the address",
            "name_zh": "修改地址",
            "seed_words": "送货地址，改地址, address",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    with database.session() as session:
        theme = next(t for t in themes.list_themes(session, MANAGER) if t.key == "address")
        assert theme.seed_words == ["送货地址", "改地址", "address"]
    changed = client.post(
        f"/feedback/themes/{theme.id}",
        data={
            "csrf_token": CSRF_TOKEN,
            "name_en": "Address changes",
            "name_zh": "修改地址",
            "seed_words": "送货地址, address",
        },  # "active" unticked
        follow_redirects=False,
    )
    assert changed.status_code == 303
    page = client.get(changed.headers["location"]).text
    assert "The theme was changed" in page and "Address changes" in page
    with database.session() as session:
        theme = next(t for t in themes.list_themes(session, MANAGER) if t.key == "address")
        assert (theme.active, theme.seed_words) == (False, ["送货地址", "address"])
    bad = client.post(
        "/feedback/themes",
        data={
            "csrf_token": CSRF_TOKEN,
            "key": "Bad Key",
            "name_en": "x",
            "name_zh": "x",
            "seed_words": "x-ray",
        },
    )
    assert bad.status_code == 422
    web.principal = AGENT
    html = client.get("/feedback/themes").text
    assert "Add a theme" not in html and 'id="install-defaults"' not in html
    refused = client.post(
        f"/feedback/themes/{theme.id}",
        data={"csrf_token": CSRF_TOKEN, "name_en": "x", "name_zh": "x", "seed_words": "x-ray"},
    )
    assert refused.status_code == 403
