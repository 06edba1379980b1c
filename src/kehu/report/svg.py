"""Small, dependency-free SVG charts for self-contained HTML reports.

Every function returns one ``<svg>`` element as a string, ready to be inlined in HTML (no ``xmlns``
needed there, no external fonts, scripts or images). All text that reaches the SVG -- titles, axis
labels, category names, legend entries -- is escaped here, so the caller may pass user data (a
dataset or customer name) safely. Each chart carries the classes ``chart`` and ``chart-<kind>``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "PALETTE",
    "GuideLine",
    "Marker",
    "ScatterPoint",
    "Series",
    "bar_chart",
    "format_number",
    "format_percent",
    "heatmap",
    "histogram",
    "line_chart",
    "nice_ticks",
    "scatter_chart",
]

#: Colour-blind safe categorical colours (Okabe & Ito 2008), dark blue first.
PALETTE: tuple[str, ...] = (
    "#0b5394",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#7f7f7f",
)
#: Sequential scale for heatmaps (viridis stops, low to high).
_VIRIDIS: tuple[str, ...] = (
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
)
_AXIS = "#4a4a4a"
_GRID = "#e3e3e3"
_MISSING = "#d9d9d9"
#: The value label over a bar: its font size, and the room it takes above the bar (with a gap).
_VALUE_LABEL_SIZE = 11
_VALUE_LABEL_ROOM = _VALUE_LABEL_SIZE + 10
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'

Formatter = Callable[[float], str]


def _t(value: object) -> str:
    """Escape text and attribute values for SVG inside HTML."""
    return escape(str(value), quote=True)


def _f(value: float) -> str:
    """A coordinate, compactly."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def format_number(value: float) -> str:
    """A tick or value label: thousands separators, at most 3 significant decimals."""
    if not math.isfinite(value):
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100 or magnitude == 0:
        return f"{value:.0f}" if value == round(value) else f"{value:.1f}"
    text = f"{value:.3g}"
    return text


def format_percent(value: float) -> str:
    """``0.25`` as ``25%`` (one decimal when needed)."""
    if not math.isfinite(value):
        return "–"
    percent = value * 100
    return f"{percent:.0f}%" if abs(percent - round(percent)) < 1e-9 else f"{percent:.1f}%"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]`` (steps 1, 2, 2.5, 5 x 10^k)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high < low:
        low, high = high, low
    if high - low <= 1e-9 * max(abs(low), abs(high)) or high - low < 1e-12:
        pad = abs(high) * 0.5 or 1.0
        low, high = low - pad, high + pad
    rough = (high - low) / max(count - 1, 1)
    exponent = math.floor(math.log10(rough))
    magnitude = 10.0**exponent
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    decimals = max(0, 2 - exponent)
    first = math.floor(low / step + 1e-9)
    ticks: list[float] = []
    k = first
    while not ticks or ticks[-1] < high - step * 1e-9:
        ticks.append(round(k * step, decimals))
        k += 1
    if len(ticks) < 2:
        ticks.append(round(k * step, decimals))
    return ticks


@dataclass(frozen=True)
class Series:
    """One line of a line chart."""

    name: str
    x: Sequence[float] | ArrayLike
    y: Sequence[float] | ArrayLike
    dashed: bool = False
    color: str | None = None
    #: an interval band around the line: its lower and upper ends at each x (NaN: no band
    #: there), drawn as a translucent area of the line's colour
    low: Sequence[float] | ArrayLike | None = None
    high: Sequence[float] | ArrayLike | None = None


