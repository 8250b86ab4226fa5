"""The bill's lines as horizontal bars (label, bar, amount) or a donut with a legend."""

from __future__ import annotations

from typing import Annotated, Literal

from PIL import Image, ImageDraw
from pydantic import Field

from renderers.charts import Part, breakdown, draw_donut
from renderers.formatting import format_money
from renderers.video.animation import Easing, ease
from renderers.video.layers.base import ColorSpec, Kind, LayerBase, LayerContext, blank
from renderers.video.text import Box, Fitted, draw_text, fit

ROW_MAX = 160  # pixels (of a 720-pixel short side): the tallest a row gets
BAR_MAX = 28  # pixels: the thickest a bar gets
LABEL_SHARE = 0.6  # of a row's height (bars style): label and amount; the bar below
PALETTE = ("#66BB6A", "#42A5F5", "#FFCA28", "#AB47BC", "#FF7043", "#26C6DA")


class Breakdown(LayerBase):
    type: Literal["breakdown"]
    style: Literal["bars", "donut"] = "bars"
    max_rows: Annotated[int, Field(ge=1, le=6)] = 5  # further lines fold into `other`
    other: str = "{{ t['lines.other'] }}"  # the label of the folded lines
    colors: tuple[ColorSpec, ...] = PALETTE
    text_color: ColorSpec = "text"
    size: Annotated[int, Field(ge=8, le=120)] = 36
    grow: Annotated[float, Field(ge=0.0, le=5.0)] = 0.8
    easing: Easing = "ease-out"


def _row_height(ctx: LayerContext, h: int, rows: int) -> int:
    """Rows share the box, up to ROW_MAX each: two lines do not become two giant bars."""
    return min(h // max(1, rows), ctx.px(ROW_MAX))


def _boxes(layer: Breakdown, ctx: LayerContext, w: int, y: int, row_h: int) -> tuple[Box, Box]:
    """A row's label and amount boxes: above its bar, or right of the donut; mirrored RTL."""
    if layer.style == "bars":
        top = int(row_h * LABEL_SHARE)  # the bar lies under the label and the amount
        label_box, amount_box = (
            Box(0, y, int(w * 0.66), top),
            Box(int(w * 0.68), y, w - int(w * 0.68), top),
        )
    else:
        left = int(w * 0.48)
        label_box = Box(left, y, int(w * 0.3), row_h)
        amount_box = Box(left + int(w * 0.31), y, int(w * 0.21), row_h)
    if ctx.rtl:
        label_box, amount_box = (Box(w - b.x - b.w, b.y, b.w, b.h) for b in (label_box, amount_box))
    return label_box, amount_box


def _uniform(
    ctx: LayerContext, texts: list[str], boxes: list[Box], size: int, bold: bool, lines: int
) -> list[Fitted]:
    ts, px, low = ctx.typesetter, ctx.px(size), ctx.px(14)
    sizes = [fit(ts, t, b, size=px, min_size=low, bold=bold, max_lines=lines).size
             for t, b in zip(texts, boxes, strict=True)]  # fmt: skip
    common = min(sizes, default=px)
    return [fit(ts, t, b, size=common, min_size=min(low, common), bold=bold, max_lines=lines)
            for t, b in zip(texts, boxes, strict=True)]  # fmt: skip


def _static(
    layer: Breakdown, ctx: LayerContext, size: tuple[int, int]
) -> tuple[Image.Image, list[Part]]:
    """Labels and amounts: the same on every frame, drawn once."""
    key = ("breakdown-static", id(layer), size)
    if key in ctx.memo:
        return ctx.memo[key]  # type: ignore[no-any-return]
    image = blank(size)
    draw = ImageDraw.Draw(image)
    parts = breakdown(ctx.bill or {}, layer.max_rows, ctx.text(layer.other))
    currency, locale, ts = str(ctx.values["currency"]), ctx.typesetter.locale, ctx.typesetter
    w, h = size
    row_h = _row_height(ctx, h, len(parts))
    boxes = [_boxes(layer, ctx, w, i * row_h, row_h) for i in range(len(parts))]
    money = [format_money(part.value, currency, locale) for part in parts]
    # One size for all labels and one for all amounts (the smallest that fits each), so the
    # rows read as a table; a long label wraps to a second line before it shrinks.
    labels = _uniform(ctx, [p.label for p in parts], [b[0] for b in boxes], layer.size, False, 2)
    amounts = _uniform(ctx, money, [b[1] for b in boxes], layer.size, True, 1)
    fill = ctx.color(layer.text_color)
    for i, ((label_box, amount_box), label, amount) in enumerate(
        zip(boxes, labels, amounts, strict=True)
    ):
        draw_text(draw, ts, label, label_box, fill=fill, align="start",
                  valign="bottom" if layer.style == "bars" else "center")  # fmt: skip
        draw_text(draw, ts, amount, amount_box, fill=fill, bold=True, align="end",
                  valign="bottom" if layer.style == "bars" else "center")  # fmt: skip
        if layer.style == "donut":
            dot = ctx.px(14)
            dx = label_box.x + label_box.w + dot if ctx.rtl else label_box.x - 2 * dot
            cy = i * row_h + row_h // 2
            draw.ellipse((dx, cy - dot // 2, dx + dot, cy + dot // 2),
                         fill=ctx.color(layer.colors[i % len(layer.colors)]))  # fmt: skip
    ctx.memo[key] = (image, parts)
    return image, parts


def draw(layer: Breakdown, ctx: LayerContext, size: tuple[int, int], p: float) -> Image.Image:
    static, parts = _static(layer, ctx, size)
    image = static.copy()
    w, h = size
    grow = ease(layer.easing, p)
    draw = ImageDraw.Draw(image)
    colors = [ctx.color(layer.colors[i % len(layer.colors)]) for i in range(len(parts))]
    if layer.style == "donut":
        d = min(int(w * 0.42), h)
        x = w - d if ctx.rtl else 0
        values = [max(float(part.value), 0.0) for part in parts]
        draw_donut(draw, values, colors, (x, (h - d) // 2, d, d), grow)
        return image
    row_h = _row_height(ctx, h, len(parts))
    top = max((float(part.value) for part in parts), default=1.0) or 1.0
    bar_h = max(4, min(row_h // 5, ctx.px(BAR_MAX)))
    for i, part in enumerate(parts):
        y = i * row_h + row_h * LABEL_SHARE + row_h // 20
        length = w * max(float(part.value), 0.0) / top * grow
        x0 = w - length if ctx.rtl else 0
        if length >= 1:
            draw.rounded_rectangle((x0, y, x0 + length, y + bar_h), radius=bar_h // 2,
                                   fill=colors[i])  # fmt: skip
    return image


KIND = Kind(
    Breakdown, draw, motion=lambda layer: layer.grow,
    sources=lambda layer: [("other", layer.other, True)],
)  # fmt: skip
