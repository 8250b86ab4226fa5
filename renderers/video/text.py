"""Text that fits its box: font runs by coverage, shaping (libraqm), wrapping, shrinking.

A text is wrapped at spaces (and between CJK characters); if a line is still too long, or
there are too many lines for the box, the size shrinks step by step down to a minimum; at the
minimum, long words break between grapheme clusters and a last line that cannot fit ends
with an ellipsis. Text never leaves its box.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from babel import Locale
from PIL import ImageDraw

from renderers.video.fonts import RTL_SCRIPTS, FontTable, pil_font
from renderers.video.spec import FontScript

Align = Literal["start", "center", "end"]
VAlign = Literal["top", "center", "bottom"]
SHRINK_STEP = 0.92  # each try is 8 % smaller
ELLIPSIS = "…"
LINE_GAP = 1.08  # line height = (ascent + descent) * this


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Run:
    script: FontScript
    text: str

    @property
    def rtl(self) -> bool:
        return self.script in RTL_SCRIPTS


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in {"Mn", "Mc", "Me"} or char in "\u200c\u200d"


def _is_cjk(char: str) -> bool:
    cp = ord(char)
    return (
        0x3040 <= cp <= 0x30FF
        or 0x3400 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x2FFFF
    )


# Closing punctuation that must not start a line (ideographic and fullwidth forms).
CJK_NO_BREAK_BEFORE = set("、。\uff0c\uff0e\uff1a\uff1b\uff01\uff1f\uff09」』】〉》ー…")
BREAK_SPACES = " \t\n\u3000"  # where lines may break; no-break spaces (U+00A0, U+202F) glue


def _strong_rtl(char: str) -> bool | None:
    kind = unicodedata.bidirectional(char)
    if kind in {"R", "AL"}:
        return True
    if kind == "L":
        return False
    return None


@dataclass(frozen=True)
class Typesetter:
    """Lays out text of one locale with one font table."""

    fonts: FontTable
    locale: Locale

    def runs(self, text: str) -> list[Run]:
        chain = self.fonts.chain(self.locale)
        out: list[Run] = []
        for char in text:
            current = out[-1].script if out else None
            if current is not None and (_is_mark(char) or self.fonts.covers(current, char)):
                out[-1] = Run(current, out[-1].text + char)
                continue
            script = next((s for s in chain if self.fonts.covers(s, char)), chain[0])
            if script == current:
                out[-1] = Run(current, out[-1].text + char)
            else:
                out.append(Run(script, char))
        return out

    def uncovered(self, text: str) -> set[str]:
        """Characters no font of the chain can draw (they would show as boxes)."""
        chain = self.fonts.chain(self.locale)
        return {
            c
            for c in text
            if not c.isspace()
            and not _is_mark(c)
            and not any(self.fonts.covers(s, c) for s in chain)
        }

    def base_rtl(self, text: str) -> bool:
        for char in text:
            strong = _strong_rtl(char)
            if strong is not None:
                return strong
        return self.locale.character_order == "right-to-left"

    def width(self, text: str, size: int, bold: bool) -> float:
        return sum(
            pil_font(self.fonts.face(r.script, bold), size).getlength(
                r.text, direction="rtl" if r.rtl else "ltr"
            )
            for r in self.runs(text)
        )

    def metrics(self, text: str, size: int, bold: bool) -> tuple[int, int]:
        """(line height, baseline offset) over the fonts this text uses."""
        ascent, descent = 0, 0
        for script in {r.script for r in self.runs(text)} or {self.fonts.chain(self.locale)[0]}:
            a, d = pil_font(self.fonts.face(script, bold), size).getmetrics()
            ascent, descent = max(ascent, a), max(descent, d)
        return round((ascent + descent) * LINE_GAP), ascent

    # -- wrapping -------------------------------------------------------------------------

    @staticmethod
    def _units(text: str) -> list[str]:
        units: list[str] = []
        word = ""
        for char in text:
            if _is_cjk(char):
                if word:
                    units.append(word)
                    word = ""
                units.append(char)
            elif char in CJK_NO_BREAK_BEFORE and units and not word:
                units[-1] += char
            elif char in BREAK_SPACES:
                units.append(word + char)
                word = ""
            else:
                word += char
        if word:
            units.append(word)
        return units

    @staticmethod
    def _clusters(word: str) -> list[str]:
        clusters: list[str] = []
        for char in word:
            if clusters and _is_mark(char):
                clusters[-1] += char
            else:
                clusters.append(char)
        return clusters

    def wrap(self, text: str, size: int, bold: bool, max_w: int, split_words: bool) -> list[str]:
        units = self._units(" ".join(re.split(f"[{BREAK_SPACES}]+", text.strip(BREAK_SPACES))))
        if split_words:
            units = [
                piece
                for unit in units
                for piece in (
                    self._clusters(unit) if self.width(unit.strip(), size, bold) > max_w else [unit]
                )
            ]
        lines: list[str] = []
        line = ""
        for unit in units:
            candidate = line + unit
            if line and self.width(candidate.rstrip(), size, bold) > max_w:
                lines.append(line.rstrip())
                line = unit
            else:
                line = candidate
        if line.strip():
            lines.append(line.rstrip())
        return lines


@dataclass(frozen=True)
class Fitted:
    lines: tuple[str, ...]
    size: int
    line_height: int
    ascent: int


def fit(
    ts: Typesetter,
    text: str,
    box: Box,
    *,
    size: int,
    min_size: int,
    bold: bool = False,
    max_lines: int = 3,
) -> Fitted:
    """The largest size <= `size` at which `text` wraps inside `box`."""
    current = size
    while True:
        lines = ts.wrap(text, current, bold, box.w, split_words=False)
        height, ascent = ts.metrics(text, current, bold)
        fits = (
            len(lines) <= max_lines
            and len(lines) * height <= box.h
            and all(ts.width(line, current, bold) <= box.w for line in lines)
        )
        if fits:
            return Fitted(tuple(lines), current, height, ascent)
        smaller = int(current * SHRINK_STEP)
        if smaller < min_size:
            break
        current = smaller
    # At the minimum size: break inside words, then cut what still does not fit.
    lines = ts.wrap(text, current, bold, box.w, split_words=True)
    height, ascent = ts.metrics(text, current, bold)
    room = max(1, min(max_lines, box.h // max(height, 1)))
    if len(lines) > room:
        lines = lines[:room]
        last = lines[-1]
        while last and ts.width(last + ELLIPSIS, current, bold) > box.w:
            last = last[:-1]
        lines[-1] = last.rstrip() + ELLIPSIS
    return Fitted(tuple(lines), current, height, ascent)


def _visual_runs(ts: Typesetter, line: str) -> list[Run]:
    """Runs in drawing order, left to right: RTL groups reversed within an RTL paragraph."""
    groups: list[list[Run]] = []
    for run in ts.runs(line):
        if groups and groups[-1][0].rtl == run.rtl:
            groups[-1].append(run)
        else:
            groups.append([run])
    ordered = [list(reversed(g)) if g[0].rtl else g for g in groups]
    if ts.base_rtl(line):
        ordered.reverse()
    return [run for group in ordered for run in group]


def draw_text(
    draw: ImageDraw.ImageDraw,
    ts: Typesetter,
    fitted: Fitted,
    box: Box,
    *,
    fill: str,
    bold: bool = False,
    align: Align = "center",
    valign: VAlign = "center",
) -> None:
    block = len(fitted.lines) * fitted.line_height
    top = {
        "top": box.y,
        "center": box.y + (box.h - block) // 2,
        "bottom": box.y + box.h - block,
    }[valign]
    for i, line in enumerate(fitted.lines):
        width = ts.width(line, fitted.size, bold)
        rtl = ts.locale.character_order == "right-to-left"  # the layout's direction
        side = {"start": "right" if rtl else "left", "end": "left" if rtl else "right"}.get(
            align, "center"
        )
        x = {
            "left": box.x,
            "right": box.x + box.w - width,
            "center": box.x + (box.w - width) / 2,
        }[side]
        baseline = top + i * fitted.line_height + fitted.ascent
        for run in _visual_runs(ts, line):
            font = pil_font(ts.fonts.face(run.script, bold), fitted.size)
            direction = "rtl" if run.rtl else "ltr"
            draw.text(
                (x, baseline), run.text, font=font, fill=fill, anchor="ls", direction=direction
            )
            x += font.getlength(run.text, direction=direction)
