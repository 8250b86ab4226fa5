"""Frames as the encoder takes them: yuv420p, BT.709, limited range, converted in Pillow.

A frame usually differs from the one before only where a layer moved, so `Planes` keeps the
last frame's planes and converts just the changed boxes; a scene fade is worked out on the
planes, in 16-bit integers (the conversion is affine, so fading the planes towards the
background's colour gives the picture faded in RGB, to within a rounding step; a lookup
table per value cost numpy five times as much). Pillow's matrix conversion and
2x2 average agree with ffmpeg's swscale to within one step (tests/renderers/video/test_yuv.py); a
whole 720p frame costs about as much as in swscale (3 ms), but most frames change in a box or two.

The planes live in numpy arrays laid out as the encoder reads a frame, and a frame is handed
to ffmpeg straight from one (pipe.py): no copy of 1.4 MB per frame into bytes first, nor into
the pipe where Linux allows. Each frame is a buffer of a ring brought up to date from the
planes only where they changed since it was last sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageColor

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive), in pixels
BEHIND_BOXES = 64  # a buffer more boxes behind than this is filled again whole

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


FADE_SHIFT = 8
FADE_STEPS = 1 << FADE_SHIFT  # a fade's level in steps: 16-bit integer arithmetic, no overflow


@lru_cache(maxsize=256)
def _fade_terms(level: float, towards: str) -> tuple[int, tuple[int, int, int]]:
    """The weight of the picture (0 to FADE_STEPS) and, per plane (Y, Cb, Cr), what the
    colour `towards` adds: a value v fades to (v * weight + add) >> FADE_SHIFT, which is
    towards + (v - towards) * level rounded, to within a step."""
    weight = round(level * FADE_STEPS)
    rgb = ImageColor.getrgb(towards)
    adds = [round(c * (FADE_STEPS - weight)) + FADE_STEPS // 2 for c in to_yuv(rgb[:3])]
    return weight, (adds[0], adds[1], adds[2])


class Planes:
    """The last frame's Y, Cb and Cr planes, brought up to date one changed box at a time,
    and frames made from them in a ring of `buffers` (see pipe.FrameSink: a frame's buffer is
    filled again only `buffers` frames later)."""

    def __init__(self, width: int, height: int, buffers: int = 1) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs an even frame size, not {width}x{height}")
        if buffers < 1:
            raise ValueError(f"a ring of {buffers} buffers")
        self.size = (width, height)
        luma, chroma = width * height, width * height // 4
        self._frame = np.zeros(luma + 2 * chroma, dtype=np.uint8)  # Y, then Cb, then Cr
        self.y, self.cb, self.cr = self._views(self._frame)
        self._ring = [np.empty_like(self._frame) for _ in range(buffers)]
        self._scratch = np.empty((height, width), dtype=np.uint16)  # a fade's products
        self._ring_planes = [self._views(buffer) for buffer in self._ring]
        # Where each buffer may differ from the planes: boxes converted since it was filled,
        # and the boxes it showed faded (None: anywhere). Filling it copies just these.
        self._behind: list[list[Box] | None] = [None] * buffers
        self._next = 0

    def _views(self, frame: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], ...]:
        width, height = self.size
        luma, chroma = width * height, width * height // 4
        return (
            frame[:luma].reshape(height, width),
            frame[luma : luma + chroma].reshape(height // 2, width // 2),
            frame[luma + chroma :].reshape(height // 2, width // 2),
        )

    def clear(self, color: str) -> None:
        """Make the planes a plain frame of `color` (#rrggbb), as converting one would."""
        for plane, value in zip((self.y, self.cb, self.cr), _plain(color), strict=True):
            plane.fill(value)
        self._behind = [None] * len(self._ring)

    def update(self, image: Image.Image, changed: Sequence[Box] | None = None) -> None:
        """Convert the `changed` boxes of `image` (None: all of it) into the planes."""
        width, height = self.size
        if image.size != self.size:
            raise ValueError(f"a {image.size} frame for {self.size} planes")
        boxes = [(0, 0, width, height)] if changed is None else changed
        evened = [_even(box, width, height) for box in boxes]
        for box in evened:
            self._convert(image, box)
        fresh = [box for box in evened if not empty(box)]
        for i, behind in enumerate(self._behind):
            if behind is not None:
                self._behind[i] = (
                    None if len(behind) + len(fresh) > BEHIND_BOXES else [*behind, *fresh]
                )

    def _convert(self, image: Image.Image, box: Box) -> None:
        if empty(box):
            return
        luma, cb, cr = (part for _, part in _plane_parts(box))
        region = image if box == (0, 0, *self.size) else image.crop(box)
        self.y[luma] = np.asarray(region.convert("L", matrix=MATRIX[:4]))
        # chroma of the 2x2 average (the conversion is affine: the same as averaging after)
        chroma = np.asarray(region.reduce(2).convert("RGB", matrix=MATRIX))
        self.cb[cb] = chroma[:, :, 1]
        self.cr[cr] = chroma[:, :, 2]

    def frame(
        self, fade: float = 1.0, towards: str = "#000000", content: Sequence[Box] | None = None
    ) -> memoryview:
        """One yuv420p frame (Y, Cb, Cr, one after the other), faded `fade` of the way in
        from the colour `towards`: a read-only view of the ring's next buffer. Outside the
        `content` boxes (None: the whole frame is content) the frame must be that colour: a
        fade leaves it as it is, so only the boxes are faded."""
        index = self._next
        self._next = (index + 1) % len(self._ring)
        buffer, out = self._ring[index], self._ring_planes[index]
        planes = (self.y, self.cb, self.cr)
        width, height = self.size
        whole = [(0, 0, width, height)]
        faded = (
            whole
            if content is None
            else [_even(box, width, height) for box in content if not empty(box)]
        )
        if fade < 1.0 and content is None:
            self._behind[index] = None  # faded all over: nothing to bring up to date first
        else:
            behind = self._behind[index]
            if behind is None:
                np.copyto(buffer, self._frame)
            else:
                for box in behind:
                    for i, part in _plane_parts(box):
                        out[i][part] = planes[i][part]
            self._behind[index] = []
        if fade < 1.0:
            weight, adds = _fade_terms(fade, towards)
            for box in faded:
                for i, part in _plane_parts(box):
                    source = planes[i][part]
                    product = self._scratch[: source.shape[0], : source.shape[1]]
                    np.multiply(source, weight, out=product, dtype=np.uint16)
                    product += adds[i]
                    product >>= FADE_SHIFT
                    out[i][part] = product
            self._behind[index] = None if content is None else faded
        return buffer.data.toreadonly()


@lru_cache(maxsize=64)
def _plain(color: str) -> tuple[int, int, int]:
    """A plain colour's Y, Cb and Cr, converted the way a frame's pixels are (same rounding)."""
    planes = Planes(2, 2)
    planes.update(Image.new("RGB", (2, 2), color))
    return int(planes.y[0, 0]), int(planes.cb[0, 0]), int(planes.cr[0, 0])


def _plane_parts(box: Box) -> Iterator[tuple[int, tuple[slice, slice]]]:
    """The box's part of each plane (Y, Cb, Cr): an even box, halved for chroma."""
    left, top, right, bottom = box
    yield 0, np.s_[top:bottom, left:right]
    half = np.s_[top // 2 : bottom // 2, left // 2 : right // 2]
    yield 1, half
    yield 2, half
