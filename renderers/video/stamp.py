"""The stamp of a preview video (e.g. "PREVIEW"): on every frame and on its poster, so a
preview can never pass for a real video.

The word is repeated in staggered diagonal rows over the whole frame (no corner or strip
to crop away, the scene still readable through it) and set once more, solid, on a badge in
the top corner. ffmpeg lays the overlay over every frame after the scenes' fades
(encode.py), so a frame fading in carries it as plainly as a settled one; the poster gets
the same overlay.
"""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import Image, ImageDraw

from renderers.errors import RenderError
from renderers.video.fonts import FontTable, pil_font
from renderers.video.formats import Format

STAMP_FORMAT = 1  # part of a stamped scene's cache key: bump when the overlay's look changes
MAX_STAMP_CHARS = 24
ANGLE = 30  # degrees the rows rise
ROW_SIZE = 52  # pixels of the repeated word, on a 720-pixel short side
BADGE_SIZE = 44  # of the word on the badge
INK = (255, 255, 255, 96)  # the repeated word: white, see-through...
OUTLINE = (0, 0, 0, 96)  # ...outlined dark, so it reads on light and dark scenes alike
BADGE = (200, 30, 30, 230)
BADGE_INK = (255, 255, 255, 255)


def check_stamp(text: str) -> str:
    """The stamp's text, or a RenderError naming what is wrong with it."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_STAMP_CHARS:
        raise RenderError(f"stamp must be 1 to {MAX_STAMP_CHARS} characters of text")
    if not text.isprintable():
        raise RenderError("stamp must be printable text")
    return text.strip()


@lru_cache(maxsize=8)
def stamp_overlay(fmt: Format, text: str) -> Image.Image:
    """The stamp for a frame of `fmt`: an RGBA image of the frame's size (do not change it)."""
    word = check_stamp(text)
    face = FontTable.with_overrides({}).face("latin", bold=True)
    short = min(fmt.width, fmt.height) / 720
    row_font = pil_font(face, max(12, round(ROW_SIZE * short)))
    # Rows drawn level on a square that covers the frame at any angle, then turned.
    side = math.ceil(math.hypot(fmt.width, fmt.height))
    rows = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(rows)
    gap = "   "
    step_x = round(row_font.getlength(word + gap))
    step_y = round(row_font.size * 2.6)
    for i, y in enumerate(range(0, side, step_y)):
        offset = (i % 2) * step_x // 2  # rows staggered: the words form no straight column
        for x in range(-offset, side, step_x):
            draw.text((x, y), word, font=row_font, fill=INK,
                      stroke_width=max(1, round(2 * short)), stroke_fill=OUTLINE)  # fmt: skip
    turned = rows.rotate(ANGLE, resample=Image.Resampling.BICUBIC)
    left, top = (side - fmt.width) // 2, (side - fmt.height) // 2
    overlay = turned.crop((left, top, left + fmt.width, top + fmt.height))
    # The badge: the word solid in the top left corner.
    badge_font = pil_font(face, max(12, round(BADGE_SIZE * short)))
    pad = round(badge_font.size * 0.45)
    left, top, right, bottom = (round(v) for v in badge_font.getbbox(word, anchor="lt"))
    corner = round(24 * short)
    box = (corner, corner, corner + right - left + 2 * pad, corner + bottom - top + 2 * pad)
    badge = Image.new("RGBA", overlay.size, (0, 0, 0, 0))
    badge_draw = ImageDraw.Draw(badge)
    badge_draw.rounded_rectangle(box, radius=pad // 2, fill=BADGE)
    badge_draw.text((box[0] + pad - left, box[1] + pad - top), word, font=badge_font,
                    fill=BADGE_INK, anchor="lt")  # fmt: skip
    return Image.alpha_composite(overlay, badge)


def stamped(image: Image.Image, text: str, fmt: Format) -> Image.Image:
    """`image` (a frame of `fmt`) with the stamp over it, as RGB."""
    return Image.alpha_composite(image.convert("RGBA"), stamp_overlay(fmt, text)).convert("RGB")