@dataclass(frozen=True)
class Marker:
    """A labelled point drawn on top of a line chart."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_low: float
    x_high: float
    y_low: float
    y_high: float

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def px(self, x: float) -> float:
        span = self.x_high - self.x_low or 1.0
        return self.left + (x - self.x_low) / span * self.plot_width

    def py(self, y: float) -> float:
        span = self.y_high - self.y_low or 1.0
        return self.top + (1 - (y - self.y_low) / span) * self.plot_height


def _open(kind: str, width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg class="chart chart-{_t(kind)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" {_FONT} font-size="12">',
        f"<title>{_t(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.0f}" y="20" text-anchor="middle" font-size="15" '
        f'font-weight="600" fill="#222">{_t(title)}</text>',
    ]


def _axes(
    frame: _Frame,
    x_ticks: Sequence[float] | None,
    y_ticks: Sequence[float],
    x_label: str,
    y_label: str,
    x_format: Formatter,
    y_format: Formatter,
    x_label_y: float | None = None,
) -> list[str]:
    parts: list[str] = []
    x0, x1 = frame.left, frame.width - frame.right
    y0, y1 = frame.top, frame.height - frame.bottom
    for tick in y_ticks:
        y = frame.py(tick)
        parts.append(
            f'<line x1="{x0}" y1="{_f(y)}" x2="{x1}" y2="{_f(y)}" stroke="{_GRID}" '
            'stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x0 - 6}" y="{_f(y + 4)}" text-anchor="end" fill="{_AXIS}">'
            f"{_t(y_format(tick))}</text>"
        )
    for tick in x_ticks or ():
        x = frame.px(tick)
        parts.append(f'<line x1="{_f(x)}" y1="{y1}" x2="{_f(x)}" y2="{y1 + 5}" stroke="{_AXIS}"/>')
        parts.append(
            f'<text x="{_f(x)}" y="{y1 + 18}" text-anchor="middle" fill="{_AXIS}">'
            f"{_t(x_format(tick))}</text>"
        )
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{_AXIS}"/>')
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="{_AXIS}"/>')
    label_y = frame.height - 8 if x_label_y is None else x_label_y
    parts.append(
        f'<text x="{_f(x0 + frame.plot_width / 2)}" y="{_f(label_y)}" '
        f'text-anchor="middle" fill="#222">{_t(x_label)}</text>'
    )
    cy = y0 + frame.plot_height / 2
    parts.append(
        f'<text x="16" y="{_f(cy)}" text-anchor="middle" fill="#222" '
        f'transform="rotate(-90 16 {_f(cy)})">{_t(y_label)}</text>'
    )
    return parts


#: The legend's first row (its text's middle) and the height of each further row.
_LEGEND_Y = 40
_LEGEND_ROW = 18


def _text_width(text: str) -> int:
    """About how wide ``text`` is at the charts' 12 px: wide (CJK) characters take about twice
    the width of Latin ones."""
    return sum(12 if unicodedata.east_asian_width(c) in "WF" else 7 for c in text)


def _legend_rows(
    entries: Sequence[tuple[str, str, bool]], frame: _Frame
) -> list[list[tuple[str, str, bool]]]:
    """The legend entries in rows that each fit between the plot's left and right edges."""
    room = frame.width - frame.right - frame.left
    rows: list[list[tuple[str, str, bool]]] = [[]]
    used = 0
    for entry in entries:
        need = _text_width(entry[0]) + 44  # swatch, gaps
        if rows[-1] and used + need > room:
            rows.append([])
            used = 0
        rows[-1].append(entry)
        used += need
    return rows


def _legend(entries: Sequence[tuple[str, str, bool]], frame: _Frame, kind: str) -> list[str]:
    """Legend entries ``(name, colour, dashed)`` in rows under the title, right-aligned (as many
    rows as they need; :func:`_legend_bottom` says where they end)."""
    parts: list[str] = []
    for row, row_entries in enumerate(_legend_rows(entries, frame)):
        x = frame.width - frame.right
        y = _LEGEND_Y + row * _LEGEND_ROW
        for name, color, dashed in reversed(row_entries):
            x -= _text_width(name)
            parts.append(f'<text x="{x}" y="{y + 4}" fill="#222">{_t(name)}</text>')
            x -= 26
            if kind == "line":
                dash = ' stroke-dasharray="5 4"' if dashed else ""
                parts.append(
                    f'<line x1="{x}" y1="{y}" x2="{x + 20}" y2="{y}" stroke="{color}" '
                    f'stroke-width="2.5"{dash}/>'
                )
            else:
                parts.append(
                    f'<rect x="{x + 4}" y="{y - 6}" width="12" height="12" fill="{color}"/>'
                )
            x -= 18
    return parts


