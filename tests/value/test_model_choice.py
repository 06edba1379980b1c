"""``--model auto`` on CDNOW, the way Fader, Hardie & Lee (2005, "Counting your customers the
easy way", *Marketing Science* 24(2)) validate their models: the 2,357-customer sample from the
raw log (shipped with kehu), calibration 1997-01-01..1997-09-30 (39 weeks), holdout to
1998-06-30 (39 weeks). The figures are the ones ``docs/value.md`` reports; BG/NBD's and
Pareto/NBD's parameters are pinned to the published ones in ``test_cdnow_truth.py`` (not
repeated here: only their log-likelihoods, to show these candidates are those fits).

Measured here (kehu's own, not published): holdout MAE per customer BG/NBD 0.7855, MBG/NBD
0.7648, Pareto/NBD 0.7545; tracking error over the holdout -11.4%, -16.3%, -7.3% of the 1,882
actual repeat purchases; BIC 19,195.9, 19,195.3, 19,221.0."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from kehu.core.auth import SYSTEM
from kehu.store.db import Database
from kehu.value.queries import latest_run, run_fit
from kehu.value.schemas import ValueOptions, ValueRunResult
from kehu.value.service import compute_value, save_value_run
from kehu.warehouse import read_cdnow

CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)


def _cdnow_run(**options: Any) -> ValueRunResult:
    with resources.as_file(resources.files("kehu") / "data" / "CDNOW_sample.txt") as path:
        return compute_value(
            read_cdnow(path),
            ValueOptions(observation_end=CALIBRATION_END, unit="week", **options),
        )


@pytest.fixture(scope="module")
def with_holdout() -> ValueRunResult:
    return _cdnow_run(holdout_end=HOLDOUT_END)


def test_cdnow_with_its_holdout_chooses_pareto_nbd_by_holdout_error(
    with_holdout: ValueRunResult,
) -> None:
    choice = with_holdout.diagnostics["model_choice"]
    assert choice["mode"] == "auto" and choice["criterion"] == "holdout_mae"
    assert choice["chosen"] == "pnbd" and choice["near_tie"] == []
    assert choice["too_short"] is None and choice["repeat_buyers"] == 946
    figures = {c["name"]: c for c in choice["candidates"]}
    expected = {
        "bgnbd": (0.7855, -0.114, 19195.9, -9582.4),
        "mbgnbd": (0.7648, -0.163, 19195.3, -9582.1),
        "pnbd": (0.7545, -0.073, 19221.0, -9595.0),
    }
    for name, (mae, tracking, bic, ll) in expected.items():
        candidate = figures[name]
        assert candidate["fitted"] and candidate["converged"], name
        assert candidate["holdout_mae"] == pytest.approx(mae, abs=5e-5), name
        assert candidate["tracking_error"] == pytest.approx(tracking, abs=5e-4), name
        assert candidate["bic"] == pytest.approx(bic, abs=0.05), name
        assert candidate["log_likelihood"] == pytest.approx(ll, abs=0.05), name
        assert candidate["holdout_actual"] == 1882
    # the winner is the run's purchase model, and its holdout table is the one shown
    assert with_holdout.models[0]["model"] == "ParetoNBDModel"
    assert [m["kind"] for m in with_holdout.models] == ["purchase", "spend"]
    assert with_holdout.holdout_errors is not None
    assert with_holdout.holdout_errors["mae"] == pytest.approx(0.7545, abs=5e-5)


def test_cdnow_without_a_holdout_is_a_bic_near_tie_that_goes_to_mbg_nbd() -> None:
    result = _cdnow_run()
    choice = result.diagnostics["model_choice"]
    assert choice["criterion"] == "bic" and choice["near_tie"] == ["bgnbd", "mbgnbd"]
    assert choice["chosen"] == "mbgnbd" and result.models[0]["model"] == "ModifiedBetaGeoModel"


def test_the_run_stores_the_tracking_series_and_the_frequency_histogram(
    with_holdout: ValueRunResult,
) -> None:
    tracking = with_holdout.diagnostics["tracking"]
    assert tracking["start"] == "1997-01-01" and tracking["step_days"] == 7
    # 1997-01-01 .. 1998-06-30 is 546 days: 78 weeks, one point at the end of each
    assert len(tracking["actual"]) == len(tracking["expected"]) == 78
    assert tracking["calibration_end_days"] == 272 and tracking["holdout_end_days"] == 545
    # CDNOW's 2,457 calibration repeat purchases (the summary's total frequency) and 1,882 more
    # in the holdout: the cumulative series ends at their sum, and never falls
    assert tracking["actual"][38] == 2457  # through day 272 (week 39 ends on day 273)
    assert tracking["actual"][-1] == 2457 + 1882
    assert all(b >= a for a, b in zip(tracking["actual"], tracking["actual"][1:], strict=False))
    # Pareto/NBD's expected cumulative repeat purchases at the end of the holdout (measured)
    assert tracking["expected"][-1] == pytest.approx(4275.4, abs=0.5)
    histogram = with_holdout.diagnostics["frequency_histogram"]
    assert histogram["labels"] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert histogram["actual"] == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert sum(histogram["expected"]) == pytest.approx(2357)


def test_an_explicit_model_is_used_and_recorded_as_the_users() -> None:
    result = _cdnow_run(holdout_end=HOLDOUT_END, model="bgnbd")
    choice = result.diagnostics["model_choice"]
    assert choice["mode"] == "user" and choice["chosen"] == "bgnbd"
    # the user's model is the only one fitted (the others would cost time, not change it)
    assert [c["name"] for c in choice["candidates"]] == ["bgnbd"]
    assert choice["candidates"][0]["holdout_mae"] == pytest.approx(0.7855, abs=5e-5)
    assert result.models[0]["model"] == "BetaGeoModel"


def test_the_stored_run_gives_the_choice_back(
    database: Database, with_holdout: ValueRunResult, tmp_path: Path
) -> None:
    save_value_run(
        database, with_holdout, source="cdnow", fingerprint="0" * 64, archive_dir=tmp_path
    )
    with database.session() as session:
        run = latest_run(session, SYSTEM)
        assert run is not None
        fit = run_fit(session, SYSTEM, run)
    assert fit.model_choice is not None and fit.model_choice["chosen"] == "pnbd"
    assert fit.tracking is not None and len(fit.tracking["actual"]) == 78
    assert fit.frequency_histogram is not None and fit.frequency_histogram["actual"][0] == 1411
    assert [m["kind"] for m in fit.models] == ["purchase", "spend"]
