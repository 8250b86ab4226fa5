"""Frames as the encoder takes them: yuv420p, BT.709, limited range, converted in Pillow.

A frame usually differs from the one before only where a layer moved, so `Planes` keeps the
last frame's planes and converts just the changed boxes; a scene fade is a lookup table on
the planes (the conversion is affine, so fading the planes towards the background's colour
gives the picture faded in RGB, to within a rounding step). Pillow's matrix conversion and
2x2 average agree with ffmpeg's swscale to within one step (tests/test_video_yuv.py); a
whole 720p frame costs about as much as in swscale (3 ms), but most frames change in a box or two.

The planes live in one numpy array laid out as the encoder reads a frame, so a frame is
written to ffmpeg straight from it: no copy of 1.4 MB per frame into bytes first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
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
def _plane_tables(level: float, towards: str) -> tuple[npt.NDArray[np.uint8], ...]:
    """The Y, Cb and Cr tables fading `level` of the way in from the colour `towards`."""
    rgb = ImageColor.getrgb(towards)
    return tuple(
        np.array(fade_table(level, c), dtype=np.uint8) for c in to_yuv((rgb[0], rgb[1], rgb[2]))
    )


class Planes:
    """The last frame's Y, Cb and Cr planes, brought up to date one changed box at a time."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs an even frame size, not {width}x{height}")
        self.size = (width, height)
        luma, chroma = width * height, width * height // 4
        self._frame = np.zeros(luma + 2 * chroma, dtype=np.uint8)  # Y, then Cb, then Cr
        self._faded = np.empty_like(self._frame)  # a fading frame is made here, in the same order
        self.y, self.cb, self.cr = self._views(self._frame)
        self._faded_planes = self._views(self._faded)
        # The boxes faded last time (None: not made yet, or faded whole). Everywhere else the
        # fading frame shows the plain background, as the frame itself must outside the boxes
        # of a fade's content: a fade puts back only these boxes, not the whole frame.
        self._stale: list[Box] | None = None

    def _views(self, frame: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], ...]:
        width, height = self.size
        luma, chroma = width * height, width * height // 4
        return (
            frame[:luma].reshape(height, width),
            frame[luma : luma + chroma].reshape(height // 2, width // 2),
            frame[luma + chroma :].reshape(height // 2, width // 2),
        )

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
        left, top, right, bottom = box
        region = image if box == (0, 0, *self.size) else image.crop(box)
        self.y[top:bottom, left:right] = np.asarray(region.convert("L", matrix=MATRIX[:4]))
        # chroma of the 2x2 average (the conversion is affine: the same as averaging after)
        chroma = np.asarray(region.reduce(2).convert("RGB", matrix=MATRIX))
        half = np.s_[top // 2 : bottom // 2, left // 2 : right // 2]
        self.cb[half] = chroma[:, :, 1]
        self.cr[half] = chroma[:, :, 2]

    def frame(
        self, fade: float = 1.0, towards: str = "#000000", content: Sequence[Box] | None = None
    ) -> memoryview:
        """One yuv420p frame (Y, Cb, Cr, one after the other), faded `fade` of the way in
        from the colour `towards`: a read-only view, valid until the next `update` or
        `frame`. Outside the `content` boxes (None: the whole frame is content) the frame
        must be that colour: a fade leaves it as it is, so only the boxes are faded."""
        if fade >= 1.0:
            return self._frame.data.toreadonly()
        tables = _plane_tables(fade, towards)
        width, height = self.size
        planes, faded = (self.y, self.cb, self.cr), self._faded_planes
        if content is None:
            boxes = [(0, 0, width, height)]
        else:
            boxes = [_even(box, width, height) for box in content if not empty(box)]
            if self._stale is None:
                np.copyto(self._faded, self._frame)
            else:  # put back what the last fade faded
                for box in self._stale:
                    for i, part in _plane_parts(box):
                        faded[i][part] = planes[i][part]
        for box in boxes:
            for i, part in _plane_parts(box):
                np.take(tables[i], planes[i][part], out=faded[i][part])
        self._stale = None if content is None else boxes
        return self._faded.data.toreadonly()


def _plane_parts(box: Box) -> Iterator[tuple[int, tuple[slice, slice]]]:
    """The box's part of each plane (Y, Cb, Cr): an even box, halved for chroma."""
    left, top, right, bottom = box
    yield 0, np.s_[top:bottom, left:right]
    half = np.s_[top // 2 : bottom // 2, left // 2 : right // 2]
    yield 1, half
    yield 2, half
