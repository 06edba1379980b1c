"""The ECSI mobile-phone data (../shared/datasets/feedback/mobi.csv, 250 respondents) entered
through kehu's own response import into a survey made from the ECSI template, read back through
the domain's answer table, and the full ECSI PLS path model fitted on what came back.

Pinned numbers: seminr's estimates of the full ECSI model (sem-in-r/seminr-ts at commit
cf735358f662aa4e982e2d83269d314c59fddbe9, ``tests/fixtures/expected/M2_full_ecsi.json``, written
by R seminr 2.5.0.9000), the same golden file tests/analytics/test_pls.py cites: Satisfaction ->
Loyalty .485477623599999, Quality -> Satisfaction .512023940041866, R² of Satisfaction
.681078291389478 (the issue quotes them as .4855, .5120 and .6811), each within 1e-4. The model
(7 constructs, 12 paths, mode A, path weighting) is the one of that test, seminr's
demo/seminr-pls-ecsi.R. Skipped, not failed, without ../shared (the ``shared_data`` marker)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from kehu.analytics.pls import PLSPathModel
from kehu.core.auth import Principal
from kehu.feedback import importing, responses, surveys
from kehu.store.db import Database
from staff_support import add_staff

MOBI = Path(__file__).resolve().parents[2] / "../shared/datasets/feedback/mobi.csv"
MANAGER = Principal.for_user(1, ["manager"])


def _items(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(1, count + 1)]


ECSI_MEASUREMENT = {
    "Image": _items("IMAG", 5),
    "Expectation": _items("CUEX", 3),
    "Quality": _items("PERQ", 7),
    "Value": _items("PERV", 2),
    "Satisfaction": _items("CUSA", 3),
    "Complaints": ["CUSCO"],
    "Loyalty": _items("CUSL", 3),
}
ECSI_STRUCTURE = [
    ("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"),
    ("Expectation", "Quality"), ("Expectation", "Value"), ("Expectation", "Satisfaction"),
    ("Quality", "Value"), ("Quality", "Satisfaction"),
    ("Value", "Satisfaction"),
    ("Satisfaction", "Complaints"), ("Satisfaction", "Loyalty"),
    ("Complaints", "Loyalty"),
]  # fmt: skip


@pytest.mark.shared_data
@pytest.mark.skipif(not MOBI.exists(), reason=f"the ECSI mobi data are not at {MOBI}")
def test_mobi_through_the_import_reproduces_seminr(sqlite_database: Database) -> None:
    database = sqlite_database
    with database.session() as session:
        add_staff(session, 1)
        survey = surveys.create_survey(session, MANAGER, name="ECSI", template_key="ecsi")
        survey_id = survey.id
    with database.session() as session:
        result = importing.import_responses_csv(session, MANAGER, survey_id, MOBI)
        assert (result.rows, result.imported) == (250, 250)
    with database.session() as session:
        columns, rows = responses.answer_table(session, MANAGER, survey_id)
    answers = columns[len(responses.CONTEXT_COLUMNS) :]
    table = np.array([row[len(responses.CONTEXT_COLUMNS) :] for row in rows], dtype=float)
    # what came back is the file, cell for cell
    with MOBI.open(newline="") as handle:
        reader = csv.DictReader(handle)
        original = np.array([[float(r[c]) for c in answers] for r in reader])
    np.testing.assert_array_equal(table, original)

    model = PLSPathModel(ECSI_MEASUREMENT, ECSI_STRUCTURE)
    model.fit(dict(zip(answers, table.T, strict=True)))
    paths, r2 = model.path_coefficients_, model.r_squared_
    assert paths[("Satisfaction", "Loyalty")] == pytest.approx(0.485477623599999, abs=1e-4)
    assert paths[("Quality", "Satisfaction")] == pytest.approx(0.512023940041866, abs=1e-4)
    assert r2["Satisfaction"] == pytest.approx(0.681078291389478, abs=1e-4)
