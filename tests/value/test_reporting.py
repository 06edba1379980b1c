"""The value report in a language: :mod:`kehu.value.reporting` hands the report layer a
:class:`kehu.core.i18n.Translator`; in strict mode an untranslated word fails the render."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from kehu.analytics.holdout import holdout_errors, holdout_table
from kehu.analytics.tiers import pareto_curve, tier_table, value_tiers
from kehu.core.i18n import MissingTranslationError, Translator, strict_translations
from kehu.errors import InputError
from kehu.report import LeftOut, PAliveMatrix, RunMetadata, ValueReportData, render_value_report
from kehu.report.value_report import _environment
from kehu.value.reporting import left_out, report_translator


def example_report_data() -> ValueReportData:
    """A small report with every section: tiers, models, holdout, top customers."""
    rng = np.random.default_rng(3)
    n = 500
    clv = rng.lognormal(3.0, 1.3, size=n)
    tiers = value_tiers(clv)
    frequency = rng.poisson(1.5, size=n)
    predicted = 0.4 + 0.6 * frequency
    actual = rng.poisson(predicted)
    top = pd.DataFrame(
        {"clv": clv, "value_tier": tiers, "rfm_segment": "champions"},
        index=pd.Index([f"C{i}" for i in range(n)], name="customer_id"),
    ).head(10)
    grid = np.linspace(0.1, 1.0, 11 * 14).reshape(11, 14)
    return ValueReportData(
        metadata=RunMetadata(
            dataset="shop",
            observation_end=date(1998, 6, 30),
            unit="week",
            horizon=52,
            discount_rate=0.1,
            model="mbgnbd",
            currency="CNY",
        ),
        models=[
            {
                "model": "ModifiedBetaGeoModel",
                "params": {"r": 0.5, "alpha": 4.4, "a": 0.8, "b": 2.4},
                "standard_errors": {"r": 0.01, "alpha": 0.4, "a": 0.2, "b": 0.7},
                "log_likelihood": -9582.4,
                "bic": 19200.1,
                "converged": True,
            }
        ],
        tier_table=tier_table(clv, tiers),
        pareto=pareto_curve(clv),
        p_alive=PAliveMatrix(grid, np.arange(11.0), np.linspace(0, 39, 14)),
        clv=clv,
        top_customers=top,
        holdout=holdout_table(frequency, predicted, actual),
        holdout_errors=holdout_errors(predicted, actual),
    )


def test_report_renders_in_chinese_with_every_word_translated() -> None:
    data = replace(
        example_report_data(),
        left_out=[
            LeftOut("rows", "duplicate_ids", 1234),
            LeftOut("customers", "no_purchase_after_returns", 1),
            LeftOut("customers", "first_purchase_after_end", 2),
        ],
        n_customers_in_log=503,
        data_end=date(1998, 6, 30),
    )
    with strict_translations():
        html = render_value_report(data, report_translator("zh-Hans", "Asia/Shanghai"))
    assert '<html lang="zh-Hans">' in html
    assert "<h1>客户价值报告</h1>" in html
    assert "观察截止日 1998年6月30日" in html  # the date in the locale
    assert "1,234 行" in html and "1 位客户" in html and "2 位客户" in html
    assert "退货后没有剩余购买" in html and "首次购买晚于观察截止日 1998年6月30日" in html
    assert "高价值客户" in html  # tier names from kehu.analytics.tiers.TIER_NAMES
    assert "客户价值帕累托曲线" in html  # a chart title, worded in Python
    for english in ("Customer value report", "Value tiers", "Pareto curve", "What was left out"):
        assert english not in html


def test_an_untranslated_word_fails_the_chinese_report_in_strict_mode() -> None:
    environment = _environment(report_translator("zh-Hans"))
    page = environment.from_string("{{ _('A word no catalog has, surely') }}")
    with strict_translations(), pytest.raises(MissingTranslationError):
        page.render()


def test_english_report_through_the_catalog_matches_the_source_text() -> None:
    with strict_translations():
        html = render_value_report(example_report_data(), report_translator("en"))
    assert '<html lang="en">' in html and "<h1>Customer value report</h1>" in html
    assert "observation end Jun 30, 1998" in html


def test_unknown_language_is_refused() -> None:
    with pytest.raises(InputError, match="zh-Hans"):
        report_translator("fr")
    assert isinstance(report_translator("en"), Translator)


def test_left_out_from_diagnostics() -> None:
    diagnostics = {
        "duplicate_ids_dropped": 2,
        "transactions_after_end": 0,
        "customers_left_out": {"no_purchase_after_returns": 1, "first_purchase_after_end": 0},
    }
    assert left_out(diagnostics) == [
        LeftOut("rows", "duplicate_ids", 2),
        LeftOut("customers", "no_purchase_after_returns", 1),
    ]
    # a run recorded before customers were counted
    assert left_out({"duplicate_ids_dropped": 0}) == []
