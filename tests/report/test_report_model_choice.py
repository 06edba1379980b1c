"""The report's model choice (:mod:`kehu.report.model_choice` and the ``_model_choice``
partial): the candidates with the winner and why, the spend model apart (never "lowest BIC"
beside a purchase model), and the chosen model's tracking plot and frequency histogram."""

from __future__ import annotations

import dataclasses
from datetime import date
from importlib import resources
from typing import Any

import numpy as np
import pytest
from test_value_report import example_report_data

from kehu.analytics.model_selection import ModelSelector
from kehu.core.i18n import strict_translations
from kehu.report import render_value_report
from kehu.report.model_choice import (
    candidate_rows,
    choice_reason,
    histogram_chart,
    model_kind,
    spend_rows,
    tracking_chart,
)
from kehu.value.reporting import report_data_from_result, report_translator
from kehu.value.schemas import ValueOptions, ValueRunResult
from kehu.value.service import compute_value
from kehu.warehouse import read_cdnow

GAMMA_GAMMA = {
    "model": "GammaGammaModel",
    "params": {"p": 6.25, "q": 3.74, "gamma": 15.44},
    "standard_errors": {"p": 1.19, "q": 0.29, "gamma": 4.16},
    "log_likelihood": -4055.9,
    "bic": 8132.4,  # lower than any purchase model's: it must not be marked
    "n_observations": 946.0,
    "converged": True,
}


@pytest.fixture(scope="module")
def cdnow_run() -> ValueRunResult:
    with resources.as_file(resources.files("kehu") / "data" / "CDNOW_sample.txt") as path:
        return compute_value(
            read_cdnow(path),
            ValueOptions(observation_end=date(1997, 9, 30), holdout_end=date(1998, 6, 30)),
        )


def _report(run: ValueRunResult, language: str) -> str:
    translator = report_translator(language)
    data = report_data_from_result(run, dataset="CDNOW sample", translator=translator)
    return render_value_report(data, translator)


@pytest.fixture(scope="module")
def cdnow_html(cdnow_run: ValueRunResult) -> str:
    return _report(cdnow_run, "en")


def test_the_model_choice_reads_in_chinese_with_every_word_translated(
    cdnow_run: ValueRunResult,
) -> None:
    with strict_translations():
        html = _report(cdnow_run, "zh-Hans")
    section = html.split('id="model-choice"', 1)[1].split('id="fit-diagnostics"', 1)[0]
    assert "购买模型比较" in section and "Purchase models compared" not in section
    assert "Pareto/NBD（依据数据选定）" in html  # the header names the model and who chose it
    assert '<tr class="chosen" data-model="pnbd">' in section


def test_the_report_shows_the_candidates_and_why_the_winner_won(cdnow_html: str) -> None:
    section = cdnow_html.split('id="model-choice"', 1)[1].split('id="fit-diagnostics"', 1)[0]
    assert "Purchase models compared" in section
    assert "Pareto/NBD has the lowest holdout mean absolute error." in section
    for name in ("bgnbd", "mbgnbd", "pnbd"):
        assert f'data-model="{name}"' in section
    assert '<tr class="chosen" data-model="pnbd">' in section
    assert "0.7545" in section and "-7.3%" in section
    # the spend model apart, and not ranked against the purchase models anywhere
    assert "Spend model" in section and "p = 6.25" in section
    assert "lowest BIC" not in cdnow_html
    assert "Pareto/NBD, chosen on the evidence" in cdnow_html  # the header names the model
    # the candidates' table replaces the plain table of fits (it repeated the same parameters)
    assert 'id="models"' not in cdnow_html and "Model fits" not in cdnow_html


def test_the_report_draws_the_tracking_plot_and_the_histogram(cdnow_html: str) -> None:
    diagnostics = cdnow_html.split('id="fit-diagnostics"', 1)[1].split("</section>", 1)[0]
    assert diagnostics.count("<svg") == 2
    assert 'id="tracking-plot"' in diagnostics and 'id="frequency-histogram"' in diagnostics
    assert "Cumulative repeat purchases by week" in diagnostics
    assert "End of calibration" in diagnostics and "Expected (Pareto/NBD)" in diagnostics
    assert "1,411" in diagnostics  # CDNOW's customers without a repeat purchase
    # on a phone the charts scroll sideways inside their figure
    assert ".scroll-figure { overflow-x: auto; }" in cdnow_html


def test_a_spend_model_is_never_marked_lowest_bic_beside_a_purchase_model() -> None:
    data = example_report_data()
    purchase = dict(data.models[0])
    html = render_value_report(dataclasses.replace(data, models=[purchase, GAMMA_GAMMA]))
    assert "lowest BIC" not in html
    # between two purchase models the badge still marks the lower BIC
    html = render_value_report(data)
    assert html.count("lowest BIC") == 1


