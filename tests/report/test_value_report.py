from __future__ import annotations

import re
from dataclasses import asdict, replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kehu.analytics.holdout import HoldoutErrors, holdout_errors, holdout_table
from kehu.analytics.tiers import pareto_curve, tier_table, value_tiers
from kehu.report import (
    LeftOut,
    PAliveMatrix,
    RunMetadata,
    SourceLanguage,
    ValueReportData,
    render_value_report,
    write_value_report,
)
from kehu.report.value_report import _environment

EVIL = '<script>alert("x")</script>'


def _p_alive_bgnbd(
    x: np.ndarray, t_x: np.ndarray, big_t: float, r: float, alpha: float, a: float, b: float
) -> np.ndarray:
    """BG/NBD P(alive) (Fader, Hardie & Lee 2005, eq. 11)."""
    ratio = np.where(
        x > 0,
        a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x),
        0.0,
    )
    return 1.0 / (1.0 + ratio)


def example_report_data(seed: int = 1, dataset: str = "synthetic shop") -> ValueReportData:
    rng = np.random.default_rng(seed)
    n = 500
    clv = rng.lognormal(mean=3.0, sigma=1.3, size=n)
    clv[:20] = 0.0
    ids = [f"C{i:04d}" for i in range(n)]
    tiers = value_tiers(clv)
    frequency = np.arange(0, 11, dtype=float)
    recency = np.linspace(0, 39, 14)
    x, t_x = np.meshgrid(frequency, recency, indexing="ij")
    p_alive = _p_alive_bgnbd(x, t_x, 39.0, r=0.243, alpha=4.414, a=0.793, b=2.426)
    p_alive[(x > 0) & (t_x == 0)] = np.nan  # impossible cells
    frequency_cal = rng.poisson(1.5, size=n)
    predicted = 0.4 + 0.6 * frequency_cal
    actual = rng.poisson(predicted)
    top = (
        pd.DataFrame(
            {
                "clv": clv,
                "tier": tiers,
                "p_alive": rng.uniform(0.2, 1, n),
                "frequency": frequency_cal,
            },
            index=pd.Index(ids, name="customer_id"),
        )
        .sort_values("clv", ascending=False)
        .head(25)
    )
    return ValueReportData(
        metadata=RunMetadata(
            dataset=dataset,
            observation_end=date(1998, 6, 30),
            unit="weeks",
            horizon=52,
            discount_rate=0.1,
            model="BG/NBD + Gamma-Gamma",
            currency="USD",
        ),
        models=[
            {
                "model": "BetaGeoFitter",
                "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                "standard_errors": {"r": 0.013, "alpha": 0.38, "a": 0.185, "b": 0.706},
                "log_likelihood": -9582.4,
                "bic": 19193.6,
                "converged": True,
            },
            {
                "model": "ParetoNBDFitter",
                "params": {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67},
                "standard_errors": {"r": 0.05, "alpha": 0.9, "s": 0.19, "beta": 6.6},
                "log_likelihood": -9595.0,
                "bic": 19218.8,
                "converged": False,
            },
        ],
        tier_table=tier_table(clv, tiers),
        pareto=pareto_curve(clv),
        p_alive=PAliveMatrix(p_alive, frequency, recency),
        clv=clv,
        top_customers=top,
        holdout=holdout_table(frequency_cal, predicted, actual),
        holdout_errors=holdout_errors(predicted, actual),
        notes=["Synthetic data, for illustration only."],
    )


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("report") / "nested" / "value.html"
    written = write_value_report(path, example_report_data())
    assert written == path and path.is_file()
    return path.read_text(encoding="utf-8")


def test_every_chart_is_inline_svg(report_html: str) -> None:
    for kind in ("line", "histogram", "heatmap", "bar"):
        assert f'class="chart chart-{kind}"' in report_html, kind
    assert report_html.count("<svg") == 4
    assert "<polyline" in report_html  # pareto curve
    assert report_html.count('class="cell"') == 11 * 14  # heatmap cells
    assert "n/a" in report_html  # NaN cells are marked


def test_sections_and_figures(report_html: str) -> None:
    for section in ("summary", "tiers", "clv", "p-alive", "models", "holdout", "top-customers"):
        assert f'id="{section}"' in report_html
    assert "BetaGeoFitter" in report_html and "lowest BIC" in report_html
    assert "High value" in report_html and "Middle value" in report_html
    assert "C0" in report_html  # top customer ids
    assert "Synthetic data, for illustration only." in report_html
    assert "10.00% (annual)" in report_html


