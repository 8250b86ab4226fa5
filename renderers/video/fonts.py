"""The font table: which font file draws which script, and what each font covers.

Text is drawn in runs: each character goes to the first font of the locale's chain that has a
glyph for it (Thai fonts have no Latin digits; CJK fonts have Latin), so no text is drawn in
a font that lacks its glyphs. Font files are looked up by name in the directories of
`BILLREEL_FONT_DIRS` (os.pathsep-separated) and then in `DEFAULT_FONT_DIRS`; a template's
`fonts:` section may name other files (or absolute paths) per script.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import fontTools
import numpy as np
from babel import Locale
from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont
from pydantic import BaseModel, ConfigDict, Field

from renderers.errors import FontError
from renderers.video.fontcache import stored

FontScript = Literal["latin", "thai", "arabic", "hebrew", "cjk-sc", "cjk-tc", "cjk-jp", "cjk-kr"]


class FontOverride(BaseModel):
    """A font file name (searched in the font directories) or an absolute path."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regular: str
    bold: str | None = None
    index: Annotated[int, Field(ge=0)] = 0


FONT_DIRS_ENV = "BILLREEL_FONT_DIRS"
DEFAULT_FONT_DIRS = (
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto",
)
# script -> (regular file, bold file, face index inside a .ttc collection)
DEFAULT_FONT_FILES: Mapping[FontScript, tuple[str, str, int]] = {
    "latin": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", 0),
    "thai": ("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf", 0),
    "arabic": ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", 0),
    "hebrew": ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf", 0),
    "cjk-jp": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", 0),
    "cjk-kr": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", 1),
    "cjk-sc": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", 2),
    "cjk-tc": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", 3),
}
RTL_SCRIPTS: frozenset[FontScript] = frozenset({"arabic", "hebrew"})


@dataclass(frozen=True)
class FontFace:
    path: Path
    index: int = 0


def font_dirs() -> list[Path]:
    return list(_dirs(os.environ.get(FONT_DIRS_ENV, "")))


# Memoised on the variable's value: a video looks fonts up thousands of times, and a changed
# BILLREEL_FONT_DIRS (tests set it) is still seen on the next lookup.
@lru_cache(maxsize=16)
def _dirs(extra: str) -> tuple[Path, ...]:
    return (*(Path(p) for p in extra.split(os.pathsep) if p), *(Path(p) for p in DEFAULT_FONT_DIRS))


@lru_cache(maxsize=128)
def _find_in(name: str, dirs: tuple[Path, ...]) -> Path:
    candidate = Path(name)
    if candidate.is_absolute():
        if candidate.is_file():
            return candidate
        raise FontError(f"font file {name} does not exist")
    for directory in dirs:
        if (directory / name).is_file():
            return directory / name
    raise FontError(f"font file {name} not found in {', '.join(map(str, dirs))}")


@lru_cache(maxsize=128)
def _face(name: str, index: int, extra_dirs: str) -> FontFace:
    """A file name resolved to a face; keyed on the font-directory variable too."""
    return FontFace(_find_in(name, _dirs(extra_dirs)), index)


@lru_cache(maxsize=64)
def _cmap(path: Path, index: int) -> bytes:
    """The code points the face has a glyph for, as a bitmap (bit c % 8 of byte c // 8): a
    CJK face maps 40,000 and more, a set of them held about 3 MB, the bitmap 24 KB, so every
    worker can load them all before it forks (renderers/warm.py). Kept on disk (fontcache.py):
    a CJK face's map takes up to 0.08 CPU-s to read from the font. The kind's -vN: bump it
    when _read_cmap makes other bytes."""
    return stored("cmap-v1", path, index, lambda: _read_cmap(path, index))


def _read_cmap(path: Path, index: int) -> bytes:
    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            # Only the code points are wanted: placeholder glyph names spare reading the real
            # ones (a CJK collection's CFF charset), half the time and memory of the map.
            font.setGlyphOrder([f"g{i}" for i in range(font["maxp"].numGlyphs)])
            points = np.fromiter(font.getBestCmap(), dtype=np.int64)
    except (OSError, TTLibError) as exc:
        raise FontError(f"cannot read font {path} (face {index}): {exc}") from exc
    bits = np.zeros(int(points.max()) + 1 if points.size else 0, dtype=bool)
    bits[points] = True
    return np.packbits(bits, bitorder="little").tobytes()


def _mapped(bitmap: bytes, code_point: int) -> bool:
    byte = code_point >> 3
    return byte < len(bitmap) and bool(bitmap[byte] >> (code_point & 7) & 1)


@dataclass(frozen=True)
class Coverage:
    """A font's character map: `char in coverage`."""

    bitmap: bytes

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and len(char) == 1 and _mapped(self.bitmap, ord(char))


# Device metrics made for hinted glyphs (advance widths and heights rounded per size)
HINTED_METRICS = ("hdmx", "VDMX", "LTSH")


