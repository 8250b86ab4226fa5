"""Runs of text drawn from glyphs rasterised once per font and size.

Pillow rasterises every glyph of a string each time it draws it (FreeType: about 0.1 ms a
glyph at a counter's size, 1.3 ms for a counter's label on each frame it ticks). In a run
that shaping cannot change, digits, spaces, punctuation and currency signs set left to
right, a glyph looks the same wherever it stands: each is drawn once and then pasted where
Pillow would put it, at its pen position in the shaped run (kerning included) rounded as
Pillow rounds it. Any other run is left to Pillow whole. tests/renderers/video/test_glyphs.py checks
that both ways give the same pixels.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from PIL import Image, ImageDraw

from renderers.video.fonts import FontFace, pil_font

# Unicode categories of characters no shaping substitutes, joins or moves: decimal digits,
# spaces, punctuation, currency and maths signs (not letters, which may form ligatures, nor
# marks or format controls such as the bidi marks of right-to-left amounts)
UNSHAPED = frozenset({"Nd", "Zs", "Po", "Pd", "Ps", "Pe", "Sc", "Sm"})
GLYPHS_KEPT = 1024  # a glyph at a counter's size is a few kilobytes


def unshaped(text: str) -> bool:
    return all(unicodedata.category(char) in UNSHAPED for char in text)


@lru_cache(maxsize=GLYPHS_KEPT)
def _glyph(face: FontFace, size: int, char: str) -> tuple[Image.Image, int, int]:
    """The glyph's coverage, and where its top left lies from the pen on the baseline."""
    left, top, right, bottom = (int(v) for v in pil_font(face, size).getbbox(char, anchor="ls"))
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)))
    ImageDraw.Draw(mask).text((-left, -top), char, font=pil_font(face, size), fill=255, anchor="ls")
    return mask, left, top


@lru_cache(maxsize=GLYPHS_KEPT)
def _advance(face: FontFace, size: int, char: str) -> float:
    return pil_font(face, size).getlength(char)


def _column(origin: float, pen: float) -> int:
    """Where Pillow puts a glyph across: the origin's whole pixels, plus its fraction and the
    pen position counted in 1/64 of a pixel (FreeType's 26.6 fixed point), rounded half up."""
    whole = int(origin)
    return whole + ((round((origin - whole) * 64) + round(pen * 64) + 32) >> 6)


def _row(origin: float) -> int:
    """And down: FreeType's y axis points up, so the fraction is rounded half down."""
    whole = int(origin)
    return whole - ((32 - round((origin - whole) * 64)) >> 6)


def draw_run(
    draw: ImageDraw.ImageDraw,
    face: FontFace,
    size: int,
    xy: tuple[float, float],
    text: str,
    fill: str,
    direction: str = "ltr",
) -> None:
    """Draw `text` in one font with its baseline's left end at `xy`, like `draw.text` with
    anchor "ls"."""
    font = pil_font(face, size)
    if direction != "ltr" or not unshaped(text):
        draw.text(xy, text, font=font, fill=fill, anchor="ls", direction=direction)
        return
    x, y = xy
    for i, char in enumerate(text):
        if char.isspace():
            continue
        mask, left, top = _glyph(face, size, char)
        # the run up to this glyph, less its own advance: kerning with the glyph before is
        # counted (it adjusts that glyph's advance), kerning with the one after is not
        pen = font.getlength(text[: i + 1]) - _advance(face, size, char)
        draw.bitmap((_column(x, pen) + left, _row(y) + top), mask, fill=fill)
