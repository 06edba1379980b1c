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
    """Many points (one per team and month): coloured by group, named by the legend and their
    tooltips, not written beside each point."""
    chart = svg.scatter_chart(
        [
            svg.ScatterPoint(0.0, 10.0, "p1", group=EVIL),
            svg.ScatterPoint(0.5, 20.0, "p2", group=EVIL),
            svg.ScatterPoint(np.nan, 30.0, "p3", group=EVIL),
            svg.ScatterPoint(1.0, 0.0, EVIL, group="b"),
        ],
        title=EVIL,
        x_label="x",
        y_label="y",
        x_range=(0.0, 1.0),
        y_range=(0.0, 20.0),
        point_text=False,
    )
    root = _well_formed(chart)
    assert "chart-scatter" in root.attrib["class"]
    assert EVIL not in chart
    points = [c for c in root.iter("circle") if c.get("class") == "point"]
    assert len(points) == 3  # the NaN point is left out
    assert points[0].get("fill") == points[1].get("fill") != points[2].get("fill")
    assert (
        float(points[0].attrib["cx"])
        < float(points[1].attrib["cx"])
        < float(points[2].attrib["cx"])
    )
    assert float(points[1].attrib["cy"]) < float(points[0].attrib["cy"])  # higher y, higher up
    assert points[2].findtext("title") == f"{EVIL}: 1, 0"
    texts = [t.text for t in root.iter("text")]
    assert "p1" not in texts and "p2" not in texts  # tooltips only
    assert EVIL in texts  # the legend names the group


def _points(attribute: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in attribute.split()]  # type: ignore[misc]


def test_a_line_with_a_band_draws_the_band_between_its_ends() -> None:
    """The band's polygon runs along the upper ends left to right and back along the lower
    ends; a NaN end breaks it into two runs, a lone point's band is a bar; the y range
    covers the band, not only the line."""
    chart = svg.line_chart(
        [svg.Series("NPS", [0, 1, 2, 3, 4], [10, 20, 30, 40, 50],
                    low=[0, 5, np.nan, 30, 35], high=[20, 35, np.nan, 50, 95])],
        title="t", x_label="x", y_label="y",
    )  # fmt: skip
    root = _well_formed(chart)
    polygons = root.findall("polygon")
    assert len(polygons) == 2
    first = _points(polygons[0].attrib["points"])
    assert len(first) == 4
    # upper ends are drawn above (smaller y) the lower ends at the same x
    assert first[0][0] == first[3][0] and first[0][1] < first[3][1]
    # the top of the band (95) is inside the plot: the axis reaches 100
    assert ">100<" in chart
    with pytest.raises(ValueError, match="needs both low and high"):
        svg.line_chart([svg.Series("a", [0, 1], [0, 1], low=[0, 0])], title="t", x_label="x",
                       y_label="y")  # fmt: skip
    lone = svg.line_chart([svg.Series("a", [0], [1], low=[0], high=[2])], title="t",
                          x_label="x", y_label="y")  # fmt: skip
    assert len(_well_formed(lone).findall("line[@class='band']")) == 1


def test_scatter_chart_points_guides_and_escaping() -> None:
    """Every finite point is a circle with its label; guides are clipped to the plot: a
    vertical quadrant line at x = 2 spans the plot's height, a fair-value line of slope 1
    through (1, 1) runs corner to corner of a square range; a line outside the range is not
    drawn."""
    chart = svg.scatter_chart(
        [svg.ScatterPoint(1, 1, EVIL, "us"), svg.ScatterPoint(3, 2, "b", "them"),
         svg.ScatterPoint(np.nan, 1, "gone")],
        title=EVIL, x_label="x", y_label="y",
        guides=[svg.GuideLine(2, 0, 2, 1, "line"), svg.GuideLine(0, 0, 1, 1),
                svg.GuideLine(9, 0, 9, 1)],
        x_range=(0, 4), y_range=(0, 4),
    )  # fmt: skip
    root = _well_formed(chart)
    assert "chart-scatter" in root.attrib["class"] and EVIL not in chart
    assert len(root.findall("circle[@class='point']")) == 2
    guides = root.findall("line[@class='guide']")
    assert len(guides) == 2
    vertical, diagonal = guides
    assert vertical.attrib["x1"] == vertical.attrib["x2"]
    top, bottom = sorted(float(vertical.attrib[k]) for k in ("y1", "y2"))
    assert (top, bottom) == (60.0, 440.0 - 52.0)  # the plot under the legend, to its bottom
    xs = sorted(float(diagonal.attrib[k]) for k in ("x1", "x2"))
    assert xs == [72.0, 720.0 - 24.0]  # from the left edge to the right edge
