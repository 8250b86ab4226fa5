"""Bidirectional text: the embedding level of every character of a line (Unicode Bidi
Algorithm, python-bidi's implementation) and the visual order of a line's pieces (rule L2).

Pillow shapes one font at a time, so a line is cut into pieces of one font and one level;
each piece is shaped in its own direction (odd level: right to left) and the pieces are
placed in visual order. Digits in Arabic text, "38%" or "84.20 €" then read as they should.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from bidi import algorithm as uba

RTL_CLASSES = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI"})

T = TypeVar("T")


def needs_bidi(text: str, base_rtl: bool) -> bool:
    """False when every character is left to right at level 0 (most lines): no work."""
    return base_rtl or any(unicodedata.bidirectional(c) in RTL_CLASSES for c in text)


@lru_cache(maxsize=4096)
def levels(text: str, base_rtl: bool) -> tuple[int, ...]:
    """The resolved embedding level of each character (rules P through I)."""
    base = 1 if base_rtl else 0
    if not needs_bidi(text, base_rtl):
        return (0,) * len(text)
    storage: dict[str, Any] = uba.get_empty_storage()
    storage["base_level"], storage["base_dir"] = base, "RL"[base]
    uba.get_embedding_levels(text, storage)
    chars: list[dict[str, Any]] = storage["chars"]
    for index, char in enumerate(chars):
        char["index"] = index  # explicit formatting characters are dropped below (rule X9)
    uba.explicit_embed_and_overrides(storage)
    uba.resolve_weak_types(storage)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    resolved: list[int | None] = [None] * len(text)
    for char in storage["chars"]:
        resolved[char["index"]] = char["level"]
    out: list[int] = []
    for level in resolved:  # a dropped character goes with the one before it
        out.append(level if level is not None else (out[-1] if out else base))
    # Rule L1: whitespace at the end of the line takes the paragraph's level.
    end = len(text)
    while end > 0 and text[end - 1].isspace():
        end -= 1
        out[end] = base
    return tuple(out)


def visual_order(pieces: Sequence[T], piece_levels: Sequence[int]) -> list[T]:
    """Pieces (in logical order, each of one level) in drawing order, left to right (L2):
    from the highest level down to the lowest odd one, reverse every run at or above it."""
    order = list(range(len(pieces)))
    if not piece_levels:
        return []
    lowest = min(piece_levels)
    lowest_odd = lowest if lowest % 2 else lowest + 1
    for level in range(max(piece_levels), lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if piece_levels[order[i]] >= level:
                j = i
                while j < len(order) and piece_levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return [pieces[i] for i in order]
