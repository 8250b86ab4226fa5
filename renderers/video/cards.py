"""Draw each card once, as one RGB image; one drawer per card kind, through a registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PIL import Image, ImageDraw

from renderers.video.frame import HEIGHT, WIDTH
from renderers.video.plan import Card
from renderers.video.spec import Theme
from renderers.video.text import Box, Typesetter, draw_text, fit

MARGIN = 100  # pixels kept clear at the sides (safe area for small screens)
ACCENT_BAR = 14  # pixels: the tone colour across the top of every card

Drawer = Callable[[ImageDraw.ImageDraw, Card, Typesetter, Theme], None]


def _accent(theme: Theme, card: Card) -> str:
    return str(getattr(theme.tones, card.tone))


def _text(
    draw: ImageDraw.ImageDraw,
    ts: Typesetter,
    text: str,
    box: Box,
    *,
    size: int,
    fill: str,
    bold: bool = False,
    max_lines: int = 2,
    align: str = "center",
    valign: str = "center",
) -> None:
    fitted = fit(ts, text, box, size=size, min_size=max(18, size // 3), bold=bold,
                 max_lines=max_lines)  # fmt: skip
    draw_text(draw, ts, fitted, box, fill=fill, bold=bold, align=align, valign=valign)  # type: ignore[arg-type]


def _greeting(draw: ImageDraw.ImageDraw, card: Card, ts: Typesetter, theme: Theme) -> None:
    width = WIDTH - 2 * MARGIN
    _text(draw, ts, card.title, Box(MARGIN, 170, width, 230), size=88, fill=theme.text,
          bold=True, valign="bottom")  # fmt: skip
    if card.note:
        _text(draw, ts, card.note, Box(MARGIN, 440, width, 130), size=46, fill=theme.muted,
              valign="top")  # fmt: skip


def _amount(draw: ImageDraw.ImageDraw, card: Card, ts: Typesetter, theme: Theme) -> None:
    width = WIDTH - 2 * MARGIN
    _text(draw, ts, card.title, Box(MARGIN, 90, width, 120), size=56, fill=theme.muted,
          bold=True, valign="bottom")  # fmt: skip
    if card.value:
        _text(draw, ts, card.value, Box(MARGIN, 230, width, 210), size=150, fill=theme.text,
              bold=True, max_lines=1)  # fmt: skip
    draw.rounded_rectangle(
        (WIDTH // 2 - 90, 462, WIDTH // 2 + 90, 472), radius=5, fill=_accent(theme, card)
    )
    if card.note:
        _text(draw, ts, card.note, Box(MARGIN, 500, width, 140), size=46, fill=theme.text,
              valign="top")  # fmt: skip


def _lines(draw: ImageDraw.ImageDraw, card: Card, ts: Typesetter, theme: Theme) -> None:
    width = WIDTH - 2 * MARGIN
    _text(draw, ts, card.title, Box(MARGIN, 60, width, 110), size=60, fill=theme.text,
          bold=True, max_lines=1)  # fmt: skip
    top, bottom = 200, 660
    row_h = min(112, (bottom - top) // max(1, len(card.rows)))
    rtl = ts.base_rtl(card.title)
    label_w, amount_w, gap = int(width * 0.62), int(width * 0.34), int(width * 0.04)
    pad = 24  # pixels between the panel's edge and its text
    label_x = MARGIN + amount_w + gap if rtl else MARGIN + pad
    amount_x = MARGIN + pad if rtl else MARGIN + label_w + gap
    for i, (label, amount) in enumerate(card.rows):
        y = top + i * row_h
        draw.rectangle((MARGIN, y, MARGIN + width, y + row_h - 8), fill=theme.panel)
        inner = row_h - 8
        _text(draw, ts, label, Box(label_x, y, label_w - pad, inner), size=44,
              fill=theme.text, align="start")  # fmt: skip
        _text(draw, ts, amount, Box(amount_x, y, amount_w - pad, inner), size=44,
              fill=theme.text, bold=True, max_lines=1, align="end")  # fmt: skip


def _action(draw: ImageDraw.ImageDraw, card: Card, ts: Typesetter, theme: Theme) -> None:
    width = WIDTH - 2 * MARGIN
    _text(draw, ts, card.title, Box(MARGIN, 150, width, 250), size=80, fill=_accent(theme, card),
          bold=True, valign="bottom")  # fmt: skip
    if card.note:
        _text(draw, ts, card.note, Box(MARGIN, 430, width, 190), size=46, fill=theme.text,
              max_lines=3, valign="top")  # fmt: skip


DRAWERS: Mapping[str, Drawer] = {
    "greeting": _greeting,
    "amount": _amount,
    "lines": _lines,
    "action": _action,
}


def draw_card(card: Card, ts: Typesetter, theme: Theme) -> Image.Image:
    """The card as a WIDTH x HEIGHT RGB image; same card, same pixels."""
    image = Image.new("RGB", (WIDTH, HEIGHT), theme.background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, ACCENT_BAR), fill=_accent(theme, card))
    DRAWERS[card.kind](draw, card, ts, theme)
    return image
