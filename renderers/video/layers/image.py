"""An image (a logo): a file of the scene directory, scaled to fit its box, centred."""

from __future__ import annotations

from typing import Literal

from PIL import Image, ImageOps

from renderers.video.layers.base import Kind, LayerBase, LayerContext, blank


class Picture(LayerBase):
    type: Literal["image"]
    path: str  # relative to the scene directory; checked when the spec loads


def draw(layer: Picture, ctx: LayerContext, size: tuple[int, int], _p: float) -> Image.Image:
    image = blank(size)
    with Image.open(ctx.scenes_dir / layer.path) as src:
        picture = src.convert("RGBA")
    picture = ImageOps.contain(picture, size, Image.Resampling.LANCZOS)
    image.alpha_composite(picture, ((size[0] - picture.width) // 2,
                                    (size[1] - picture.height) // 2))  # fmt: skip
    return image


KIND = Kind(Picture, draw)
