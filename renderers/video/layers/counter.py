"""An amount (or number) counting up from zero to its value, eased, at a fixed font size."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from PIL import Image, ImageDraw
from pydantic import Field

from renderers.formatting import format_money, format_number
from renderers.video.animation import Easing, ease
from renderers.video.layers.base import ColorSpec, Kind, LayerBase, LayerContext, blank
from renderers.video.text import Box, Fitted, draw_text, fit


class Counter(LayerBase):
    type: Literal["counter"]
    value: str  # an expression giving the number, e.g. "total"
    format: Literal["money", "number"] = "money"
    absolute: bool = False  # show without sign (a credit is shown as a positive amount)
    duration: Annotated[float, Field(ge=0.0, le=5.0)] = 1.2  # seconds of counting
    easing: Easing = "ease-out"
    size: Annotated[int, Field(ge=8, le=300)] = 140
    color: ColorSpec = "text"
    bold: bool = True


def _label(layer: Counter, ctx: LayerContext, value: Decimal) -> str:
    if layer.format == "money":
        return format_money(value, str(ctx.values["currency"]), ctx.typesetter.locale)
    return format_number(value, ctx.typesetter.locale, decimals=0)


def draw(layer: Counter, ctx: LayerContext, size: tuple[int, int], p: float) -> Image.Image:
    image = blank(size)
    target = Decimal(str(ctx.value(layer.value)))
    if layer.absolute:
        target = abs(target)
    box = Box(0, 0, size[0], size[1])
    key = ("counter-fit", id(layer), size)
    if key not in ctx.memo:  # one size for every frame: the final (widest) label fits
        ctx.memo[key] = fit(ctx.typesetter, _label(layer, ctx, target), box,
                            size=ctx.px(layer.size), min_size=ctx.px(18), bold=layer.bold,
                            max_lines=1)  # fmt: skip
    final: Fitted = ctx.memo[key]
    step = Decimal("0.01") if layer.format == "money" else Decimal(1)
    shown = (target * Decimal(str(ease(layer.easing, p)))).quantize(step)
    label = _label(layer, ctx, shown)
    fitted = Fitted((label,), final.size, final.line_height, final.ascent)
    draw_text(ImageDraw.Draw(image), ctx.typesetter, fitted, box,
              fill=ctx.color(layer.color), bold=layer.bold)  # fmt: skip
    return image


KIND = Kind(
    Counter, draw, motion=lambda layer: layer.duration,
    sources=lambda layer: [("value", layer.value, False)],
)  # fmt: skip
