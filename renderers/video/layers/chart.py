"""The consumption bar chart: 12-36 months, the current month highlighted, the peers' average
as a dashed line, bars growing in; month initials under the bars."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from babel.dates import format_date as babel_date
from PIL import Image, ImageDraw
from pydantic import Field

from renderers.charts import BarStyle, consumption_chart, draw_consumption_bars
from renderers.video.animation import Easing, ease
from renderers.video.layers.base import ColorSpec, Kind, LayerBase, LayerContext, blank
from renderers.video.text import Box, draw_text, fit

LABEL_SHARE = 0.12  # of the box height, under the bars, for month labels


class Chart(LayerBase):
    type: Literal["chart"]
    months: Annotated[int, Field(ge=12, le=36)] = 12
    bar_color: ColorSpec = "panel"
    current_color: ColorSpec = "tone"
    peer_color: ColorSpec = "muted"
    grow: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0  # seconds for the bars to grow in
    easing: Easing = "ease-out"


def draw(layer: Chart, ctx: LayerContext, size: tuple[int, int], p: float) -> Image.Image:
    image = blank(size)
    chart = consumption_chart(ctx.bill or {}, layer.months)
    if chart is None:
        return image
    w, h = size
    label_h = int(h * LABEL_SHARE)
    draw = ImageDraw.Draw(image)
    style = BarStyle(ctx.color(layer.bar_color), ctx.color(layer.current_color),
                     ctx.color(layer.peer_color))  # fmt: skip
    draw_consumption_bars(draw, chart, (0, 0, w, h - label_h), style,
                          ease(layer.easing, p), rtl=ctx.rtl)  # fmt: skip
    key = ("chart-labels", id(layer), size)
    if key not in ctx.memo:  # labels do not move: draw them once, paste them every frame
        labels = blank((w, label_h))
        n = len(chart.months)
        slot = w / n
        ldraw = ImageDraw.Draw(labels)
        for i, month in enumerate(chart.months):
            year, mon = (int(x) for x in month.month.split("-"))
            name = babel_date(datetime.date(year, mon, 1), "MMMMM", locale=ctx.typesetter.locale)
            slot_i = n - 1 - i if ctx.rtl else i
            box = Box(int(slot_i * slot), 0, max(1, int(slot)), label_h)
            fitted = fit(ctx.typesetter, name, box, size=ctx.px(22), min_size=ctx.px(10),
                         max_lines=1)  # fmt: skip
            colour = style.current if i == n - 1 else ctx.color("muted")
            draw_text(ldraw, ctx.typesetter, fitted, box, fill=colour)
        ctx.memo[key] = labels
    image.alpha_composite(ctx.memo[key], (0, h - label_h))
    return image


KIND = Kind(Chart, draw, motion=lambda layer: layer.grow)
