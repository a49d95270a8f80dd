"""Server-rendered SVG charts: a column chart (the CSAT distribution) and a line chart
(values per day, one line per series).

The documents are built with ``xml.etree.ElementTree``, which escapes every text and
attribute, and characters XML cannot carry at all are dropped first, so no label can
break out of its element. Charts are accessible on their own: ``role="img"``, an
``aria-label``, ``<title>`` and ``<desc>``, and a ``<title>`` with the value on every bar
and point (screen readers and tooltips read it; tests look for it). Styling is done with
presentation attributes only (no ``style`` attribute or element), so the charts need no
``style-src`` in any Content-Security-Policy, served alone or inlined into a page.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 64, 60
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
# Dark enough for 4.5:1 against white (WCAG AA) as text and as thin lines.
PALETTE = ("#1f5fa8", "#a8431b", "#2a6e3f", "#6b3fa0")
DASHES = ("", "6 3", "2 3", "8 3 2 3")  # lines differ by more than colour
INK, MUTED, GRID = "#1a1a1a", "#4d4d4d", "#d9d9d9"
MAX_X_LABELS = 12
COUNT_MINIMUM = 5.0  # smallest y axis of a count chart: ticks 0, 1, ... 5

# Characters XML 1.0 cannot contain even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Formatter = Callable[[float], str]


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar
    value: float
    title: str  # the accessible text of the bar, with its value


@dataclass(frozen=True)
class Point:
    value: float | None  # None: no data that day (a gap in the line)
    title: str


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]  # one per category


@dataclass(frozen=True)
class Frame:
    """What every chart has: its id (prefix of element ids, unique within a page), the
    accessible title and description, the axis labels and the text shown without data."""

    chart_id: str
    title: str
    desc: str
    x_label: str
    y_label: str
    empty: str


def column_chart(
    frame: Frame, bars: Sequence[Bar], fmt: Formatter, minimum: float = COUNT_MINIMUM
) -> str:
    svg = _document(frame)
    top, ticks = _scale(max((bar.value for bar in bars), default=0), minimum)
    _y_axis(svg, top, ticks, fmt)
    slot = PLOT_W / max(len(bars), 1)
    width = min(slot * 0.6, 64)
    for index, bar in enumerate(bars):
        x = LEFT + slot * index + (slot - width) / 2
        height = PLOT_H * bar.value / top
        group = _sub(
            svg, "g", {"class": "sd-bar", "data-label": bar.label, "data-value": _num(bar.value)}
        )
        _text_el(group, "title", bar.title)
        _sub(
            group,
            "rect",
            {
                "x": _num(x),
                "y": _num(TOP + PLOT_H - height),
                "width": _num(width),
                "height": _num(height),
                "fill": PALETTE[0],
            },
        )
        _label(group, x + width / 2, TOP + PLOT_H - height - 6, fmt(bar.value), "middle")
        _label(svg, x + width / 2, TOP + PLOT_H + 18, bar.label, "middle")
    if not any(bar.value for bar in bars):
        _label(svg, LEFT + PLOT_W / 2, TOP + PLOT_H / 2, frame.empty, "middle")
    return _finish(svg)


def line_chart(
    frame: Frame,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    minimum: float = COUNT_MINIMUM,
    unit: float = 1.0,
) -> str:
    """One line per series over the categories (days); ``None`` values leave a gap.
    ``minimum`` is the smallest axis maximum (see ``_scale``); ``unit`` is the size of the
    unit ``fmt`` shows (60 for minutes), so the ticks are round in that unit."""
    svg = _document(frame)
    values = [p.value for s in series for p in s.points if p.value is not None]
    top, ticks = _scale(max(values, default=0) / unit, minimum)
    top *= unit
    _y_axis(svg, top, ticks, fmt)
    step = PLOT_W / max(len(categories), 1)

    def x_of(index: int) -> float:
        return LEFT + step * index + step / 2

    def y_of(value: float) -> float:
        return TOP + PLOT_H - PLOT_H * value / top

    every = max(1, math.ceil(len(categories) / MAX_X_LABELS))
    for index, category in enumerate(categories):
        if index % every == 0:
            _label(svg, x_of(index), TOP + PLOT_H + 18, category, "middle")
    for number, line in enumerate(series):
        colour, dash = PALETTE[number % len(PALETTE)], DASHES[number % len(DASHES)]
        group = _sub(svg, "g", {"class": "sd-series", "data-series": line.name})
        _text_el(group, "title", line.name)
        for run in _runs(line.points):
            stroke = {"fill": "none", "stroke": colour, "stroke-width": "2"}
            if dash:
                stroke["stroke-dasharray"] = dash
            coords = " ".join(f"{_num(x_of(i))},{_num(y_of(v))}" for i, v in run)
            _sub(group, "polyline", {"points": coords, **stroke})
        for index, point in enumerate(line.points):
            if point.value is None:
                continue
            dot = _sub(
                group,
                "circle",
                {
                    "class": "sd-point",
                    "cx": _num(x_of(index)),
                    "cy": _num(y_of(point.value)),
                    "r": "3.5",
                    "fill": colour,
                    "data-value": _num(point.value),
                },
            )
            _text_el(dot, "title", point.title)
    _legend(svg, series)
    if not values:
        _label(svg, LEFT + PLOT_W / 2, TOP + PLOT_H / 2, frame.empty, "middle")
    return _finish(svg)


# --- building blocks -----------------------------------------------------------------


def _document(frame: Frame) -> ET.Element:
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "aria-label": clean(frame.title),
            "aria-describedby": f"{frame.chart_id}-desc",
            "class": "sd-chart",
            "font-family": "system-ui, sans-serif",
            "font-size": "12",
        },
    )
    _text_el(svg, "title", frame.title).set("id", f"{frame.chart_id}-title")
    _text_el(svg, "desc", frame.desc).set("id", f"{frame.chart_id}-desc")
    _sub(svg, "rect", {"width": str(WIDTH), "height": str(HEIGHT), "fill": "#ffffff"})
    _label(svg, LEFT + PLOT_W / 2, HEIGHT - 12, frame.x_label, "middle", "sd-axis-label")
    y_title = _label(svg, 0, 0, frame.y_label, "middle", "sd-axis-label")
    y_title.set("transform", f"translate(16 {_num(TOP + PLOT_H / 2)}) rotate(-90)")
    return svg


def _y_axis(svg: ET.Element, top: float, ticks: int, fmt: Formatter) -> None:
    for n in range(ticks + 1):
        value = top * n / ticks
        y = TOP + PLOT_H - PLOT_H * n / ticks
        _sub(
            svg,
            "line",
            {
                "x1": str(LEFT),
                "x2": str(LEFT + PLOT_W),
                "y1": _num(y),
                "y2": _num(y),
                "stroke": INK if n == 0 else GRID,
            },
        )
        _label(svg, LEFT - 6, y + 4, fmt(value), "end").set("fill", MUTED)


def _legend(svg: ET.Element, series: Sequence[Series]) -> None:
    """Swatch and name of each line, left to right, wrapping onto a second row."""
    x, y = float(LEFT), 16.0
    for number, line in enumerate(series):
        width = 30 + _text_width(line.name) + 20
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = float(LEFT), y + 20
        colour, dash = PALETTE[number % len(PALETTE)], DASHES[number % len(DASHES)]
        swatch = {"x1": _num(x), "x2": _num(x + 24), "y1": _num(y), "y2": _num(y)}
        swatch |= {"stroke": colour, "stroke-width": "2"}
        if dash:
            swatch["stroke-dasharray"] = dash
        _sub(svg, "line", swatch)
        _label(svg, x + 30, y + 4, line.name, "start", "sd-legend")
        x += width


def _text_width(text: str) -> float:
    """A rough width at 12px: CJK characters are about twice as wide as Latin ones."""
    return sum(12.0 if ord(char) >= 0x2E80 else 6.8 for char in text)


def _runs(points: Sequence[Point]) -> list[list[tuple[int, float]]]:
    """Consecutive points with values; a day without data breaks the line."""
    runs: list[list[tuple[int, float]]] = [[]]
    for index, point in enumerate(points):
        if point.value is None:
            runs.append([])
        else:
            runs[-1].append((index, point.value))
    return [run for run in runs if len(run) > 1]


def _scale(value: float, minimum: float) -> tuple[float, int]:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)
    and a tick count that makes every tick round too. ``minimum`` keeps count charts at
    whole-number ticks (5: 0, 1, ... 5) and an empty chart from dividing by zero."""
    value = max(value, minimum)
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude * (1 + 1e-9):
            return float(factor * magnitude), 4 if factor == 2 else 5
    return float(10 * magnitude), 5


def _sub(parent: ET.Element, tag: str, attrs: dict[str, str]) -> ET.Element:
    return ET.SubElement(parent, tag, {name: clean(value) for name, value in attrs.items()})


def _text_el(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = clean(text)
    return element


def _label(
    parent: ET.Element, x: float, y: float, text: str, anchor: str, cls: str = "sd-label"
) -> ET.Element:
    element = _sub(
        parent,
        "text",
        {"x": _num(x), "y": _num(y), "text-anchor": anchor, "fill": INK, "class": cls},
    )
    element.text = clean(text)
    return element


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _finish(svg: ET.Element) -> str:
    return ET.tostring(svg, encoding="unicode")
