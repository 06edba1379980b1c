"""The survey results pages over the demo responses (tests/survey_results_support.py, entered
through the response import): the page shows what kehu.feedback.results returns for the same
store (the use cases are tested against the analytics in tests/feedback/test_results.py), in
English and Chinese, with the charts inline (score trend with its band, gap bars, driver bars,
the importance-performance quadrant, the value map), the group-by selector, the period filter,
small samples flagged, and an analytics refusal shown as its message where the chart would be,
never a 500."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_support import WebApp

from kehu.feedback import results
from kehu.feedback.results import ResultOptions
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from staff_support import add_staff
from survey_results_support import MANAGER, MOBI, Demo, import_mobi, make_demo


@pytest.fixture
def demo(database: Database) -> Demo:
    with database.session() as session:
        add_staff(session, 1)
        return make_demo(session, n=90)


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'class="data-table {table}"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[^>]*>.*?</tr>", body.split("<tbody>", 1)[1], re.S)


def test_the_results_page_shows_the_use_cases_results(
    client: TestClient, database: Database, demo: Demo, web: WebApp
) -> None:
    response = client.get(f"/surveys/{demo.experience_id}/results", params={"group_by": "tier"})
    assert response.status_code == 200, response.text
    html = response.text
    with database.session() as session:
        data = results.load_results(
            session, MANAGER, demo.experience_id, ResultOptions(group_by="tier")
        )
    expected = results.score_rows(data, ResultOptions(group_by="tier"))
    rows = _rows(html, "score-table")
    assert len(rows) == len(expected)
    nps_all = next(r for r in expected if r.question_id == "recommend" and r.group is None)
    first = next(r for r in rows if 'data-question="recommend" data-group=""' in r)
    assert f">{nps_all.estimate:.0f}<" in first and f">{nps_all.n}<" in first
    # 30 per tier is at the default min_n of 30: not flagged; the filter flags them under 31
    assert (
        "small-sample-flag"
        not in html.split('class="data-table score-table"')[1].split("</table>")[0]
    )
    flagged = client.get(
        f"/surveys/{demo.experience_id}/results", params={"group_by": "tier", "min_n": 31}
    ).text
    assert flagged.count('class="small-sample"') >= 9  # three scores x three tiers
    # the charts: score trends with bands, gap bars, drivers, the quadrant; nothing fetched
    assert html.count('class="band"') >= 3
    assert '<svg class="chart chart-bar"' in html and '<svg class="chart chart-scatter"' in html
    assert 'id="quadrant-rule"' in html and "concentrate here" in html
    assert "http://" not in html.split("<main", 1)[1].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_the_value_map_page_in_chinese(client: TestClient, database: Database, demo: Demo) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(f"/surveys/{demo.value_id}/results").text
    assert '<html lang="zh-Hans"' in html
    with database.session() as session:
        data = results.load_results(session, MANAGER, demo.value_id, ResultOptions())
    delivered = results.value_results(data, ResultOptions(), n_bootstrap=0).delivered
    assert delivered is not None
    difference = html.split('id="delivered-difference"', 1)[1].split("</div>", 1)[0]
    assert f">{delivered.difference.estimate:.2f}<" in difference
    assert "顾客让渡价值" in html
    assert len(_rows(html, "value-table")) == 3
    assert '<svg class="chart chart-scatter"' in html


def test_too_few_responses_are_a_message_not_an_error(client: TestClient, demo: Demo) -> None:
    response = client.get(f"/surveys/{demo.experience_id}/results", params={"until": "2026-09-03"})
    assert response.status_code == 200
    assert 'id="drivers-problem"' in response.text
    assert "needs at least 9 complete responses" in response.text
    reversed_period = client.get(
        f"/surveys/{demo.experience_id}/results",
        params={"since": "2026-10-01", "until": "2026-09-01"},
    )
    assert reversed_period.status_code == 200 and 'id="filter-problem"' in reversed_period.text
    # the form's empty fields: no grouping, an open period
    empty = client.get(
        f"/surveys/{demo.experience_id}/results", params={"group_by": "", "since": "", "until": ""}
    )
    assert empty.status_code == 200 and 'id="filter-problem"' not in empty.text


def test_the_list_of_surveys_links_to_their_results(client: TestClient, demo: Demo) -> None:
    html = client.get("/feedback/results").text
    assert f'href="/surveys/{demo.experience_id}/results"' in html
    assert f'href="/surveys/{demo.value_id}/results"' in html
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    assert "调查结果" in client.get("/feedback/results").text


#: Method and measure names the Chinese page keeps in Latin letters (as the literature writes
#: them), on top of the words the site-wide check allows (tests/web/test_web_i18n.py).
KEPT_IN_LATIN = {"NPS", "SERVQUAL", "PLS", "ECSI", "Wald", "Rocks", "Wilson", "Johnson"} | {
    "Shapley", "CSV", "p", "R", "kehu", "EN",
}  # fmt: skip


@pytest.mark.parametrize("survey", ["experience", "value"])
def test_the_chinese_results_pages_are_fully_translated(
    client: TestClient, demo: Demo, survey: str
) -> None:
    """No English words left on the Chinese pages but the method names and the data (survey
    and competitor names)."""
    from test_web_i18n import LATIN_ALLOWED, visible_text

    survey_id = demo.experience_id if survey == "experience" else demo.value_id
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(f"/surveys/{survey_id}/results", params={"group_by": "channel"}).text
    text = visible_text(html)
    for data in ("Experience", "Value", "Rival A", "Rival B", "Staff 1", "email", "web", "phone"):
        text = text.replace(data, " ")
    words = set(re.findall(r"[A-Za-z]{2,}", text)) - KEPT_IN_LATIN - LATIN_ALLOWED
    assert not words, f"English left on the Chinese results page: {words}"


@pytest.mark.shared_data
@pytest.mark.skipif(not MOBI.exists(), reason=f"the ECSI mobi data are not at {MOBI}")
@pytest.mark.parametrize("code", ["en", "zh-Hans"])
def test_the_ecsi_survey_shows_its_satisfaction_index(
    client: TestClient, database: Database, code: str
) -> None:
    """The mobi responses through the import: the model section shows the use case's 0-100
    satisfaction index and its twelve paths (the estimates themselves are pinned to seminr in
    tests/feedback/test_results.py)."""
    with database.session() as session:
        add_staff(session, 1)
        survey_id = import_mobi(session)
    assert survey_id is not None
    with database.session() as session:
        data = results.load_results(session, MANAGER, survey_id, ResultOptions())
    model = results.satisfaction_model(data, n_boot=0)
    client.cookies.set(COOKIE_NAME, code)
    html = client.get(f"/surveys/{survey_id}/results").text
    index = html.split('id="satisfaction-index"', 1)[1].split("</div>", 1)[0]
    assert f"{model.index['satisfaction']:.1f}" in index
    assert len(_rows(html, "path-table")) == 12
    assert html.count('<svg class="chart chart-scatter"') == 1
