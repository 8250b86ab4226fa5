"""Text that fits its box: font runs by coverage, shaping (libraqm), wrapping, shrinking.

A text is wrapped at spaces (and between CJK characters); if a line is still too long, or
there are too many lines for the box, the size shrinks step by step down to a minimum; at the
minimum, long words break between grapheme clusters and a last line that cannot fit ends
with an ellipsis. Text never leaves its box. Right-to-left and mixed lines are ordered by
the Unicode Bidi Algorithm (`renderers.video.bidi`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from babel import Locale
from PIL import ImageDraw

from renderers.video import notes
from renderers.video.bidi import levels, needs_bidi, visual_order
from renderers.video.fonts import Coverage, FontScript, FontTable, pil_font
from renderers.video.glyphs import draw_run

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
    """Characters of a line drawn with one font; `rtl`: shaped right to left (an odd bidi
    level). `Typesetter.runs` gives them in logical order, `Typesetter.pieces` in visual."""

    script: FontScript
    text: str
    rtl: bool = False


ZWSP = "\u200b"  # a line may break here (Thai has no spaces between words): set in catalogs


def _is_mark(char: str) -> bool:
    """A character drawn with (or hidden in) the one before it: combining marks, joiners."""
    return unicodedata.category(char) in {"Mn", "Mc", "Me"} or char in "\u200b\u200c\u200d"


def _invisible(char: str) -> bool:
    """Drawn as no glyph of its own: spaces, marks and joiners, format controls."""
    return char.isspace() or _is_mark(char) or unicodedata.category(char) == "Cf"


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
SPACE_RUNS = re.compile(f"[{BREAK_SPACES}]+")


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

    @cached_property
    def _chain(self) -> dict[FontScript, Coverage]:
        """The locale's fonts in order, with what each covers: looked up once, not for each
        character set (thousands a video)."""
        return {s: self.fonts.coverage(s) for s in self.fonts.chain(self.locale)}

    def runs(self, text: str) -> list[Run]:
        chain = self._chain
        first = next(iter(chain))
        out: list[Run] = []
        for char in text:
            current = out[-1].script if out else None
            if current is not None and (_is_mark(char) or char in chain[current]):
                out[-1] = Run(current, out[-1].text + char)
                continue
            script = next((s for s, coverage in chain.items() if char in coverage), first)
            if script == current:
                out[-1] = Run(current, out[-1].text + char)
            else:
                out.append(Run(script, char))
        return out

    def uncovered(self, text: str) -> set[str]:
        """Characters no font of the chain can draw (they would show as boxes)."""
        return {
            c
            for c in text
            if not c.isspace()
            and not _is_mark(c)
            and not any(c in coverage for coverage in self._chain.values())
        }

    def missing(self, run: Run) -> str:
        """The run's characters its own font has no glyph for (drawn as boxes): the first
        font of the chain draws what no font covers."""
        coverage = self._chain.get(run.script) or self.fonts.coverage(run.script)
        return "".join(
            c for c in dict.fromkeys(run.text) if not _invisible(c) and c not in coverage
        )

    @cached_property
    def rtl(self) -> bool:
        """The locale lays out right to left (asked for every sprite a video draws)."""
        return bool(self.locale.character_order == "right-to-left")

    def base_rtl(self, text: str) -> bool:
        for char in text:
            strong = _strong_rtl(char)
            if strong is not None:
                return strong
        return self.rtl

    def pieces(self, line: str, base_rtl: bool | None = None) -> list[Run]:
        """The line's runs of one font and one bidi level, in drawing order (left to right)."""
        runs = self.runs(line)
        rtl = self.base_rtl(line) if base_rtl is None else base_rtl
        if not needs_bidi(line, rtl):
            return runs
        per_char = levels(line, rtl)
        out: list[Run] = []
        out_levels: list[int] = []
        at = 0
        for run in runs:
            for char in run.text:
                level = per_char[at]
                at += 1
                if out and out[-1].script == run.script and out_levels[-1] == level:
                    out[-1] = Run(run.script, out[-1].text + char, level % 2 == 1)
                else:
                    out.append(Run(run.script, char, level % 2 == 1))
                    out_levels.append(level)
        return visual_order(out, out_levels)

    def width(self, text: str, size: int, bold: bool) -> float:
        return sum(
            pil_font(self.fonts.face(r.script, bold), size).getlength(
                r.text, direction="rtl" if r.rtl else "ltr"
            )
            for r in self.pieces(text)
        )

    def metrics(self, text: str, size: int, bold: bool) -> tuple[int, int]:
        """(line height, baseline offset) for this text: at least the Latin font's, grown to the
        ink of its glyphs but not past each font's own metrics (an Arabic font's metrics leave
        room for marks a text rarely has; sizing every line by them would shrink it)."""
        base_ascent, base_descent = pil_font(self.fonts.face("latin", bold), size).getmetrics()
        ascent, descent = base_ascent, base_descent
        for run in self.runs(text) or [Run(next(iter(self._chain)), "")]:
            font = pil_font(self.fonts.face(run.script, bold), size)
            own_ascent, own_descent = font.getmetrics()
            if own_ascent <= ascent and own_descent <= descent:
                continue  # its ink cannot grow the line (the Latin font's own runs): not measured
            ink = run.text.strip()
            if ink:
                _, top, _, bottom = font.getbbox(ink, anchor="ls")
                ascent = max(ascent, min(own_ascent, -int(top)))
                descent = max(descent, min(own_descent, int(bottom)))
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
            elif char == ZWSP:  # a break opportunity that takes no room
                if word:
                    units.append(word)
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
        units = self._units(" ".join(SPACE_RUNS.split(text.strip(BREAK_SPACES))))
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
    widths: tuple[float, ...] = ()  # each line's, when fitting measured them (else measured)


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
        if len(lines) <= max_lines and len(lines) * height <= box.h:
            widths = tuple(ts.width(line, current, bold) for line in lines)
            if all(width <= box.w for width in widths):
                return Fitted(tuple(lines), current, height, ascent, widths)
        smaller = int(current * SHRINK_STEP)
        if smaller < min_size:
            break
        current = smaller
    # At the minimum size: break inside words, then cut what still does not fit.
    lines = ts.wrap(text, current, bold, box.w, split_words=True)
    height, ascent = ts.metrics(text, current, bold)
    room = max(1, min(max_lines, box.h // max(height, 1)))
    cut = len(lines) > room
    if notes.heard():
        how = f"cut to {room} line(s) ending in {ELLIPSIS}" if cut else "broken inside words"
        notes.note("text_shrunk", f"{_quoted(text)} does not fit its {box.w}x{box.h} px box "
                   f"at {current} px (its minimum is {min_size} px): {how}")  # fmt: skip
    if cut:
        lines = lines[:room]
        last = lines[-1]
        while last and ts.width(last + ELLIPSIS, current, bold) > box.w:
            last = last[:-1]
        lines[-1] = last.rstrip() + ELLIPSIS
    return Fitted(tuple(lines), current, height, ascent)


QUOTED_CHARS = 60  # of a text named in a note


def _quoted(text: str) -> str:
    return repr(text if len(text) <= QUOTED_CHARS else text[: QUOTED_CHARS - 1] + ELLIPSIS)


def _note_missing(ts: Typesetter, run: Run) -> None:
    missing = ts.missing(run)
    if missing:
        names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '')}".rstrip() for c in missing)
        notes.note("missing_glyph", f"no glyph in {run.script} for {names} in {_quoted(run.text)}")


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
    rtl = ts.rtl  # the layout's direction
    paragraph_rtl = ts.base_rtl(" ".join(fitted.lines))  # the text's own direction
    for i, line in enumerate(fitted.lines):
        width = fitted.widths[i] if fitted.widths else ts.width(line, fitted.size, bold)
        side = {"start": "right" if rtl else "left", "end": "left" if rtl else "right"}.get(
            align, "center"
        )
        x = {
            "left": box.x,
            "right": box.x + box.w - width,
            "center": box.x + (box.w - width) / 2,
        }[side]
        baseline = top + i * fitted.line_height + fitted.ascent
        for run in ts.pieces(line, paragraph_rtl):
            if notes.heard():
                _note_missing(ts, run)
            face = ts.fonts.face(run.script, bold)
            direction = "rtl" if run.rtl else "ltr"
            draw_run(draw, face, fitted.size, (x, baseline), run.text, fill, direction)
            x += pil_font(face, fitted.size).getlength(run.text, direction=direction)
