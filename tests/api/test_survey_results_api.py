"""The survey results API over the demo responses (tests/survey_results_support.py, entered
through the response import): each route answers what the analytics make of the generated
answers, computed in the test (the analytics themselves are pinned to published figures in
tests/analytics); the CSV exports carry the same rows; what the analytics refuse is a 422
naming the columns, never a 500; a reader may read, an unauthenticated caller may not."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from office import Office

from kehu.analytics import satisfaction
from kehu.analytics.drivers import KeyDriverAnalysis
from survey_results_support import QUALITIES, Demo, make_demo


@pytest.fixture
def demo(office: Office) -> Demo:
    with office.database.session() as session:
        return make_demo(session, n=90)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_scores_by_channel_json_and_csv(office: Office, demo: Demo) -> None:
    reader = office.client("reader")
    url = f"/api/surveys/{demo.experience_id}/results/scores"
    body = reader.get(url, params={"group_by": "channel", "min_n": 31}).json()
    assert body["n_responses"] == 90 and body["min_n"] == 31
    nps = {s["group"]: s for s in body["scores"] if s["question_id"] == "recommend"}
    for channel in ("email", "phone", "web"):
        expected = satisfaction.nps(demo.experience["recommend"][demo.channels == channel])
        got = nps[channel]
        assert (got["estimate"], got["low"], got["high"], got["n"]) == pytest.approx(
            (expected.estimate, expected.low, expected.high, expected.n)
        )
        assert got["small_sample"] is True  # 30 per channel, below 31
    assert nps[None]["small_sample"] is False
    exported = _csv(reader.get(f"/api/surveys/{demo.experience_id}/results/scores.csv",
                               params={"group_by": "channel"}).text)  # fmt: skip
    assert len(exported) == len(body["scores"])
    first = exported[0]
    assert first["question_id"] == "recommend" and float(first["estimate"]) == pytest.approx(
        nps[None]["estimate"]
    )


def test_drivers_gaps_value_map_and_the_responses_export(office: Office, demo: Demo) -> None:
    manager = office.client("manager")
    base = f"/api/surveys/{demo.experience_id}/results"
    drivers = manager.get(f"{base}/drivers", params={"n_boot": 0}).json()
    names = ["satisfaction", "effort", *(f"{q}.perception" for q in QUALITIES)]
    expected = KeyDriverAnalysis("relative_weights", n_boot=0).fit(
        np.column_stack([demo.experience[n] for n in names]), demo.experience["recommend"], names
    )
    assert drivers["r_squared"] == pytest.approx(expected.r_squared_)
    shares = {
        d["name"]: d["share"] for d in drivers["drivers"] if d["method"] == "relative_weights"
    }
    assert shares == pytest.approx(dict(zip(names, expected.share_.tolist(), strict=True)))
    assert "concentrate here" in drivers["quadrant_rule"]
    gaps = manager.get(f"{base}/gaps").json()["gaps"]
    overall = next(g for g in gaps if g["level_of"] == "overall" and not g["weighted"])
    item_gaps = np.column_stack(
        [
            demo.experience[f"{q}.perception"] - demo.experience[f"{q}.expectation"]
            for q in QUALITIES
        ]
    )
    assert overall["estimate"] == pytest.approx(item_gaps.mean())
    value = manager.get(f"/api/surveys/{demo.value_id}/results/value-map", params={"n_boot": 0})
    assert value.status_code == 200, value.text
    brands = {b["brand"]: b for b in value.json()["brands"]}
    assert set(brands) == {"us", "Rival A", "Rival B"}
    assert brands["us"]["relative_quality"] > 1  # the demo rates us above both
    brand_rows = _csv(manager.get(f"/api/surveys/{demo.value_id}/results/value-map.csv").text)
    assert [r["brand"] for r in brand_rows] == ["us", "Rival A", "Rival B"]
    assert float(brand_rows[0]["relative_quality"]) == pytest.approx(
        brands["us"]["relative_quality"]
    )
    driver_rows = _csv(manager.get(f"{base}/drivers.csv").text)
    assert len(driver_rows) == 2 * len(names)  # relative weights and Shapley values
    assert {r["method"] for r in driver_rows} == {"relative_weights", "shapley"}
    exported = manager.get(f"/api/surveys/{demo.experience_id}/responses.csv")
    rows = _csv(exported.text)
    assert len(rows) == 90
    assert [float(r["recommend"]) for r in rows] == demo.experience["recommend"].tolist()


def test_what_the_analytics_refuse_is_a_422_naming_it(office: Office, demo: Demo) -> None:
    manager = office.client("manager")
    base = f"/api/surveys/{demo.experience_id}/results"
    few = manager.get(f"{base}/drivers", params={"until": "2026-09-03", "n_boot": 0})
    assert few.status_code == 422
    assert "needs at least 9 complete responses" in few.json()["error"]["message"]
    model = manager.get(f"{base}/model", params={"n_boot": 0})
    assert model.status_code == 422 and "ECSI" in model.json()["error"]["message"]
    change = manager.get(
        f"{base}/nps-change",
        params={"question": "recommend", "earlier_from": "2026-09-01", "earlier_to": "2026-09-30",
                "later_from": "2026-11-01", "later_to": "2026-11-30"},
    )  # fmt: skip
    assert change.status_code == 200
    nps = demo.experience["recommend"]
    expected = satisfaction.nps_change(nps[demo.months == "2026-09"], nps[demo.months == "2026-11"])
    assert change.json()["p_value"] == pytest.approx(expected.p_value)
    assert office._client_factory().get(f"{base}/scores").status_code == 401
