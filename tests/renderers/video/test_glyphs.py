"""Runs drawn from glyphs rasterised once (renderers/video/glyphs.py) against Pillow drawing
the whole string: the same pixels for every amount a counter shows, in every locale's font."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PIL import Image, ImageDraw

from renderers.formatting import format_money, format_number, resolve_locale
from renderers.video.fonts import FontTable, pil_font
from renderers.video.glyphs import _glyph, draw_run, unshaped

LOCALES = ("it-IT", "fr-FR", "en-US", "de-DE", "th-TH", "zh-Hant-TW", "ar-EG", "he-IL", "de-CH")
AMOUNTS = ("0", "0.07", "9.99", "41.5", "1234.56", "-98765.43", "1000000")
ORIGINS = [(10 + k / 16, 150 + k / 16) for k in range(16)] + [
    (101.49, 150.5), (7.005, 149.99), (-20.3, 150.2), (-3.51, 150.51)
]  # fmt: skip


def _labels(tag: str) -> list[str]:
    locale = resolve_locale(tag, "it-IT")
    return [
        label
        for amount in AMOUNTS
        for label in (
            format_money(Decimal(amount), "EUR", locale),
            format_money(Decimal(amount), "CHF", locale),
            format_number(Decimal(amount), locale, decimals=0),
        )
    ]


@pytest.mark.parametrize("tag", LOCALES)
def test_a_run_of_cached_glyphs_is_what_pillow_draws(tag: str) -> None:
    fonts = FontTable.with_overrides({})
    locale = resolve_locale(tag, "it-IT")
    cached = checked = 0
    for size, bold in ((140, True), (23, False)):
        for label in _labels(tag):
            for script in fonts.chain(locale)[:2]:  # the locale's own font, then Latin
                face = fonts.face(script, bold)
                for xy in ORIGINS[:: 5 if size < 100 else 3]:
                    ours = Image.new("RGBA", (1300, 220))
                    draw_run(ImageDraw.Draw(ours), face, size, xy, label, "#0b3d5c")
                    pillows = Image.new("RGBA", (1300, 220))
                    font = pil_font(face, size)
                    ImageDraw.Draw(pillows).text(
                        xy, label, font=font, fill="#0b3d5c", anchor="ls", direction="ltr"
                    )
                    assert ours.tobytes() == pillows.tobytes(), (label, script, size, xy)
                    cached += unshaped(label)
                    checked += 1
    assert cached >= checked // 6  # the cached way was checked (bidi marks, letters: not)


def test_a_right_to_left_run_is_left_to_pillow() -> None:
    face = FontTable.with_overrides({}).face("arabic", False)
    _glyph.cache_clear()
    image = Image.new("RGBA", (600, 200))
    draw_run(ImageDraw.Draw(image), face, 80, (10.0, 150.0), "١٢٣", "#ffffff", "rtl")
    assert _glyph.cache_info().misses == 0 and image.getbbox() is not None


def test_only_runs_shaping_cannot_change_are_cached() -> None:
    assert unshaped("1.234,56 €") and unshaped("-45,10\u00a0CHF".replace("CHF", "$"))
    assert not unshaped("CHF 12")  # letters may form ligatures
    assert not unshaped("\u200f12,00 €")  # a bidi mark: the run is laid out by the algorithm


def test_a_glyph_is_rasterised_once() -> None:
    face = FontTable.with_overrides({}).face("latin", True)
    _glyph.cache_clear()
    image = Image.new("RGBA", (800, 200))
    for label in ("1.111,11 €", "1.111,12 €", "1.111,13 €"):
        draw_run(ImageDraw.Draw(image), face, 140, (10.0, 150.0), label, "#ffffff")
    # "1", ".", ",", "2", "3", "€" (spaces are not drawn)
    assert _glyph.cache_info().misses == 6
