"""Chart data shared by the video and the microsite, and its raster drawing for video frames.

`consumption_chart(bill)`: the last 12-36 months of consumption, the current month, the same
month a year before and the peers' average. `breakdown(bill)`: the bill's lines as parts of
the total. The microsite draws the same data as SVG; the video draws it with Pillow here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PIL import ImageDraw

MIN_MONTHS = 2  # fewer points make no chart
MAX_MONTHS = 36


@dataclass(frozen=True)
class MonthValue:
    month: str  # YYYY-MM
    value: float


@dataclass(frozen=True)
class ConsumptionChart:
    unit: str
    months: tuple[MonthValue, ...]  # oldest first; the last one is the current month
    last_year: float | None  # the same month a year before the current one, if known
    peer_average: float | None

    @property
    def current(self) -> MonthValue:
        return self.months[-1]

    @property
    def change_vs_last_year(self) -> float | None:
        """Relative change of the current month against the same month last year."""
        if not self.last_year:
            return None
        return (self.current.value - self.last_year) / self.last_year

    @property
    def change_vs_peers(self) -> float | None:
        if not self.peer_average:
            return None
        return (self.current.value - self.peer_average) / self.peer_average

    @property
    def top(self) -> float:
        """The largest value the chart's axis must show."""
        return max([m.value for m in self.months] + [self.peer_average or 0.0, 1e-9])


def _year_before(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year) - 1:04d}-{mon}"


def consumption_chart(bill: Mapping[str, Any], months: int = 12) -> ConsumptionChart | None:
    """The chart of a validated bill/v1 dict, or None when it has too little history."""
    details = bill.get("bill")
    consumption = details.get("consumption") if isinstance(details, Mapping) else None
    if not isinstance(consumption, Mapping):
        return None
    history = [
        MonthValue(str(p["month"]), float(p["value"])) for p in consumption.get("history") or ()
    ]
    if len(history) < MIN_MONTHS:
        return None
    by_month = {m.month: m.value for m in history}
    peer = consumption.get("peer_average")
    return ConsumptionChart(
        unit=str(consumption.get("unit", "")),
        months=tuple(history[-max(MIN_MONTHS, min(months, MAX_MONTHS)) :]),
        last_year=by_month.get(_year_before(history[-1].month)),
        peer_average=float(peer) if peer is not None else None,
    )


@dataclass(frozen=True)
class Part:
    label: str
    value: Decimal


def breakdown(bill: Mapping[str, Any], max_parts: int = 5, other: str = "Other") -> list[Part]:
    """The bill's lines, largest first; beyond `max_parts` the rest fold into `other`."""
    details = bill.get("bill")
    lines = details.get("lines") if isinstance(details, Mapping) else None
    parts = [Part(str(line["label"]), Decimal(str(line["amount"]))) for line in lines or ()]
    parts.sort(key=lambda p: p.value, reverse=True)
    if len(parts) > max_parts:
        rest = sum((p.value for p in parts[max_parts - 1 :]), Decimal(0))
        parts = [*parts[: max_parts - 1], Part(other, rest)]
    return parts


# --- raster drawing (video frames) ----------------------------------------------------------


@dataclass(frozen=True)
class BarStyle:
    bar: str
    current: str
    peer: str
    gap: float = 0.25  # fraction of a bar's slot left empty


def draw_consumption_bars(
    draw: ImageDraw.ImageDraw,
    chart: ConsumptionChart,
    box: tuple[int, int, int, int],
    style: BarStyle,
    grow: float,
    rtl: bool = False,
) -> None:
    """Bars for each month (the current one highlighted) grown to `grow` (0..1) of their
    height, and the peers' average as a line. Months run right to left when `rtl`."""
    x0, y0, w, h = box
    n = len(chart.months)
    slot = w / n
    bar_w = max(1.0, slot * (1 - style.gap))
    top = chart.top * 1.08
    for i, month in enumerate(chart.months):
        slot_i = n - 1 - i if rtl else i
        left = x0 + slot_i * slot + (slot - bar_w) / 2
        height = h * (month.value / top) * grow
        colour = style.current if i == n - 1 else style.bar
        if height >= 1:
            draw.rounded_rectangle(
                (left, y0 + h - height, left + bar_w, y0 + h),
                radius=min(bar_w / 4, height / 2),
                fill=colour,
            )
    if chart.peer_average is not None and grow > 0:
        y = y0 + h - h * (chart.peer_average / top)
        right = x0 + w * grow if not rtl else x0 + w
        left = x0 if not rtl else x0 + w * (1 - grow)
        _dashed(draw, left, right, y, style.peer, width=max(2, h // 90))


def _dashed(
    draw: ImageDraw.ImageDraw, x0: float, x1: float, y: float, colour: str, width: int
) -> None:
    dash = width * 5
    x = x0
    while x < x1:
        draw.line((x, y, min(x + dash, x1), y), fill=colour, width=width)
        x += dash * 1.7


def draw_donut(
    draw: ImageDraw.ImageDraw,
    values: Sequence[float],
    colours: Sequence[str],
    box: tuple[int, int, int, int],
    grow: float,
    thickness: float = 0.3,
) -> None:
    """A donut of `values` swept clockwise from the top up to `grow` (0..1) of the circle."""
    x0, y0, w, h = box
    d = min(w, h)
    cx, cy = x0 + w / 2, y0 + h / 2
    bbox = (cx - d / 2, cy - d / 2, cx + d / 2, cy + d / 2)
    total = sum(values) or 1.0
    start = -90.0
    limit = -90.0 + 360.0 * grow
    for value, colour in zip(values, colours, strict=False):
        end = min(start + 360.0 * value / total, limit)
        if end > start:
            draw.pieslice(bbox, start, end, fill=colour)
        start += 360.0 * value / total
    hole = d * (1 - 2 * thickness) / 2
    draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=(0, 0, 0, 0))
