"""Geometry of the dashboard's bar charts, as plain data for inline SVG.

Pure, like treatments/timeline.py: numbers in, rectangles and ticks (pixel units) out.
The templates only draw what these functions compute; colours come from CSS classes
in static/css/app.css, so the charts need no JavaScript and print as they show.
"""

import math
from dataclasses import dataclass, field

WIDTH = 720
LABEL_WIDTH = 170
VALUE_WIDTH = 50
ROW_HEIGHT = 26
BAR_HEIGHT = 18
TOP = 6
AXIS_HEIGHT = 24
REFERENCE_SPACE = 14  # above the rows, for the reference line's label
COLUMN_CHART_HEIGHT = 220


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class BarRow:
    """One labelled row of a horizontal chart: one bar, or several stacked segments."""

    label: str
    y: float
    value_label: str
    value_x: float
    bars: tuple[Bar, ...] = ()

    @property
    def text_y(self) -> float:
        return self.y + BAR_HEIGHT - 5


@dataclass(frozen=True)
class Tick:
    """A scale mark: the gridline at `position` along the value axis, and its label's spot."""

    position: float
    label: str
    label_x: float
    label_y: float


@dataclass
class Chart:
    width: int = WIDTH
    height: int = 0
    rows: list[BarRow] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    axis_y: float = 0
    chart_left: float = LABEL_WIDTH
    reference: Tick | None = None  # a vertical marker line, e.g. the 42-day threshold

    @property
    def empty(self) -> bool:
        return not self.rows


def nice_scale(largest: float, most_ticks: int = 5) -> tuple[int, int]:
    """(top, step): a whole 1-2-5 step giving at most `most_ticks` intervals, and the top."""
    if largest <= 0:
        return 1, 1
    rough = largest / most_ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    for multiple in (1, 2, 5, 10):
        step = multiple * magnitude
        if largest / step <= most_ticks:
            break
    step = max(int(step), 1)  # counts and days: never a fractional tick
    top = math.ceil(largest / step) * step
    return top, step


def _tick_label(value: float) -> str:
    return f"{value:g}"


def _scale_ticks(top, step, place) -> list[Tick]:
    count = round(top / step)
    return [place(i * step) for i in range(count + 1)]


def horizontal_bars(
    items: list[tuple],
    *,
    css: str = "bar",
    unit: str = "",
    reference: tuple[float, str] | None = None,
    width: int = WIDTH,
    label_width: int = LABEL_WIDTH,
) -> Chart:
    """One bar per (label, value) or (label, value, css), top to bottom in the given order.

    `reference` (value, label) adds a vertical marker line, e.g. a threshold.
    """
    if not items:
        return Chart(width=width)
    largest = max([item[1] for item in items] + [reference[0] if reference else 0])
    top, step = nice_scale(largest)
    plot_width = width - label_width - VALUE_WIDTH

    def x_of(value: float) -> float:
        return round(label_width + plot_width * value / top, 1)

    top_y = TOP + (REFERENCE_SPACE if reference else 0)
    rows = []
    for index, (label, value, *bar_css) in enumerate(items):
        y = top_y + index * ROW_HEIGHT
        length = round(x_of(value) - label_width, 1)
        shown = f"{_tick_label(value)}{unit}"
        rows.append(
            BarRow(
                label=label,
                y=y,
                value_label=shown,
                value_x=round(x_of(value) + 4, 1),
                bars=(
                    Bar(
                        label_width,
                        y,
                        length,
                        BAR_HEIGHT,
                        bar_css[0] if bar_css else css,
                        f"{label}: {shown}",
                    ),
                ),
            )
        )
    axis_y = top_y + len(items) * ROW_HEIGHT
    marker = None
    if reference is not None:
        x = x_of(reference[0])
        marker = Tick(position=x, label=reference[1], label_x=x + 3, label_y=TOP + 8)
    return Chart(
        width=width,
        height=int(axis_y + AXIS_HEIGHT),
        rows=rows,
        ticks=_scale_ticks(
            top, step, lambda v: Tick(x_of(v), _tick_label(v), x_of(v), axis_y + 16)
        ),
        axis_y=axis_y,
        chart_left=label_width,
        reference=marker,
    )


def stacked_bars(
    items: list[tuple[str, list[tuple[str, str, float]]]],
    *,
    width: int = WIDTH,
    label_width: int = LABEL_WIDTH,
) -> Chart:
    """One row per (label, [(key, key_label, value), ...]); segments in the given order.

    Each segment's CSS class is `seg-<key>`; zero-valued segments are left out.
    """
    if not items:
        return Chart(width=width)
    totals = [sum(value for _, _, value in parts) for _, parts in items]
    top, step = nice_scale(max(totals))
    plot_width = width - label_width - VALUE_WIDTH

    def x_of(value: float) -> float:
        return round(label_width + plot_width * value / top, 1)

    rows = []
    for index, ((label, parts), total) in enumerate(zip(items, totals, strict=True)):
        y = TOP + index * ROW_HEIGHT
        bars = []
        running = 0
        for key, key_label, value in parts:
            if not value:
                continue
            start, running = x_of(running), running + value
            bars.append(
                Bar(
                    x=start,
                    y=y,
                    width=round(x_of(running) - start, 1),
                    height=BAR_HEIGHT,
                    css=f"seg-{key}",
                    title=f"{label}, {key_label.lower()}: {_tick_label(value)}",
                )
            )
        rows.append(
            BarRow(
                label=label,
                y=y,
                value_label=_tick_label(total),
                value_x=round(x_of(total) + 4, 1),
                bars=tuple(bars),
            )
        )
    axis_y = TOP + len(items) * ROW_HEIGHT
    return Chart(
        width=width,
        height=int(axis_y + AXIS_HEIGHT),
        rows=rows,
        ticks=_scale_ticks(
            top, step, lambda v: Tick(x_of(v), _tick_label(v), x_of(v), axis_y + 16)
        ),
        axis_y=axis_y,
        chart_left=label_width,
    )


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_label: str
    title: str
    sublabel: str = ""  # a second line under the label, e.g. the year

    @property
    def center_x(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self) -> float:
        return self.y - 4

    @property
    def label_y(self) -> float:
        return self.y + self.height + 14

    @property
    def sublabel_y(self) -> float:
        return self.label_y + 12