def _legend_bottom(entries: Sequence[tuple[str, str, bool]], frame: _Frame) -> int:
    """The lowest point of the legend's text (its last row's descenders)."""
    return _LEGEND_Y + (len(_legend_rows(entries, frame)) - 1) * _LEGEND_ROW + 8


def _finite_range(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return 0.0, 1.0
    return float(min(a.min() for a in finite)), float(max(a.max() for a in finite))


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    x_format: Formatter = format_number,
    y_format: Formatter = format_number,
    markers: Sequence[Marker] = (),
    width: int = 720,
    height: int = 400,
) -> str:
    """Lines through ``(x, y)`` points; NaN points break a line. Ranges default to the data,
    widened to round ticks."""
    xs = [np.asarray(s.x, dtype=np.float64) for s in series]
    ys = [np.asarray(s.y, dtype=np.float64) for s in series]
    bands = [_band(s, len(x)) for s, x in zip(series, xs, strict=True)]
    band_values = [end for band in bands if band is not None for end in band]
    x_low, x_high = x_range if x_range is not None else _finite_range(xs)
    y_low, y_high = y_range if y_range is not None else _finite_range(ys + band_values)
    x_ticks = nice_ticks(x_low, x_high)
    y_ticks = nice_ticks(y_low, y_high)
    if x_range is None:
        x_low, x_high = x_ticks[0], x_ticks[-1]
    else:
        x_ticks = [t for t in x_ticks if x_low - 1e-12 <= t <= x_high + 1e-12]
    if y_range is None:
        y_low, y_high = y_ticks[0], y_ticks[-1]
    else:
        y_ticks = [t for t in y_ticks if y_low - 1e-12 <= t <= y_high + 1e-12]
    frame = _Frame(width, height, 72, 24, 56, 52, x_low, x_high, y_low, y_high)
    parts = _open("line", width, height, title)
    parts += _axes(frame, x_ticks, y_ticks, x_label, y_label, x_format, y_format)
    for i, (s, x, band) in enumerate(zip(series, xs, bands, strict=True)):
        if band is not None:
            parts += _band_areas(s, x, band, frame, s.color or PALETTE[i % len(PALETTE)])
    entries = []
    for i, (s, x, y) in enumerate(zip(series, xs, ys, strict=True)):
        color = s.color or PALETTE[i % len(PALETTE)]
        entries.append((s.name, color, s.dashed))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        segment: list[str] = []
        segments: list[list[str]] = []
        for xv, yv in zip(x, y, strict=True):
            if math.isfinite(xv) and math.isfinite(yv):
                segment.append(f"{_f(frame.px(xv))},{_f(frame.py(yv))}")
            elif segment:
                segments.append(segment)
                segment = []
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) == 1:  # an isolated point: a dot, not an invisible line
                cx, cy = points[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
                continue
            parts.append(
                f'<polyline class="series" data-series="{_t(s.name)}" fill="none" '
                f'stroke="{color}" stroke-width="2.5" stroke-linejoin="round"{dash} '
                f'points="{" ".join(points)}"/>'
            )
    for marker, (label_x, label_y, anchor) in zip(
        markers, _marker_labels(markers, frame), strict=True
    ):
        mx, my = frame.px(marker.x), frame.py(marker.y)
        parts.append(f'<circle cx="{_f(mx)}" cy="{_f(my)}" r="5" fill="#222"/>')
        parts.append(
            f'<text x="{_f(label_x)}" y="{_f(label_y)}" text-anchor="{anchor}" fill="#222" '
            f'font-weight="600">{_t(marker.label)}</text>'
        )
    parts += _legend(entries, frame, "line")
    parts.append("</svg>")
    return "\n".join(parts)


def _band(series: Series, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    if series.low is None and series.high is None:
        return None
    if series.low is None or series.high is None:
        raise ValueError(f"series {series.name!r}: a band needs both low and high")
    low = np.asarray(series.low, dtype=np.float64)
    high = np.asarray(series.high, dtype=np.float64)
    if len(low) != n or len(high) != n:
        raise ValueError(f"series {series.name!r}: the band has {len(low)} and {len(high)} ends "
                         f"for {n} points")  # fmt: skip
    return low, high


def _band_areas(
    series: Series,
    x: np.ndarray,
    band: tuple[np.ndarray, np.ndarray],
    frame: _Frame,
    color: str,
) -> list[str]:
    """The band as one polygon per run of points with both ends (a NaN end breaks it, as a
    NaN point breaks the line); a lone point's band is a vertical bar."""
    low, high = band
    parts: list[str] = []
    runs: list[list[int]] = [[]]
    for i in range(len(x)):
        if math.isfinite(x[i]) and math.isfinite(low[i]) and math.isfinite(high[i]):
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    for run in runs:
        if not run:
            continue
        if len(run) == 1:
            i = run[0]
            px = frame.px(x[i])
            parts.append(
                f'<line class="band" data-series="{_t(series.name)}" x1="{_f(px)}" '
                f'y1="{_f(frame.py(low[i]))}" x2="{_f(px)}" y2="{_f(frame.py(high[i]))}" '
                f'stroke="{color}" stroke-opacity="0.35" stroke-width="6"/>'
            )
            continue
        upper = [f"{_f(frame.px(x[i]))},{_f(frame.py(high[i]))}" for i in run]
        lower = [f"{_f(frame.px(x[i]))},{_f(frame.py(low[i]))}" for i in reversed(run)]
        parts.append(
            f'<polygon class="band" data-series="{_t(series.name)}" fill="{color}" '
            f'fill-opacity="0.18" stroke="none" points="{" ".join(upper + lower)}"/>'
        )
    return parts


_MARKER_LINE = 16  # px between the baselines of two marker labels


def _marker_labels(markers: Sequence[Marker], frame: _Frame) -> list[tuple[float, float, str]]:
    """Where each marker's label goes: (x, baseline y, text-anchor), just below and beside its
    point, and lower still where it would overlap a label placed before it (two markers close
    together, such as the Pareto chart's 80 % and top-20 % points, wrote one label over the
    other). Labels are placed from the highest point down."""
    placed: list[tuple[float, float, float]] = []  # (left, right, baseline) of each label
    positions: dict[int, tuple[float, float, str]] = {}
    for index in sorted(range(len(markers)), key=lambda i: frame.py(markers[i].y)):
        marker = markers[index]
        mx, my = frame.px(marker.x), frame.py(marker.y)
        anchor = "start" if mx < frame.left + frame.plot_width * 0.7 else "end"
        x = mx + 9 if anchor == "start" else mx - 9
        width = _text_width(marker.label)
        left, right = (x, x + width) if anchor == "start" else (x - width, x)
        y = my + _MARKER_LINE
        for other_left, other_right, other_y in sorted(placed, key=lambda box: box[2]):
            if left < other_right and other_left < right and abs(y - other_y) < _MARKER_LINE:
                y = other_y + _MARKER_LINE
        placed.append((left, right, y))
        positions[index] = (x, y, anchor)
    return [positions[i] for i in range(len(markers))]


def bar_chart(
    categories: Sequence[str],
    groups: Mapping[str, Sequence[float] | ArrayLike],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_format: Formatter = format_number,
    value_format: Formatter | None = None,
    value_labels: bool = True,
    width: int = 720,
    height: int = 400,
) -> str:
    """Grouped vertical bars: one cluster per category, one bar per group (NaN: no bar).

    ``y_format`` labels the axis ticks, ``value_format`` (default: ``y_format``) the bars."""
    label_format = value_format or y_format
    values = {name: np.asarray(v, dtype=np.float64) for name, v in groups.items()}
    for name, array in values.items():
        if len(array) != len(categories):
            raise ValueError(f"group {name!r} has {len(array)} values for {len(categories)} bars")
    low, high = _finite_range(list(values.values()))
    y_ticks = nice_ticks(min(0.0, low), max(0.0, high))
    entries = [(name, PALETTE[g % len(PALETTE)], False) for g, name in enumerate(values)]
    frame = _Frame(width, height, 72, 24, 56, 52, 0.0, 1.0, y_ticks[0], y_ticks[-1])
    # the plot starts under the legend, leaving room for the tallest bar's value label above it
    plot_top = max(frame.top, _legend_bottom(entries, frame) + _VALUE_LABEL_ROOM)
    frame = _Frame(width, height, 72, 24, plot_top, 52, 0.0, 1.0, y_ticks[0], y_ticks[-1])
    parts = _open("bar", width, height, title)
    parts += _axes(frame, None, y_ticks, x_label, y_label, format_number, y_format)
    n_categories = max(len(categories), 1)
    n_groups = max(len(values), 1)
    slot = frame.plot_width / n_categories
    bar_width = slot * 0.8 / n_groups
    baseline = frame.py(0.0)
    for g, (name, array) in enumerate(values.items()):
        color = PALETTE[g % len(PALETTE)]
        for c, value in enumerate(array):
            if not math.isfinite(value):
                continue
            x = frame.left + c * slot + slot * 0.1 + g * bar_width
            top = frame.py(value)
            y, h = min(top, baseline), abs(baseline - top)
            parts.append(
                f'<rect class="bar" data-series="{_t(name)}" x="{_f(x)}" y="{_f(y)}" '
                f'width="{_f(bar_width * 0.92)}" height="{_f(max(h, 0.5))}" fill="{color}">'
                f"<title>{_t(categories[c])} – {_t(name)}: {_t(label_format(value))}</title></rect>"
            )
            if value_labels and n_categories * n_groups <= 40:
                parts.append(
                    f'<text x="{_f(x + bar_width * 0.46)}" y="{_f(y - 4)}" text-anchor="middle" '
                    f'font-size="{_VALUE_LABEL_SIZE}" fill="#333">{_t(label_format(value))}</text>'
                )
    y1 = frame.height - frame.bottom
    for c, category in enumerate(categories):
        x = frame.left + (c + 0.5) * slot
        parts.append(
            f'<text x="{_f(x)}" y="{y1 + 18}" text-anchor="middle" fill="{_AXIS}">'
            f"{_t(category)}</text>"
        )
    parts += _legend(entries, frame, "bar")
    parts.append("</svg>")
    return "\n".join(parts)


def _color(fraction: float) -> str:
    """Viridis colour at ``fraction`` in [0, 1], linearly interpolated between stops."""
    fraction = min(max(fraction, 0.0), 1.0)
    position = fraction * (len(_VIRIDIS) - 1)
    i = min(int(position), len(_VIRIDIS) - 2)
    w = position - i
    a = [int(_VIRIDIS[i][k : k + 2], 16) for k in (1, 3, 5)]
    b = [int(_VIRIDIS[i + 1][k : k + 2], 16) for k in (1, 3, 5)]
    mixed = [round(u + (v - u) * w) for u, v in zip(a, b, strict=True)]
    return "#" + "".join(f"{m:02x}" for m in mixed)


def _label_every(n: int, most: int = 12) -> int:
    return max(1, math.ceil(n / most))


def heatmap(
    values: ArrayLike,
    x_values: Sequence[float] | ArrayLike,
    y_values: Sequence[float] | ArrayLike,
    *,
    title: str,
    x_label: str,
    y_label: str,
    value_range: tuple[float, float] | None = None,
    value_format: Formatter = format_number,
    tick_format: Formatter = format_number,
    cell_labels: bool | None = None,
    width: int = 720,
    height: int = 480,
) -> str:
    """A grid of coloured cells: ``values[i, j]`` at column ``x_values[j]``, row ``y_values[i]``
    (first row at the bottom). NaN cells are grey. A colour legend is drawn on the right."""
    grid = np.asarray(values, dtype=np.float64)
    xs = np.asarray(x_values, dtype=np.float64)
    ys = np.asarray(y_values, dtype=np.float64)
    if grid.ndim != 2 or grid.shape != (len(ys), len(xs)):
        raise ValueError(
            f"values must have shape (len(y_values), len(x_values)) = ({len(ys)}, {len(xs)}), "
            f"got {grid.shape}"
        )
    low, high = value_range if value_range is not None else _finite_range([grid])
    span = high - low or 1.0
    frame = _Frame(width, height, 72, 96, 40, 52, 0.0, 1.0, 0.0, 1.0)
    parts = _open("heatmap", width, height, title)
    n_rows, n_cols = grid.shape
    cell_w = frame.plot_width / max(n_cols, 1)
    cell_h = frame.plot_height / max(n_rows, 1)
    show_labels = (n_rows * n_cols <= 120) if cell_labels is None else cell_labels
    bottom = frame.height - frame.bottom
    for i in range(n_rows):
        for j in range(n_cols):
            value = grid[i, j]
            x = frame.left + j * cell_w
            y = bottom - (i + 1) * cell_h
            fraction = (value - low) / span if math.isfinite(value) else math.nan
            fill = _color(fraction) if math.isfinite(value) else _MISSING
            label = value_format(value) if math.isfinite(value) else "n/a"
            parts.append(
                f'<rect class="cell" x="{_f(x)}" y="{_f(y)}" width="{_f(cell_w + 0.3)}" '
                f'height="{_f(cell_h + 0.3)}" fill="{fill}"><title>{_t(y_label)} '
                f"{_t(tick_format(ys[i]))}, {_t(x_label)} {_t(tick_format(xs[j]))}: "
                f"{_t(label)}</title></rect>"
            )
            if show_labels and math.isfinite(value):
                ink = "#111" if fraction > 0.55 else "#fff"
                parts.append(
                    f'<text x="{_f(x + cell_w / 2)}" y="{_f(y + cell_h / 2 + 4)}" '
                    f'text-anchor="middle" font-size="10" fill="{ink}">{_t(label)}</text>'
                )
    every_x, every_y = _label_every(n_cols), _label_every(n_rows)
    for j in range(0, n_cols, every_x):
        x = frame.left + (j + 0.5) * cell_w
        parts.append(
            f'<text x="{_f(x)}" y="{bottom + 18}" text-anchor="middle" fill="{_AXIS}">'
            f"{_t(tick_format(xs[j]))}</text>"
        )
    for i in range(0, n_rows, every_y):
        y = bottom - (i + 0.5) * cell_h
        parts.append(
            f'<text x="{frame.left - 6}" y="{_f(y + 4)}" text-anchor="end" fill="{_AXIS}">'
            f"{_t(tick_format(ys[i]))}</text>"
        )
    parts.append(
        f'<text x="{_f(frame.left + frame.plot_width / 2)}" y="{frame.height - 8}" '
        f'text-anchor="middle" fill="#222">{_t(x_label)}</text>'
    )
    cy = frame.top + frame.plot_height / 2
    parts.append(
        f'<text x="16" y="{_f(cy)}" text-anchor="middle" fill="#222" '
        f'transform="rotate(-90 16 {_f(cy)})">{_t(y_label)}</text>'
    )
    # colour legend: a stack of small rectangles, high at the top
    legend_x = frame.width - frame.right + 24
    steps = 24
    step_h = frame.plot_height / steps
    for k in range(steps):
        fraction = (k + 0.5) / steps
        y = bottom - (k + 1) * step_h
        parts.append(
            f'<rect x="{legend_x}" y="{_f(y)}" width="16" height="{_f(step_h + 0.3)}" '
            f'fill="{_color(fraction)}"/>'
        )
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - fraction * frame.plot_height
        parts.append(
            f'<text x="{legend_x + 22}" y="{_f(y + 4)}" fill="{_AXIS}">'
            f"{_t(value_format(low + fraction * span))}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def histogram(
    values: ArrayLike,
    *,
    title: str,
    x_label: str,
    y_label: str = "customers",
    bins: int = 40,
    clip_quantile: float | None = 0.99,
    x_format: Formatter = format_number,
    width: int = 720,
    height: int = 400,
    clipped_note: Callable[[int, float, str], str] | None = None,
) -> str:
    """Histogram of the finite ``values``. With ``clip_quantile`` (default 0.99) values above that
    quantile are counted in the last bin, which is then labelled as open-ended, so a long tail
    does not squeeze the rest of the distribution into one bar; ``clipped_note(n_above,
    quantile, formatted cap)`` words the footnote that says so (default English)."""
    data = np.asarray(values, dtype=np.float64).ravel()
    data = data[np.isfinite(data)]
    footnote = ""
    if data.size and clip_quantile is not None and 0 < clip_quantile < 1:
        cap = float(np.quantile(data, clip_quantile))
        above = int((data > cap).sum())
        if above and cap > data.min():
            data = np.minimum(data, cap)
            if clipped_note is not None:
                footnote = clipped_note(above, clip_quantile, x_format(cap))
            else:
                footnote = (
                    f"{above:,} value{'s' if above != 1 else ''} above the "
                    f"{clip_quantile:.0%} quantile ({x_format(cap)}) counted in the last bar"
                )
    if data.size:
        low, high = float(data.min()), float(data.max())
        if high == low:
            low, high = low - 0.5, high + 0.5
        counts, edges = np.histogram(data, bins=bins, range=(low, high))
    else:
        counts, edges = np.zeros(1, dtype=np.int64), np.array([0.0, 1.0])
    x_ticks = [t for t in nice_ticks(edges[0], edges[-1]) if edges[0] <= t <= edges[-1]]
    y_ticks = nice_ticks(0.0, float(max(counts.max(), 1)))
    bottom_margin = 68 if footnote else 52
    frame = _Frame(width, height, 72, 24, 40, bottom_margin, edges[0], edges[-1], 0.0, y_ticks[-1])
    parts = _open("histogram", width, height, title)
    label_y = frame.height - 26 if footnote else None
    parts += _axes(frame, x_ticks, y_ticks, x_label, y_label, x_format, format_number, label_y)
    if footnote:
        parts.append(
            f'<text class="footnote" x="{frame.left}" y="{frame.height - 6}" font-size="11" '
            f'fill="#555">{_t(footnote)}</text>'
        )
    for count, left, right in zip(counts, edges[:-1], edges[1:], strict=True):
        if count == 0:
            continue
        x0, x1 = frame.px(left), frame.px(right)
        y = frame.py(float(count))
        parts.append(
            f'<rect class="bar" x="{_f(x0)}" y="{_f(y)}" width="{_f(max(x1 - x0 - 1, 0.5))}" '
            f'height="{_f(frame.py(0.0) - y)}" fill="{PALETTE[0]}"><title>'
            f"{_t(x_format(left))} – {_t(x_format(right))}: {int(count):,}</title></rect>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


@dataclass(frozen=True)
class ScatterPoint:
    """One labelled point of a scatter chart; ``group`` picks its colour (points of one group
    share one, in the order groups first appear)."""

    x: float
    y: float
    label: str
    group: str = ""


@dataclass(frozen=True)
class GuideLine:
    """A straight reference line through ``(x1, y1)`` and ``(x2, y2)`` in data units (a
    quadrant boundary, a fair-value line), drawn dashed across the whole plot, with an
    optional label where it leaves the plot. The chart's range covers ``(x1, y1)``."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str = ""


def scatter_chart(
    points: Sequence[ScatterPoint],
    *,
    title: str,
    x_label: str,
    y_label: str,
    guides: Sequence[GuideLine] = (),
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    x_format: Formatter = format_number,
    y_format: Formatter = format_number,
    point_text: bool = True,
    width: int = 720,
    height: int = 440,
) -> str:
    """Labelled points with reference lines (an importance-performance quadrant, a value
    map). Ranges default to the points and the guides' first points, widened to round ticks;
    a point with a NaN coordinate is left out. Each point's label is its tooltip, and is written
    beside it unless ``point_text`` is false (many points, such as one per team and month,
    whose groups the legend names)."""
    shown = [p for p in points if math.isfinite(p.x) and math.isfinite(p.y)]
    # the range covers the points and each guide's first point (a quadrant line's crossing,
    # the fair-value line's (1, 1)); the guides' second points only give their direction
    xs = np.array([p.x for p in shown] + [g.x1 for g in guides], dtype=float)
    ys = np.array([p.y for p in shown] + [g.y1 for g in guides], dtype=float)
    x_low, x_high = x_range if x_range is not None else _finite_range([xs])
    y_low, y_high = y_range if y_range is not None else _finite_range([ys])
    if x_low == x_high:
        x_low, x_high = x_low - 1.0, x_high + 1.0
    if y_low == y_high:
        y_low, y_high = y_low - 1.0, y_high + 1.0
    x_ticks, y_ticks = nice_ticks(x_low, x_high), nice_ticks(y_low, y_high)
    if x_range is None:
        x_low, x_high = x_ticks[0], x_ticks[-1]
    if y_range is None:
        y_low, y_high = y_ticks[0], y_ticks[-1]
    groups = list(dict.fromkeys(p.group for p in shown))
    entries = [(g, PALETTE[i % len(PALETTE)], False) for i, g in enumerate(groups) if g]
    frame = _Frame(width, height, 72, 24, 56, 52, x_low, x_high, y_low, y_high)
    if entries:
        top = max(frame.top, _legend_bottom(entries, frame) + 12)
        frame = _Frame(width, height, 72, 24, top, 52, x_low, x_high, y_low, y_high)
    parts = _open("scatter", width, height, title)
    ticks_x = [t for t in x_ticks if x_low - 1e-12 <= t <= x_high + 1e-12]
    ticks_y = [t for t in y_ticks if y_low - 1e-12 <= t <= y_high + 1e-12]
    parts += _axes(frame, ticks_x, ticks_y, x_label, y_label, x_format, y_format)
    for guide in guides:
        clipped = _clip_segment(guide, frame)
        if clipped is None:
            continue
        (ax, ay), (bx, by) = clipped
        parts.append(
            f'<line class="guide" x1="{_f(frame.px(ax))}" y1="{_f(frame.py(ay))}" '
            f'x2="{_f(frame.px(bx))}" y2="{_f(frame.py(by))}" stroke="#555" '
            'stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        if guide.label:
            lx, ly = frame.px(bx), frame.py(by)
            anchor = "end" if lx > frame.left + frame.plot_width / 2 else "start"
            parts.append(
                f'<text x="{_f(lx + (-4 if anchor == "end" else 4))}" y="{_f(ly + 14)}" '
                f'text-anchor="{anchor}" fill="#555" font-size="11">{_t(guide.label)}</text>'
            )
    for point in shown:
        color = PALETTE[groups.index(point.group) % len(PALETTE)]
        px, py = frame.px(point.x), frame.py(point.y)
        anchor = "start" if px < frame.left + frame.plot_width * 0.75 else "end"
        parts.append(
            f'<circle class="point" cx="{_f(px)}" cy="{_f(py)}" r="5" fill="{color}">'
            f"<title>{_t(point.label)}: {_t(x_format(point.x))}, {_t(y_format(point.y))}"
            "</title></circle>"
        )
        if point_text:
            parts.append(
                f'<text x="{_f(px + (8 if anchor == "start" else -8))}" y="{_f(py - 7)}" '
                f'text-anchor="{anchor}" fill="#222" font-size="11">{_t(point.label)}</text>'
            )
    parts += _legend(entries, frame, "scatter")
    parts.append("</svg>")
    return "\n".join(parts)


def _clip_segment(
    guide: GuideLine, frame: _Frame
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of the guide's line (extended across the plot) inside the plot's ranges
    (Liang-Barsky clipping), or ``None`` when the line misses the plot."""
    x0, y0 = guide.x1, guide.y1
    dx, dy = guide.x2 - guide.x1, guide.y2 - guide.y1
    if not all(map(math.isfinite, (x0, y0, dx, dy))) or (dx == 0 and dy == 0):
        return None
    t_low, t_high = -math.inf, math.inf
    for p, q in (
        (-dx, x0 - frame.x_low),
        (dx, frame.x_high - x0),
        (-dy, y0 - frame.y_low),
        (dy, frame.y_high - y0),
    ):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t_low = max(t_low, t)
        else:
            t_high = min(t_high, t)
    if t_low > t_high:
        return None
    return (x0 + t_low * dx, y0 + t_low * dy), (x0 + t_high * dx, y0 + t_high * dy)
