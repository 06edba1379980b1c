"""The value page's model choice: the candidates the run compared (figures, the winner and
why), the spend model apart, the tracking plot and the frequency histogram, read from the run's
stored figures, in English and in Chinese; a candidate that failed says why and what to try."""

from __future__ import annotations

import copy
import re
from datetime import date
from html import unescape
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from web_support import SeededRun

from kehu.store.db import Database
from kehu.value.schemas import ValueOptions
from kehu.value.service import compute_value
from kehu.value.tables import ValueRun
from kehu.warehouse import read_cdnow
from kehu.web.i18n import COOKIE_NAME


@pytest.fixture(scope="module")
def cdnow_fit() -> dict[str, Any]:
    """A real run's models and diagnostics: CDNOW, 39 weeks of calibration, 39 of holdout."""
    with resources.as_file(resources.files("kehu") / "data" / "CDNOW_sample.txt") as path:
        result = compute_value(
            read_cdnow(path),
            ValueOptions(observation_end=date(1997, 9, 30), holdout_end=date(1998, 6, 30)),
        )
    return {"models": result.models, "diagnostics": result.diagnostics}


def _store(database: Database, run_id: int, fit: dict[str, Any]) -> None:
    with database.session() as session:
        session.execute(
            update(ValueRun)
            .where(ValueRun.id == run_id)
            .values(models=fit["models"], diagnostics=fit["diagnostics"])
        )


def _section(html: str, name: str) -> str:
    return html.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]


def _rows(section: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-model="(\w+)"[^>]*>(.*?)</tr>', section, flags=re.DOTALL))


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_page_shows_the_candidates_the_winner_and_why(
    client: TestClient, database: Database, seeded: SeededRun, cdnow_fit: dict[str, Any]
) -> None:
    _store(database, seeded.run_id, cdnow_fit)
    html = client.get("/value").text
    # the lede names the model the run chose, not "auto"
    assert "with the Pareto/NBD model" in _text(html)
    section = _section(html, "model-choice")
    text = _text(section)
    assert "Pareto/NBD has the lowest holdout mean absolute error." in text
    rows = _rows(section)
    assert list(rows) == ["bgnbd", "mbgnbd", "pnbd"]
    assert "chosen" in _text(rows["pnbd"]) and "fitted" in _text(rows["bgnbd"])
    # the figures of tests/value/test_model_choice.py, as the page formats them
    assert "-9,582.4" in _text(rows["bgnbd"]) and "0.7855" in _text(rows["bgnbd"])
    assert "0.7545" in _text(rows["pnbd"]) and "-7.3%" in _text(rows["pnbd"])
    # the spend model is shown apart, never ranked against the purchase models
    assert "Spend model" in text and "Gamma-Gamma" in _text(section.split("Spend model")[1])
    assert "lowest BIC" not in html
    charts = _section(html, "fit-diagnostics")
    assert charts.count("<svg") == 2
    assert "Cumulative repeat purchases by week" in charts
    assert "Customers by repeat purchases in the calibration period" in charts
    assert "End of calibration" in charts and "Expected (Pareto/NBD)" in charts


def test_the_page_in_chinese(
    client: TestClient, database: Database, seeded: SeededRun, cdnow_fit: dict[str, Any]
) -> None:
    _store(database, seeded.run_id, cdnow_fit)
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/value").text
    text = _text(_section(html, "model-choice"))
    assert "购买模型比较" in text and "Pareto/NBD 在验证期的平均绝对误差最低。" in text
    assert "验证期平均绝对误差" in text and "跟踪误差" in text and "消费额模型" in text
    charts = _section(html, "fit-diagnostics")
    assert "按周累计的重复购买次数" in charts and "校准期结束" in charts
    assert "预期（Pareto/NBD）" in charts


def test_a_candidate_that_failed_says_why_and_what_to_try(
    client: TestClient, database: Database, seeded: SeededRun, cdnow_fit: dict[str, Any]
) -> None:
    fit = copy.deepcopy(cdnow_fit)
    choice = fit["diagnostics"]["model_choice"]
    pnbd = choice["candidates"][2]
    pnbd.update(
        fitted=False,
        chosen=False,
        params={},
        standard_errors={},
        log_likelihood=None,
        bic=None,
        holdout_mae=None,
        tracking_error=None,
        failure_type="ConvergenceError",
        failure="ParetoNBDModel did not converge: the line search found no step",
        advice="try another model (MBG/NBD or Pareto/NBD)",
    )
    choice["candidates"][1]["chosen"] = True
    choice.update(chosen="mbgnbd", criterion="holdout_mae")
    _store(database, seeded.run_id, fit)
    row = _rows(_section(client.get("/value").text, "model-choice"))["pnbd"]
    assert "<strong>did not converge</strong>" in row
    assert "ParetoNBDModel did not converge: the line search found no step." in _text(row)
    assert "What to try: try another model (MBG/NBD or Pareto/NBD)" in _text(row)
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    row = _rows(_section(client.get("/value").text, "model-choice"))["pnbd"]
    assert "未收敛" in row and "可以尝试：" in row


def test_a_run_without_a_recorded_choice_shows_no_comparison(
    client: TestClient, seeded: SeededRun
) -> None:
    html = client.get("/value").text
    assert 'id="model-choice"' not in html and 'id="fit-diagnostics"' not in html
    assert "with the BG/NBD model" in _text(html)  # the model the old run was given
