"""A survey's results read from the store (kehu.feedback.results) against the analytics applied
directly, in the test, to the answers the demo generated (tests/survey_results_support.py):
what goes in through the response import must come out as the same scores, gaps, drivers and
value map, by segment, tier, team, channel and month, with the period filter and the small-sample
flag. The analytics' own numbers are pinned to published tables and other tools in
tests/analytics; here the question is only whether the store's answers reach them intact and
grouped right. The ECSI case: the mobi data through the import and the ECSI model of the
results module reproduce seminr's estimates (sem-in-r/seminr-ts at commit
cf735358f662aa4e982e2d83269d314c59fddbe9, tests/fixtures/expected/M2_full_ecsi.json:
Satisfaction -> Loyalty .485477623599999, Quality -> Satisfaction .512023940041866, R² of
Satisfaction .681078291389478), skipped without ../shared."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pytest

from kehu.analytics import satisfaction, servqual, value_map
from kehu.analytics.drivers import KeyDriverAnalysis
from kehu.errors import InputError
from kehu.feedback import results
from kehu.feedback.results import ResultOptions
from kehu.store.db import Database
from staff_support import add_staff
from survey_results_support import (
    MANAGER,
    MOBI,
    QUALITIES,
    QUALITY_DIMENSIONS,
    Demo,
    import_mobi,
    make_demo,
)


@pytest.fixture(scope="module")
def demo_store(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: object
) -> Iterator[tuple[Database, Demo]]:
    import shutil

    path = tmp_path_factory.mktemp("results") / "kehu.db"
    shutil.copyfile(str(sqlite_template), path)
    database = Database(f"sqlite:///{path}")
    with database.session() as session:
        add_staff(session, 1)
        demo = make_demo(session)
    yield database, demo
    database.dispose()


def _load(store: tuple[Database, Demo], survey_id: int, **options: object) -> results.ResultData:
    database, _ = store
    with database.session() as session:
        return results.load_results(session, MANAGER, survey_id, ResultOptions(**options))  # type: ignore[arg-type]


def test_scores_for_all_and_by_month_are_the_analytics_of_the_answers(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    data = _load(demo_store, demo.experience_id, group_by="month")
    rows = results.score_rows(data, ResultOptions(group_by="month"))
    answers = demo.experience
    expected = {
        ("recommend", None): satisfaction.nps(answers["recommend"]),
        ("satisfaction", None): satisfaction.csat(answers["satisfaction"]),
        ("effort", None): satisfaction.ces(answers["effort"]),
    }
    for month in sorted(set(demo.months)):
        chosen = demo.months == month
        expected[("recommend", month)] = satisfaction.nps(answers["recommend"][chosen])
        expected[("satisfaction", month)] = satisfaction.csat(answers["satisfaction"][chosen])
        expected[("effort", month)] = satisfaction.ces(answers["effort"][chosen])
    got = {(r.question_id, r.group): r for r in rows}
    assert set(got) == set(expected)
    for key, score in expected.items():
        row = got[key]
        assert (row.estimate, row.low, row.high, row.n) == pytest.approx(
            (score.estimate, score.low, score.high, score.n), abs=1e-12
        ), key
        assert row.small_sample == (score.n < 30)
    assert any(r.small_sample for r in rows) is False  # 40 per month: none below 30


@pytest.mark.parametrize(
    ("grouping", "keys"),
    [("segment", "segments"), ("tier", "tiers"), ("team", "teams"), ("channel", "channels")],
)
def test_scores_by_segment_tier_team_and_channel(demo_store, grouping: str, keys: str) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    data = _load(demo_store, demo.experience_id)
    options = ResultOptions(min_n=45)
    rows = results.score_rows(data, options, question_id="recommend", group_by=grouping)
    labels = getattr(demo, keys)
    groups = sorted(set(labels))
    assert [r.group for r in rows] == [None, *groups]
    for row in rows[1:]:
        expected = satisfaction.nps(demo.experience["recommend"][labels == row.group], min_n=45)
        assert (row.estimate, row.low, row.high, row.n) == pytest.approx(
            (expected.estimate, expected.low, expected.high, expected.n)
        )
        assert row.small_sample is (expected.n < 45)
    # a third of 120 (segment, tier, channel) is flagged under 45, a half (team) is not
    assert [r.small_sample for r in rows] == [False] + [len(groups) == 3] * len(groups)


def test_the_period_filter_and_the_nps_change_between_two_periods(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    data = _load(demo_store, demo.experience_id, since=date(2026, 10, 1), until=date(2026, 11, 30))
    assert data.n == int(np.isin(demo.months, ["2026-10", "2026-11"]).sum())
    whole = _load(demo_store, demo.experience_id)
    change = results.nps_change_between(
        whole,
        "recommend",
        (date(2026, 9, 1), date(2026, 9, 30)),
        (date(2026, 11, 1), date(2026, 11, 30)),
        ResultOptions(),
    )
    nps = demo.experience["recommend"]
    expected = satisfaction.nps_change(nps[demo.months == "2026-09"], nps[demo.months == "2026-11"])
    assert (change.estimate, change.low, change.high, change.p_value) == pytest.approx(
        (expected.estimate, expected.low, expected.high, expected.p_value)
    )
    with pytest.raises(InputError, match="no NPS question") as caught:
        september = (date(2026, 9, 1), date(2026, 9, 30))
        results.nps_change_between(whole, "effort", september, september, ResultOptions())
    assert caught.value.column == "question"


def test_servqual_gaps_unweighted_and_weighted(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    data = _load(demo_store, demo.experience_id)
    rows = results.servqual_rows(data, ResultOptions())
    answers = demo.experience
    expected = servqual.servqual_gaps(
        np.column_stack([answers[f"{q}.expectation"] for q in QUALITIES]),
        np.column_stack([answers[f"{q}.perception"] for q in QUALITIES]),
        QUALITY_DIMENSIONS,
        items=QUALITIES,
        importance=np.column_stack([answers[f"qualities_importance.{q}"] for q in QUALITIES]),
    )
    got = {(r.level_of, r.name, r.weighted): r for r in rows}
    assert expected.weighted_dimensions is not None and expected.weighted_overall is not None
    pairs = [
        *((("item", k, False), v) for k, v in expected.items.items()),
        *((("dimension", k, False), v) for k, v in expected.dimensions.items()),
        *((("dimension", k, True), v) for k, v in expected.weighted_dimensions.items()),
        (("overall", "overall", False), expected.overall),
        (("overall", "overall", True), expected.weighted_overall),
    ]
    assert len(got) == len(pairs)
    for key, score in pairs:
        assert (got[key].estimate, got[key].low, got[key].high, got[key].n) == pytest.approx(
            (score.estimate, score.low, score.high, score.n)
        ), key


def test_key_drivers_and_the_importance_performance_matrix(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    data = _load(demo_store, demo.experience_id)
    found = results.driver_results(data, ResultOptions(), n_boot=100, seed=3)
    names = ["satisfaction", "effort", *(f"{q}.perception" for q in QUALITIES)]
    assert found.outcome == "recommend" and list(found.drivers) == names
    x = np.column_stack([demo.experience[n] for n in names])
    for method, summary in (
        ("relative_weights", found.relative_weights),
        ("shapley", found.shapley),
    ):
        expected = KeyDriverAnalysis(method, n_boot=100, seed=3).fit(  # type: ignore[arg-type]
            x, demo.experience["recommend"], names, outcome="recommend"
        )
        assert summary is not None
        assert summary == expected.summary()
    matrix = KeyDriverAnalysis("relative_weights", n_boot=0).fit(
        x, demo.experience["recommend"], names
    )
    ipa = matrix.importance_performance(rule="mean")
    assert found.matrix == ipa.rows()
    assert found.quadrant_rule == ipa.rule


def test_driver_errors_name_the_columns(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    data = _load(demo_store, demo.experience_id, until=date(2026, 9, 4))  # 4 responses
    with pytest.raises(InputError, match="needs at least 9 complete responses"):
        results.driver_results(data, ResultOptions(), n_boot=0)
    whole = _load(demo_store, demo.experience_id)
    with pytest.raises(InputError) as caught:
        results.driver_results(whole, ResultOptions(), drivers=["nonsense"])
    assert caught.value.column == "drivers"


def test_the_value_map_and_delivered_value(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    data = _load(demo_store, demo.value_id)
    found = results.value_results(data, ResultOptions(), n_bootstrap=200, seed=1)
    value = demo.value
    quality = ["product", "service", "personnel", "image"]
    subjects = {
        "us": "us",
        f"c{demo.competitor_ids[0]}": "Rival A",
        f"c{demo.competitor_ids[1]}": "Rival B",
    }

    def ratings(attributes: list[str]) -> dict[str, np.ndarray]:
        return {
            name: np.column_stack([value[f"value_performance.{a}.{s}"] for a in attributes])
            for s, name in subjects.items()
        }

    expected = value_map.customer_value_analysis(
        np.column_stack([value[f"value_importance.{a}"] for a in quality]),
        ratings(quality),
        attributes=quality,
        us="us",
        price_importance=np.array([1.0]),
        price_ratings=ratings(["price"]),
        price_attributes=["price"],
        n_bootstrap=200,
        seed=1,
    )
    assert found.analysis == expected
    delivered = value_map.delivered_value(
        {"us": np.column_stack([value[f"value_performance.{p}.us"] for p in quality])},
        {
            "us": np.column_stack(
                [value[c] for c in ("cost_money", "cost_time", "cost_energy", "cost_worry")]
            )
        },
        scale=(1, 10),
    )
    assert found.delivered == delivered["us"]


def test_a_survey_without_the_questions_says_so(demo_store) -> None:  # type: ignore[no-untyped-def]
    _, demo = demo_store
    value_data = _load(demo_store, demo.value_id)
    with pytest.raises(InputError, match="no expectation/perception"):
        results.servqual_rows(value_data, ResultOptions())
    with pytest.raises(InputError, match="ECSI dimension"):
        results.satisfaction_model(value_data, n_boot=0)
    experience = _load(demo_store, demo.experience_id)
    with pytest.raises(InputError, match="rates no competitors"):
        results.value_results(experience, ResultOptions())
    with pytest.raises(InputError) as caught:
        ResultOptions(group_by="colour")  # type: ignore[arg-type]
    assert caught.value.column == "group_by"


@pytest.mark.shared_data
@pytest.mark.skipif(not MOBI.exists(), reason=f"the ECSI mobi data are not at {MOBI}")
def test_the_ecsi_model_of_the_results_reproduces_seminr(sqlite_database: Database) -> None:
    with sqlite_database.session() as session:
        add_staff(session, 1)
        survey_id = import_mobi(session)
    assert survey_id is not None
    with sqlite_database.session() as session:
        data = results.load_results(session, MANAGER, survey_id, ResultOptions())
    model = results.satisfaction_model(data, n_boot=20, seed=1)
    paths = {(p["source"], p["target"]): p["estimate"] for p in model.paths}
    assert paths[("satisfaction", "loyalty")] == pytest.approx(0.485477623599999, abs=1e-4)
    assert paths[("quality", "satisfaction")] == pytest.approx(0.512023940041866, abs=1e-4)
    assert model.r_squared["satisfaction"] == pytest.approx(0.681078291389478, abs=1e-4)
    assert model.n == 250 and model.n_dropped == 0
    assert 0 < model.index["satisfaction"] < 100
    assert {row["construct"] for row in model.importance_performance} == {
        "image", "expectation", "quality", "value"
    }  # fmt: skip