@dataclass
class ColumnChart:
    width: int = WIDTH
    height: int = COLUMN_CHART_HEIGHT
    columns: list[Column] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    base_y: float = 0
    left: float = 0
    right: float = 0

    @property
    def empty(self) -> bool:
        return not self.columns


COLUMN_LEFT = 40
COLUMN_TOP = 16
COLUMN_BOTTOM = 40
COLUMN_GAP = 0.25  # fraction of each slot left empty


def columns(
    items: list[tuple],
    *,
    width: int = WIDTH,
    height: int = COLUMN_CHART_HEIGHT,
) -> ColumnChart:
    """One vertical bar per (label, value, title) or (label, value, title, sublabel)."""
    if not items:
        return ColumnChart(width=width, height=height)
    top, step = nice_scale(max(item[1] for item in items))
    base_y = height - COLUMN_BOTTOM
    plot_height = base_y - COLUMN_TOP
    slot = (width - COLUMN_LEFT - 10) / len(items)
    bar_width = round(slot * (1 - COLUMN_GAP), 1)

    def y_of(value: float) -> float:
        return round(base_y - plot_height * value / top, 1)

    cols = []
    for index, (label, value, title, *sublabel) in enumerate(items):
        x = round(COLUMN_LEFT + index * slot + slot * COLUMN_GAP / 2, 1)
        cols.append(
            Column(
                x=x,
                y=y_of(value),
                width=bar_width,
                height=round(base_y - y_of(value), 1),
                label=label,
                value_label=_tick_label(value),
                title=title,
                sublabel=sublabel[0] if sublabel else "",
            )
        )
    return ColumnChart(
        width=width,
        height=height,
        columns=cols,
        ticks=_scale_ticks(
            top, step, lambda v: Tick(y_of(v), _tick_label(v), COLUMN_LEFT - 6, y_of(v) + 4)
        ),
        base_y=base_y,
        left=COLUMN_LEFT,
        right=width - 10,
    )


# --- Ready for the template: every number already a string ----------------------------------
# Printing a float in a template goes through localisation (formats.localize), which took a
# third of a warm dashboard's time. str() prints the same text for these numbers (no thousand
# separators, no exponents), so the markup is unchanged.


def _svg(value) -> str:
    return str(value)


def _tick(tick: Tick) -> dict:
    return {
        "position": _svg(tick.position),
        "label": tick.label,
        "label_x": _svg(tick.label_x),
        "label_y": _svg(tick.label_y),
    }


def drawn_bars(chart: Chart) -> dict:
    """A horizontal or stacked bar chart as strings for templates/reports/_dashboard_bars.html."""
    return {
        "empty": chart.empty,
        "width": _svg(chart.width),
        "height": _svg(chart.height),
        "axis_y": _svg(chart.axis_y),
        "chart_left": _svg(chart.chart_left),
        "label_x": _svg(chart.chart_left - 8),
        "ticks": [_tick(tick) for tick in chart.ticks],
        "reference": _tick(chart.reference) if chart.reference else None,
        "rows": [
            {
                "label": row.label,
                "text_y": _svg(row.text_y),
                "value_x": _svg(row.value_x),
                "value_label": row.value_label,
                "bars": [
                    {
                        "css": bar.css,
                        "x": _svg(bar.x),
                        "y": _svg(bar.y),
                        "width": _svg(bar.width),
                        "height": _svg(bar.height),
                        "title": bar.title,
                    }
                    for bar in row.bars
                ],
            }
            for row in chart.rows
        ],
    }


def drawn_columns(chart: ColumnChart) -> dict:
    """A column chart as strings for the month chart of templates/reports/dashboard.html."""
    return {
        "empty": chart.empty,
        "width": _svg(chart.width),
        "height": _svg(chart.height),
        "left": _svg(chart.left),
        "right": _svg(chart.right),
        "base_y": _svg(chart.base_y),
        "ticks": [_tick(tick) for tick in chart.ticks],
        "columns": [
            {
                "x": _svg(column.x),
                "y": _svg(column.y),
                "width": _svg(column.width),
                "height": _svg(column.height),
                "title": column.title,
                "value_label": column.value_label,
                "label": column.label,
                "sublabel": column.sublabel,
                "center_x": _svg(column.center_x),
                "value_y": _svg(column.value_y),
                "label_y": _svg(column.label_y),
                "sublabel_y": _svg(column.sublabel_y),
            }
            for column in chart.columns
        ],
    }