def test_nothing_is_fetched(report_html: str) -> None:
    assert "http://" not in report_html and "https://" not in report_html
    assert "<script" not in report_html.lower()
    for tag, attrs in _parse(report_html).tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed"}, tag
        for name in ("src", "href", "xlink:href"):
            assert name not in attrs, (tag, attrs)
    assert not re.search(r"url\(", report_html)
    assert "@import" not in report_html


def test_text_from_data_is_escaped(tmp_path: Path) -> None:
    data = example_report_data(dataset=EVIL)
    evil_top = data.top_customers.copy()
    evil_top.index = pd.Index([EVIL, *evil_top.index[1:]], name="customer_id")
    models = [{**data.models[0], "model": EVIL}]
    data = replace(data, top_customers=evil_top, models=models, notes=[EVIL])
    path = write_value_report(tmp_path / "evil.html", data)
    html = path.read_text(encoding="utf-8")
    assert EVIL not in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    )


def test_report_without_holdout() -> None:
    html = render_value_report(replace(example_report_data(), holdout=None, holdout_errors=None))
    assert 'id="holdout"' not in html
    assert "chart-bar" not in html
    assert html.count("<svg") == 3


def test_holdout_errors_may_be_a_mapping() -> None:
    data = example_report_data()
    errors = data.holdout_errors
    assert isinstance(errors, HoldoutErrors)
    expected = f"Mean absolute error {errors.mae:.3f}"
    from_mapping = render_value_report(replace(data, holdout_errors=asdict(errors)))
    assert expected in from_mapping and expected in render_value_report(data)


def test_p_alive_matrix_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="shape"):
        PAliveMatrix(np.zeros((2, 3)), [0, 1, 2], [0, 1])


def test_long_top_table_is_cut() -> None:
    data = example_report_data()
    many = pd.DataFrame({"clv": np.arange(300.0)}, index=pd.Index(range(300), name="id"))
    html = render_value_report(replace(data, top_customers=many, max_top_rows=10))
    assert "The first 10 of 300 rows." in html


def test_left_out_rows_and_customers_are_listed_with_the_reason() -> None:
    data = replace(
        example_report_data(),
        left_out=[
            LeftOut("rows", "duplicate_ids", 3),
            LeftOut("rows", "after_end", 1),
            LeftOut("customers", "no_purchase_after_returns", 1),
        ],
        n_customers_in_log=501,
        data_end=date(1998, 6, 30),
    )
    html = render_value_report(data)
    section = html[html.index('id="left-out"') :]
    assert "500 of the 501 customers in the data were scored." in section
    assert "3 rows" in section and "1 row<" in section and "1 customer<" in section
    assert "no purchase left after returns" in section
    assert "dated after 1998-06-30" in section
    nothing = render_value_report(example_report_data())
    assert "Nothing: every row read was used" in nothing


class _Upper(SourceLanguage):
    """A stand-in language: every word upper case, numbers with a marker."""

    code = "x-upper"

    def lookup(self, message: str) -> str:
        # upper case, but the %(name)s placeholders stay as they are
        return re.sub(r"%\((\w+)\)S", lambda m: f"%({m.group(1).lower()})s", message.upper())

    def gettext(self, message: str, **variables: object) -> str:
        return self.lookup(message) % variables

    def format_number(self, value: float | int | None, decimals: int = 0) -> str:
        return "#" + super().format_number(value, decimals)


def test_every_word_and_number_goes_through_the_translator() -> None:
    html = render_value_report(example_report_data(), _Upper())
    assert '<html lang="x-upper">' in html
    assert "CUSTOMER VALUE REPORT" in html and "Customer value report" not in html
    assert "PARETO CURVE OF CUSTOMER VALUE" in html  # a chart title, worded in Python
    assert "MODEL FITS" in html and ">#500<" in html  # the customers card


def test_partials_of_other_templates_are_translated_too() -> None:
    environment = _environment(_Upper())
    page = environment.from_string("{{ _('a new partial, %(n)s rows', n=3) }}")
    assert page.render() == "A NEW PARTIAL, 3 ROWS"
