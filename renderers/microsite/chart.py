"""The consumption chart as plain geometry for the page's inline SVG, and its table.

The template draws the SVG from these numbers (so everything in it stays autoescaped); the
table carries the same data for screen readers and for anyone who prefers numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale

from renderers.charts import ConsumptionChart
from renderers.formatting import format_month, format_number

WIDTH, HEIGHT = 600, 240  # the SVG's viewBox; CSS scales it to the page
TOP, BOTTOM = 16, 28  # room above the tallest bar and for the month labels below
GAP = 0.25  # the share of a bar's slot left empty


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    center: float  # where the month label goes
    label: str  # short month name under the bar
    current: bool


@dataclass(frozen=True)
class Row:
    label: str  # the month in full, or "same month last year" etc. (filled in the template)
    value: str  # formatted with the unit


@dataclass(frozen=True)
class ChartView:
    unit: str
    bars: tuple[Bar, ...]
    peer_y: float | None  # the peer average as a horizontal line, if known
    rows: tuple[Row, ...]  # one per month, oldest first
    current: str
    last_year: str | None
    peers: str | None
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM


def chart_view(chart: ConsumptionChart, locale: Locale, *, rtl: bool = False) -> ChartView:
    """The bars oldest first in reading order: right to left for a right-to-left locale."""

    def number(value: float) -> str:
        return format_number(round(value), locale, decimals=0)

    plot = HEIGHT - TOP - BOTTOM
    slot = WIDTH / len(chart.months)
    top = chart.top

    def y_of(value: float) -> float:
        return round(TOP + plot * (1 - value / top), 1)

    def slot_of(i: int) -> int:
        return len(chart.months) - 1 - i if rtl else i

    bars = tuple(
        Bar(
            x=round(slot_of(i) * slot + slot * GAP / 2, 1),
            y=y_of(m.value),
            width=round(slot * (1 - GAP), 1),
            height=round(plot * m.value / top, 1),
            center=round((slot_of(i) + 0.5) * slot, 1),
            label=format_month(m.month, locale, "short"),
            current=i == len(chart.months) - 1,
        )
        for i, m in enumerate(chart.months)
    )
    rows = tuple(Row(format_month(m.month, locale, "long"), number(m.value)) for m in chart.months)
    return ChartView(
        unit=chart.unit,
        bars=bars,
        peer_y=y_of(chart.peer_average) if chart.peer_average else None,
        rows=rows,
        current=number(chart.current.value),
        last_year=number(chart.last_year) if chart.last_year is not None else None,
        peers=number(chart.peer_average) if chart.peer_average is not None else None,
    )
