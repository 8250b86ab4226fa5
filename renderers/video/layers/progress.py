"""A progress bar: a track and a fill that moves from `start` to `value` (0..1, expressions)."""

from __future__ import annotations

from typing import Annotated, Literal

from PIL import Image, ImageDraw
from pydantic import Field

from renderers.video.animation import Easing, ease
from renderers.video.layers.base import ColorSpec, Kind, LayerBase, LayerContext, blank


class Progress(LayerBase):
    type: Literal["progress"]
    value: str  # an expression in 0..1, e.g. "scene.done"
    start: str = "0"  # where the fill starts when the scene begins, e.g. "scene.before"
    color: ColorSpec = "tone"
    track: ColorSpec = "panel"
    duration: Annotated[float, Field(ge=0.0, le=5.0)] = 0.6
    easing: Easing = "ease-in-out"


def draw(layer: Progress, ctx: LayerContext, size: tuple[int, int], p: float) -> Image.Image:
    image = blank(size)
    w, h = size
    start = min(1.0, max(0.0, float(ctx.value(layer.start))))
    end = min(1.0, max(0.0, float(ctx.value(layer.value))))
    fill = start + (end - start) * ease(layer.easing, p)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 2, fill=ctx.color(layer.track))
    length = round(w * fill)
    if length > 0:
        x0 = w - length if ctx.rtl else 0
        draw.rounded_rectangle((x0, 0, x0 + length - 1, h - 1), radius=h // 2,
                               fill=ctx.color(layer.color))  # fmt: skip
    return image


KIND = Kind(
    Progress, draw, motion=lambda layer: layer.duration,
    sources=lambda layer: [("value", layer.value, False), ("start", layer.start, False)],
)  # fmt: skip
