"""Does a string fit where the video draws it? Measured with the renderer's own typesetter.

A text layer wraps its string and shrinks it, step by step, down to its `min_size`; past that
it breaks words and cuts the last line with an ellipsis. A translation is *too long* for a
layer when, at the layer's minimum size, it still takes more lines than `max_lines` or more
height or width than the layer's box, in any format (16:9, 9:16, 1:1): it would be cut.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from renderers.catalog import fill
from renderers.formatting import format_date, format_money, resolve_locale
from renderers.video.fonts import FontOverride, FontScript, FontTable
from renderers.video.formats import FORMATS
from renderers.video.layers.text import Text
from renderers.video.text import Typesetter

# Stand-ins for a bill's fields, on the long side of real ones, so a string that fits with
# them fits a typical bill. Synthetic: no customer's data.
SAMPLE_NAME = "Maria Fernández García"
SAMPLE_NUMBER = "F-2026-11-000123"
SAMPLE_AMOUNT = Decimal("1284.60")
SAMPLE_DUE = "2026-11-30"
SAMPLE_ISSUED = "2026-11-01"


@dataclass(frozen=True)
class Usage:
    """Where a narration string is drawn: a text layer of a scene."""

    scene: str
    layer: int
    layout: Text


def sample_values(locale: str) -> dict[str, str]:
    """The placeholders' stand-in values, formatted for `locale` as a render would."""
    loc = resolve_locale(locale, "en")
    money = format_money(SAMPLE_AMOUNT, "EUR", loc)
    return {
        "name": SAMPLE_NAME,
        "number": SAMPLE_NUMBER,
        "total": money,
        "amount": money,
        "due_date": format_date(SAMPLE_DUE, loc),
        "issued_on": format_date(SAMPLE_ISSUED, loc),
    }


@lru_cache(maxsize=64)
def _typesetter(locale: str, fonts: str) -> Typesetter:
    overrides: dict[FontScript, FontOverride] = {
        script: FontOverride.model_validate(value) for script, value in json.loads(fonts).items()
    }
    return Typesetter(FontTable.with_overrides(overrides), resolve_locale(locale, "en"))


Room = tuple[int, int, int, bool, int]  # width, height, size in pixels, bold, max lines


def rooms(layout: Text) -> dict[str, Room]:
    """The layer's room for text in each format, at its smallest size."""
    out = {}
    for name, frame in FORMATS.items():
        _, _, width, height = layout.box_for(frame)
        size = max(1, round(min(layout.min_size, layout.size) * frame.scale))
        out[name] = (width, height, size, layout.bold, layout.max_lines)
    return out


@lru_cache(maxsize=8192)
def _overflows(text: str, locale: str, fonts: str, room: Room) -> bool:
    ts = _typesetter(locale, fonts)
    width, height, size, bold, max_lines = room
    lines = ts.wrap(text, size, bold, width, split_words=False)
    line_height, _ = ts.metrics(text, size, bold)
    return (
        len(lines) > max_lines
        or len(lines) * line_height > height
        or any(ts.width(line, size, bold) > width for line in lines)
    )


def too_long(text: str, locale: str, usages: list[Usage], fonts: str = "{}") -> str | None:
    """Why `text` does not fit one of its layers, or None when it fits them all."""
    filled = fill(text, sample_values(locale)).strip()
    if not filled:
        return None
    for usage in usages:
        for fmt, room in rooms(usage.layout).items():
            if _overflows(filled, locale, fonts, room):
                return (
                    f"does not fit scene {usage.scene!r}, layer {usage.layer} in {fmt} "
                    f"even at its smallest size ({usage.layout.min_size} px): it would be cut"
                )
    return None