@lru_cache(maxsize=32)
def _unhinted(path: Path) -> bytes | None:
    """The TrueType font file without its glyphs' hinting programs (None: not a single
    TrueType font, e.g. a CJK collection of CFF outlines, loaded from the file as it is).

    FreeType runs a glyph's program each time the glyph is measured or drawn (Pillow keeps
    no glyph cache), and that was most of a text's cost: a line at 88 px took 2.6 ms to draw
    and 0.6 ms to measure, 0.8 and 0.06 ms without. At video sizes (from about 20 px, with
    anti-aliasing) hinting changes next to nothing one can see. The font and control value
    programs stay: FreeType auto-hints a TrueType font that has neither, at the same cost.

    Kept on disk (fontcache.py; b"" for None): rewriting a Latin face takes about 0.35 CPU-s,
    reading it back next to nothing. The kind's -vN: bump it when _rewrite makes other bytes."""
    if path.suffix.lower() in {".ttc", ".otc"}:
        return None
    return stored("unhinted-v1", path, 0, lambda: _rewrite(path) or b"") or None


def _rewrite(path: Path) -> bytes | None:
    try:
        # The head table's date kept, not set to now: the same file, the same bytes, whichever
        # process writes the cache entry (cache.cached lets racing writers replace each other)
        with TTFont(path, recalcTimestamp=False) as font:
            if "glyf" not in font:
                return None
            glyf = font["glyf"]
            for name in font.getGlyphOrder():
                glyf[name].removeHinting()
            for tag in HINTED_METRICS:
                if tag in font:
                    del font[tag]
            out = io.BytesIO()
            font.save(out)
            return out.getvalue()
    except (OSError, TTLibError) as exc:
        raise FontError(f"cannot read font {path}: {exc}") from exc


@lru_cache(maxsize=256)
def pil_font(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    """A shaped (libraqm) Pillow font, unhinted where it is TrueType (see _unhinted);
    cached, as loading a CJK collection is not free."""
    data = _unhinted(face.path)
    try:
        if data is not None:  # one file, one face; every size reads the same bytes
            return ImageFont.truetype(io.BytesIO(data), size, layout_engine=ImageFont.Layout.RAQM)
        return ImageFont.truetype(
            str(face.path), size, index=face.index, layout_engine=ImageFont.Layout.RAQM
        )
    except OSError as exc:
        raise FontError(f"cannot load font {face.path} (face {face.index}): {exc}") from exc


def primary_script(locale: Locale) -> FontScript:
    """The script a locale's own text is written in."""
    lang = locale.language
    if lang == "zh":
        traditional = locale.script == "Hant" or locale.territory in {"TW", "HK", "MO"}
        return "cjk-tc" if traditional else "cjk-sc"
    by_language: Mapping[str, FontScript] = {
        "th": "thai",
        "ar": "arabic",
        "fa": "arabic",
        "ur": "arabic",
        "he": "hebrew",
        "yi": "hebrew",
        "ja": "cjk-jp",
        "ko": "cjk-kr",
    }
    return by_language.get(lang, "latin")


@dataclass(frozen=True)
class FontTable:
    """Font files per script; resolved to paths only when a script is actually drawn."""

    files: Mapping[FontScript, tuple[str, str, int]]

    @classmethod
    def with_overrides(cls, overrides: Mapping[FontScript, FontOverride]) -> FontTable:
        files = dict(DEFAULT_FONT_FILES)
        for script, o in overrides.items():
            files[script] = (o.regular, o.bold or o.regular, o.index)
        return cls(files=files)

    def face(self, script: FontScript, bold: bool) -> FontFace:
        regular, bold_name, index = self.files[script]
        return _face(bold_name if bold else regular, index, os.environ.get(FONT_DIRS_ENV, ""))

    def load(self, script: FontScript) -> None:
        """Read what drawing the script takes from its files: its character map, and its
        fonts' outlines without hinting (renderers/warm.py does it before a worker forks)."""
        self.coverage(script)
        for bold in (False, True):
            _unhinted(self.face(script, bold).path)

    def coverage(self, script: FontScript) -> Coverage:
        """The characters the script's font has a glyph for."""
        face = self.face(script, bold=False)
        return Coverage(_cmap(face.path, face.index))

    def fingerprint(self, locale: Locale) -> list[list[object]]:
        """What drawing the locale's text depends on in the font files (name, size and
        modification time of each) and in their rewriting (fontTools' version): part of a
        shared scene's cache key, so that updated fonts draw new entries."""
        files: list[list[object]] = [["fontTools", fontTools.version]]
        for script in self.chain(locale):
            for bold in (False, True):
                with contextlib.suppress(FontError, OSError):  # missing: the render says
                    face = self.face(script, bold)
                    stat = face.path.stat()
                    files.append([face.path.name, face.index, stat.st_size, stat.st_mtime_ns])
        return files

    def chain(self, locale: Locale) -> list[FontScript]:
        """Fonts to try for a locale's text, its own script first, Latin next."""
        first = primary_script(locale)
        han = first if first.startswith("cjk-") else "cjk-sc"
        order: list[FontScript] = [first, "latin", "thai", "arabic", "hebrew", han]
        return list(dict.fromkeys(s for s in order if s in self.files))
