"""Frames as the encoder takes them: yuv420p, BT.709, limited range, converted in Pillow.

A frame usually differs from the one before only where a layer moved, so `Planes` keeps the
last frame's planes and converts just the changed boxes; a scene fade is a lookup table on
the planes (the conversion is affine, so fading the planes towards the background's colour
gives the picture faded in RGB, to within a rounding step). Pillow's matrix conversion and
2x2 average agree with ffmpeg's swscale to within one step (tests/test_video_yuv.py); a
whole 720p frame costs about as much as in swscale (3 ms), but most frames change in a box or two.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageColor

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive), in pixels

KR, KB = 0.2126, 0.0722  # BT.709 luma weights
KG = 1.0 - KR - KB
LUMA, CHROMA = 219 / 255, 224 / 255  # limited ("tv") range: Y 16-235, Cb/Cr 16-240
MATRIX = (
    LUMA * KR, LUMA * KG, LUMA * KB, 16.0,
    CHROMA * -KR / (2 * (1 - KB)), CHROMA * -KG / (2 * (1 - KB)), CHROMA * 0.5, 128.0,
    CHROMA * 0.5, CHROMA * -KG / (2 * (1 - KR)), CHROMA * -KB / (2 * (1 - KR)), 128.0,
)  # fmt: skip


def to_yuv(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """One colour's Y, Cb, Cr (unrounded)."""
    return (
        MATRIX[0] * rgb[0] + MATRIX[1] * rgb[1] + MATRIX[2] * rgb[2] + MATRIX[3],
        MATRIX[4] * rgb[0] + MATRIX[5] * rgb[1] + MATRIX[6] * rgb[2] + MATRIX[7],
        MATRIX[8] * rgb[0] + MATRIX[9] * rgb[1] + MATRIX[10] * rgb[2] + MATRIX[11],
    )


def empty(box: Box) -> bool:
    """No pixel inside: nothing to convert, paste or put back."""
    return box[2] <= box[0] or box[3] <= box[1]


def _even(box: Box, width: int, height: int) -> Box:
    """The box grown to even edges (a chroma sample covers 2x2 pixels), inside the frame."""
    left, top, right, bottom = box
    return (
        max(0, left - left % 2),
        max(0, top - top % 2),
        min(width, right + right % 2),
        min(height, bottom + bottom % 2),
    )


def fade_table(level: float, towards: float) -> list[int]:
    """256 entries taking each value `level` of the way from `towards` (level 1: unchanged)."""
    return [min(255, max(0, round(towards + (v - towards) * level))) for v in range(256)]


@lru_cache(maxsize=256)
def _plane_tables(level: float, towards: str) -> list[list[int]]:
    """The Y, Cb and Cr tables fading `level` of the way in from the colour `towards`."""
    rgb = ImageColor.getrgb(towards)
    return [fade_table(level, c) for c in to_yuv((rgb[0], rgb[1], rgb[2]))]


class Planes:
    """The last frame's Y, Cb and Cr planes, brought up to date one changed box at a time."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs an even frame size, not {width}x{height}")
        self.size = (width, height)
        self.y = Image.new("L", (width, height))
        self.cb = Image.new("L", (width // 2, height // 2))
        self.cr = Image.new("L", (width // 2, height // 2))

    def update(self, image: Image.Image, changed: Sequence[Box] | None = None) -> None:
        """Convert the `changed` boxes of `image` (None: all of it) into the planes."""
        width, height = self.size
        if image.size != self.size:
            raise ValueError(f"a {image.size} frame for {self.size} planes")
        for box in [(0, 0, width, height)] if changed is None else changed:
            self._convert(image, _even(box, width, height))

    def _convert(self, image: Image.Image, box: Box) -> None:
        if empty(box):
            return
        left, top = box[:2]
        region = image if box == (0, 0, *self.size) else image.crop(box)
        self.y.paste(region.convert("L", matrix=MATRIX[:4]), (left, top))
        # chroma of the 2x2 average (the conversion is affine: the same as averaging after)
        chroma = region.reduce(2).convert("RGB", matrix=MATRIX)
        self.cb.paste(chroma.getchannel(1), (left // 2, top // 2))
        self.cr.paste(chroma.getchannel(2), (left // 2, top // 2))

    def frame(
        self, fade: float = 1.0, towards: str = "#000000", content: Sequence[Box] | None = None
    ) -> list[bytes]:
        """The planes of one yuv420p frame (Y, Cb, Cr: written one after the other), faded
        `fade` of the way in from the colour `towards`. Outside the `content` boxes (None:
        the whole frame is content) the frame must be that colour: a fade leaves it as it
        is, so only the boxes are faded."""
        planes: tuple[Image.Image, ...] = (self.y, self.cb, self.cr)
        if fade >= 1.0:
            return [p.tobytes() for p in planes]
        tables = _plane_tables(fade, towards)
        if content is None:
            return [p.point(t).tobytes() for p, t in zip(planes, tables, strict=True)]
        width, height = self.size
        boxes = [_even(box, width, height) for box in content if not empty(box)]
        faded = []
        for plane, table, scale in zip(planes, tables, (1, 2, 2), strict=True):
            out = plane.copy()
            for box in boxes:
                part = (box[0] // scale, box[1] // scale, box[2] // scale, box[3] // scale)
                out.paste(plane.crop(part).point(table), part[:2])
            faded.append(out.tobytes())
        return faded
