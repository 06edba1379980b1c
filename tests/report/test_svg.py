from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.report import svg

EVIL = '<b onload="x">&</b>'


def _well_formed(text: str) -> ET.Element:
    return ET.fromstring(text)  # raises on unescaped text or broken markup


def test_line_chart_escapes_and_is_well_formed() -> None:
    chart = svg.line_chart(
        [svg.Series(EVIL, [0, 1, 2], [0, 0.5, 1]), svg.Series("b", [0, 2], [1, np.nan])],
        title=EVIL,
        x_label=EVIL,
        y_label=EVIL,
        markers=[svg.Marker(1, 0.5, EVIL)],
    )
    root = _well_formed(chart)
    assert root.tag == "svg" and "chart-line" in root.attrib["class"]
    assert EVIL not in chart
    assert root.findtext("title") == EVIL
    assert len(root.findall("polyline")) == 1  # the second series is one point: a dot


def test_labels_of_markers_close_together_do_not_overlap() -> None:
    """The Pareto chart's two points (18.2 % of customers -> 80 %, top 20 % -> 82.1 %) are a few
    pixels apart: their labels were written one over the other."""
    labels = ["18.2% of customers → 80% of value", "top 20% → 82.1% of value"]
    chart = svg.line_chart(
        [svg.Series("curve", [0, 0.5, 1], [0, 0.9, 1])],
        title="t",
        x_label="x",
        y_label="y",
        x_range=(0, 1),
        y_range=(0, 1),
        markers=[svg.Marker(0.182, 0.80, labels[0]), svg.Marker(0.20, 0.821, labels[1])],
    )
    texts = {t.text: t for t in _well_formed(chart).iter("text") if t.text in labels}
    baselines = sorted(float(texts[label].attrib["y"]) for label in labels)
    assert baselines[1] - baselines[0] >= 16
    # a marker far from the others keeps its place just below its point
    lone = svg.line_chart(
        [svg.Series("curve", [0, 1], [0, 1])],
        title="t",
        x_label="x",
        y_label="y",
        x_range=(0, 1),
        y_range=(0, 1),
        markers=[svg.Marker(0.1, 0.9, "a"), svg.Marker(0.9, 0.1, "b")],
    )
    points = {c.attrib["cy"] for c in _well_formed(lone).iter("circle")}
    for text in _well_formed(lone).iter("text"):
        if text.text in ("a", "b"):
            assert any(abs(float(text.attrib["y"]) - float(cy) - 16) < 1e-6 for cy in points)


def test_line_chart_breaks_lines_at_nan() -> None:
    chart = svg.line_chart(
        [svg.Series("s", [0, 1, 2, 3, 4], [0, 1, np.nan, 3, 4])],
        title="t",
        x_label="x",
        y_label="y",
    )
    assert len(_well_formed(chart).findall("polyline")) == 2


def test_bar_chart_groups_and_nan() -> None:
    chart = svg.bar_chart(
        ["0", "1", EVIL],
        {"actual": [1.0, 2.0, np.nan], "predicted": [1.1, 1.9, 3.0]},
        title="t",
        x_label="x",
        y_label="y",
    )
    root = _well_formed(chart)
    bars = [r for r in root.iter("rect") if r.get("class") == "bar"]
    assert len(bars) == 5
    assert EVIL not in chart
    with pytest.raises(ValueError, match="values"):
        svg.bar_chart(["a"], {"g": [1.0, 2.0]}, title="t", x_label="x", y_label="y")


def test_heatmap_cells_and_colours() -> None:
    values = np.array([[0.0, 0.5, 1.0], [np.nan, 0.25, 0.75]])
    chart = svg.heatmap(
        values, [1, 2, 3], [10, 20], title="t", x_label=EVIL, y_label="y", value_range=(0, 1)
    )
    root = _well_formed(chart)
    cells = [r for r in root.iter("rect") if r.get("class") == "cell"]
    assert len(cells) == 6
    fills = [c.get("fill") for c in cells]
    assert fills[0] == "#440154" and fills[2] == "#fde725"  # viridis ends
    assert fills[3] == "#d9d9d9"  # NaN
    with pytest.raises(ValueError, match="shape"):
        svg.heatmap(values, [1, 2], [10, 20], title="t", x_label="x", y_label="y")


def test_histogram_clips_the_tail() -> None:
    values = np.concatenate([np.linspace(0, 100, 990), np.full(10, 1e6)])
    chart = svg.histogram(values, title="t", x_label="x", bins=20)
    root = _well_formed(chart)
    bars = [r for r in root.iter("rect") if r.get("class") == "bar"]
    counts = [int(re.sub(r"[^0-9]", "", (b.findtext("title") or "").split(":")[-1])) for b in bars]
    assert sum(counts) == 1000
    assert "counted in the last bar" in chart
    # without clipping the tail squeezes everything into the first bar
    unclipped = _well_formed(svg.histogram(values, title="t", x_label="x", clip_quantile=None))
    assert "counted in the last bar" not in ET.tostring(unclipped, encoding="unicode")


def test_histogram_of_constant_and_empty_values() -> None:
    _well_formed(svg.histogram([5.0] * 10, title="t", x_label="x"))
    _well_formed(svg.histogram([], title="t", x_label="x"))


@given(
    st.floats(-1e9, 1e9, allow_nan=False),
    st.floats(-1e9, 1e9, allow_nan=False),
)
def test_nice_ticks_cover_the_range(low: float, high: float) -> None:
    ticks = svg.nice_ticks(low, high)
    assert len(ticks) >= 2
    assert ticks[0] <= min(low, high) + 1e-6 * max(1.0, abs(low), abs(high))
    assert ticks[-1] >= max(low, high) - 1e-6 * max(1.0, abs(low), abs(high))
    assert np.all(np.diff(ticks) > 0)
    assert len(ticks) <= 12


def test_formats() -> None:
    assert svg.format_number(1234567.8) == "1,234,568"
    assert svg.format_number(0.12345) == "0.123"
    assert svg.format_number(float("nan")) == "–"
    assert svg.format_percent(0.25) == "25%"
    assert svg.format_percent(0.125) == "12.5%"


def test_scatter_chart_places_points_and_leaves_out_nan() -> None:
    chart = svg.scatter_chart(
        [svg.Series(EVIL, [0.0, 0.5, np.nan], [10.0, 20.0, 30.0]), svg.Series("b", [1.0], [0.0])],
        title=EVIL,
        x_label="x",
        y_label="y",
        x_range=(0.0, 1.0),
        y_range=(0.0, 20.0),
        point_labels=[["p1", "p2", "p3"], [EVIL]],
    )
    root = _well_formed(chart)
    assert "chart-scatter" in root.attrib["class"]
    assert EVIL not in chart
    points = [c for c in root.iter("circle") if c.get("class") == "point"]
    assert len(points) == 3  # the NaN point is left out
    # the plot spans x 72..696 and y 60..348 (under the one-row legend) of the 720 x 400 box
    first = points[0]
    assert (float(first.attrib["cx"]), float(first.attrib["cy"])) == (72.0, 204.0)
    assert (float(points[1].attrib["cx"]), float(points[1].attrib["cy"])) == (384.0, 60.0)
    assert points[2].findtext("title") == f"{EVIL}: 1, 0"
    with pytest.raises(ValueError, match="y values"):
        svg.scatter_chart([svg.Series("a", [1.0], [1.0, 2.0])], title="t", x_label="x", y_label="y")
