"""Background: a colour, a vertical/horizontal/diagonal gradient, or an image (cover)."""

from __future__ import annotations

from typing import Literal

from PIL import Image, ImageOps

from renderers.video.layers.base import ColorSpec, Kind, LayerBase, LayerContext


class Background(LayerBase):
    type: Literal["background"]
    color: ColorSpec = "background"
    gradient_to: ColorSpec | None = None  # a second colour makes it a gradient
    direction: Literal["vertical", "horizontal", "diagonal"] = "vertical"
    image: str | None = None  # a file under the scene directory, scaled to cover the box


def _gradient(size: tuple[int, int], a: str, b: str, direction: str) -> Image.Image:
    # A 256-step ramp resized to the box: one C call, no per-pixel Python.
    ramp = Image.linear_gradient("L")  # 256x256, black at the top
    if direction == "horizontal":
        ramp = ramp.rotate(90, expand=True).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    elif direction == "diagonal":
        ramp = ramp.rotate(45, resample=Image.Resampling.BICUBIC, expand=True).crop(
            (53, 53, 309, 309)
        )
    mask = ramp.resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGBA", size, b), Image.new("RGBA", size, a), mask)


def draw(layer: Background, ctx: LayerContext, size: tuple[int, int], _p: float) -> Image.Image:
    if layer.image:
        with Image.open(ctx.scenes_dir / layer.image) as img:
            return ImageOps.fit(img.convert("RGBA"), size, Image.Resampling.LANCZOS)
    if layer.gradient_to:
        return _gradient(size, ctx.color(layer.color), ctx.color(layer.gradient_to),
                         layer.direction)  # fmt: skip
    return Image.new("RGBA", size, ctx.color(layer.color))


KIND = Kind(Background, draw)
