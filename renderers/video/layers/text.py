"""Text: a template string (locale filters) wrapped and shrunk to fit its box, never clipped."""

from __future__ import annotations

from typing import Annotated, Literal

from PIL import Image, ImageDraw
from pydantic import Field

from renderers.video.layers.base import ColorSpec, Kind, LayerBase, LayerContext, blank
from renderers.video.text import Box, draw_text, fit


class Text(LayerBase):
    type: Literal["text"]
    text: str
    size: Annotated[int, Field(ge=8, le=300)] = 48  # pixels on a 720-pixel short side
    min_size: Annotated[int, Field(ge=6, le=300)] = 18
    max_lines: Annotated[int, Field(ge=1, le=12)] = 3
    color: ColorSpec = "text"
    bold: bool = False
    align: Literal["start", "center", "end"] = "center"
    valign: Literal["top", "center", "bottom"] = "center"


def draw(layer: Text, ctx: LayerContext, size: tuple[int, int], _p: float) -> Image.Image:
    image = blank(size)
    content = ctx.text(layer.text)
    if not content:
        return image
    box = Box(0, 0, size[0], size[1])
    fitted = fit(ctx.typesetter, content, box, size=ctx.px(layer.size),
                 min_size=min(ctx.px(layer.min_size), ctx.px(layer.size)), bold=layer.bold,
                 max_lines=layer.max_lines)  # fmt: skip
    draw_text(ImageDraw.Draw(image), ctx.typesetter, fitted, box, fill=ctx.color(layer.color),
              bold=layer.bold, align=layer.align, valign=layer.valign)  # fmt: skip
    return image


KIND = Kind(Text, draw, sources=lambda layer: [("text", layer.text, True)])