def test_kinds_are_read_from_the_record_or_the_class_name() -> None:
    assert model_kind({"model": "GammaGammaModel"}) == "spend"
    assert model_kind({"model": "BetaGeoModel"}) == "purchase"
    assert model_kind({"model": "Anything", "kind": "spend"}) == "spend"
    rows = spend_rows([{"model": "BetaGeoModel"}, GAMMA_GAMMA], lambda v, d: f"{v:.{d}f}")
    assert [row["label"] for row in rows] == ["Gamma-Gamma"]
    assert rows[0]["log_likelihood"] == "-4055.9"


def _choice(criterion: str, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "user" if criterion == "user" else "auto",
        "chosen": "mbgnbd",
        "criterion": criterion,
        "near_tie": [],
        "too_short": None,
        "rules": {"mae_tolerance": 0.01, "bic_tolerance": 2.0},
        "candidates": [
            {"name": "bgnbd", "label": "BG/NBD", "fitted": True, "chosen": False},
            {"name": "mbgnbd", "label": "MBG/NBD", "fitted": True, "chosen": True},
        ],
        **extra,
    }


@pytest.mark.parametrize(
    ("choice", "message", "variables"),
    [
        (_choice("bic"), "%(model)s has the lowest BIC among the purchase models.", {}),
        (
            _choice("bic", near_tie=["bgnbd", "mbgnbd"]),
            "The BICs of %(tied)s are within %(tolerance)s of the lowest",
            {"tied": "BG/NBD, MBG/NBD", "tolerance": "2"},
        ),
        (_choice("holdout_mae"), "%(model)s has the lowest holdout mean absolute error.", {}),
        (
            _choice("holdout_mae", near_tie=["bgnbd", "mbgnbd"]),
            "The holdout mean absolute errors of %(tied)s",
            {"tolerance": "1%"},
        ),
        (
            _choice("too_short", too_short="12 repeat buyers"),
            "The data are too short to judge (%(why)s)",
            {"why": "12 repeat buyers"},
        ),
        (_choice("only_fitted"), "%(model)s is the only candidate that could be fitted.", {}),
        (_choice("none_fitted", chosen=None), "No candidate model could be fitted.", {}),
        (_choice("user"), "%(model)s was chosen by the user (--model).", {}),
        (
            _choice(
                "user",
                candidates=[
                    {"name": "mbgnbd", "label": "MBG/NBD", "fitted": False, "chosen": True}
                ],
            ),
            "%(model)s was chosen by the user and could not be fitted.",
            {},
        ),
    ],
)
def test_every_criterion_has_its_sentence(
    choice: dict[str, Any], message: str, variables: dict[str, str]
) -> None:
    got, values = choice_reason(choice)
    assert got.startswith(message)
    for name, value in variables.items():
        assert values[name] == value
    if "%(model)s" in got:
        assert values["model"] == "MBG/NBD"


def test_rows_and_charts_from_missing_figures() -> None:
    rows = candidate_rows(
        {"candidates": [{"name": "pnbd", "label": "Pareto/NBD", "fitted": False}]},
        lambda v, d: f"{v:.{d}f}",
    )
    assert rows[0]["bic"] == "–" and rows[0]["holdout_mae"] == "–" and rows[0]["params"] == []
    words = {"title": "t", "x_label": "x", "y_label": "y", "actual": "a", "expected": "e"}
    assert tracking_chart({}, calibration_end="c", **words) is None
    assert histogram_chart({"labels": []}, **words) is None
    drawn = tracking_chart(
        {
            "period_end_days": [7.0, 14.0],
            "actual": [1.0, 3.0],
            "expected": [1.5, 2.5],
            "calibration_end_days": 7.0,
            "holdout_end_days": 14.0,
        },
        calibration_end="end of calibration",
        **words,
    )
    assert drawn is not None and "end of calibration" in drawn and drawn.startswith("<svg")


def test_a_failed_models_reason_and_advice_are_in_the_readers_language() -> None:
    """A model that could not be fitted says why in the report's language, with its figures
    kept: the failure is stored as its message template and values (kehu.errors.ModelError),
    and the report translates both (before, the Chinese report showed the English reason)."""
    no_repeat_buyers = ModelSelector().fit(
        np.zeros(50), np.zeros(50), np.full(50, 30.0), weights=np.ones(50)
    )
    choice = {"candidates": [c.as_record() for c in no_repeat_buyers.candidates_]}
    english = candidate_rows(choice, lambda value, digits: f"{value:.{digits}f}")
    chinese = candidate_rows(
        choice, lambda value, digits: f"{value:.{digits}f}", report_translator("zh-Hans").lookup
    )
    bg_nbd_en, bg_nbd_zh = english[0], chinese[0]
    assert bg_nbd_en["failure"].startswith("BG/NBD cannot be estimated: no customer made a")
    assert bg_nbd_zh["failure"].startswith("BG/NBD 无法估计：没有客户重复购买")
    assert bg_nbd_zh["advice"].startswith("等待更长的购买历史")
    # a run stored before the templates were shows its stored English
    old = {"candidates": [{**choice["candidates"][0], "failure_template": None}]}
    rows = candidate_rows(
        old, lambda value, digits: str(value), report_translator("zh-Hans").lookup
    )
    assert rows[0]["failure"] == bg_nbd_en["failure"]
