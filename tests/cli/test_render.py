"""Terminal rendering (:mod:`kehu.cli.render`): the purchase models' table at 80 columns."""

from __future__ import annotations

import io

from rich.console import Console

from kehu.cli.render import candidate_failures, candidates_table

# The reason and advice a Pareto/NBD on the ridge of one dropout rate gives (the wording of
# kehu.analytics.paretonbd's IdentificationError, brackets and all), several sentences long.
RIDGE_REASON = (
    "ParetoNBDModel cannot be identified: the data cannot tell how much the customers' dropout "
    "rates differ. The likelihood rises as s and beta grow together without bound (params "
    "{'r': 0.52, 'alpha': 1.77, 's': 317.0, 'beta': 4.5e+03} when the fit stopped; no finite s "
    "does measurably better), the gamma distribution of the dropout rates shrinking to a point "
    "at s/beta = 0.0699: the customers look as if they all drop out at one common rate [sic]"
)
ADVICE = "use the MBG/NBD or BG/NBD, or wait for a longer purchase history"


def choice() -> dict[str, object]:
    # figures as large as a 100,000-customer log gives
    fitted = {"fitted": True, "log_likelihood": -689664.7363, "bic": 1379375.2, "holdout_mae": 0.41}
    return {
        "candidates": [
            {**fitted, "label": "BG/NBD", "chosen": False, "tracking_error": 0.021},
            {**fitted, "label": "MBG/NBD", "chosen": True, "tracking_error": -0.013},
            {
                "label": "Pareto/NBD",
                "fitted": False,
                "chosen": False,
                "failure": RIDGE_REASON,
                "failure_type": "IdentificationError",
                "advice": ADVICE,
            },
        ]
    }


def printed_at(width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(candidates_table(choice()))
    for line in candidate_failures(choice()):
        console.print(line, markup=False, highlight=False)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_a_failed_models_reason_is_shown_in_full_at_80_columns() -> None:
    """The table cut the reason to "failed: ParetoNBDM…" at 80 columns; now the status says
    failed and the reason and advice follow under the table, whole, wrapped at the width."""
    out = printed_at(80)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out
    words = " ".join(out.split())
    assert f"Pareto/NBD failed (IdentificationError): {RIDGE_REASON}" in words
    assert f"Pareto/NBD: what to try: {ADVICE}" in words
    table = out.split("Pareto/NBD failed")[0]
    assert "failed" in table and "chosen" in table
    # the fitted models' figures are whole too
    assert "-689664.74" in table and "+2.1%" in table and "-1.3%" in table


def test_only_failed_models_get_lines_under_the_table() -> None:
    all_fitted = {"candidates": choice()["candidates"][:2]}  # type: ignore[index]
    assert candidate_failures(all_fitted) == []
