"""A worker made ready to render before it starts taking jobs.

RQ runs each render in a work horse forked from the worker: whatever the worker has loaded
before, every horse starts with (the pages are shared until written); whatever a render
loads for itself is lost with its horse and loaded again by the next one. Loaded here, once:
the template bundles (checked and parsed), Babel's data for every locale they speak, the
fonts those locales draw with (character maps, CJK ones too: a Chinese bill's first render
spent about 0.05 CPU-s reading one; TrueType outlines without hinting, video/fonts.py),
and the modules a render imports only when it needs them. The fonts are made once per
machine, not per worker (video/fontcache.py): with that cache warm, the warm-up reads them
back instead of spending about 1.2 CPU-s rewriting them. The C heap is set to keep what a
scene frees for the next (allocator.py). docs/benchmarks.md (## Video) measures what a
render saves, and what the warm-up costs.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import importlib
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageColor

from renderers.allocator import hand_back_free_memory, keep_freed_memory
from renderers.errors import FontError, TemplateError
from renderers.ffmpeg import ffmpeg_build, ffmpeg_exe
from renderers.formatting import (
    format_date,
    format_money,
    format_month,
    format_number,
    resolve_locale,
)
from renderers.templates import TemplateBundle, load_bundle, template_names
from renderers.video.fonts import FontTable, pil_font

# Imported by a render only when it needs them (a voice, a chart, a QR code; PyAV's subtitle
# streams, when the join opens its first file).
LAZY_MODULES = ("renderers.voice", "renderers.charts", "renderers.qr", "av.subtitles.stream")
SAMPLE_DAY = datetime.date(2026, 1, 31)
FIRST_FONT_SIZE = 32  # any size: the font is opened for what Pillow imports with it


def warm_up(names: Iterable[str] | None = None, root: Path | None = None) -> list[TemplateBundle]:
    """Load the bundles `names` (default: all under `root`) and what their locales need.
    A bundle that does not load is left for its renders to report."""
    keep_freed_memory()
    for module in LAZY_MODULES:
        importlib.import_module(module)
    Image.preinit()  # Pillow's common file formats: the video's QR code is read from a PNG
    ffmpeg_build(ffmpeg_exe())  # part of every cache key: asked once, not by every horse
    ImageColor.getrgb("#000000")  # compiles the colour parser's patterns
    bundles = []
    for name in template_names(root) if names is None else names:
        with contextlib.suppress(TemplateError):
            bundles.append(load_bundle(name, root))
    for bundle in bundles:
        fonts = FontTable.with_overrides(bundle.spec.fonts)
        for tag in sorted({bundle.locale, *bundle.narration.locales}):
            _warm_locale(tag, bundle.locale, fonts)
    with contextlib.suppress(FontError):  # Pillow imports what it needs on the first font
        pil_font(FontTable.with_overrides({}).face("latin", bold=False), FIRST_FONT_SIZE)
    # What reading and rewriting the fonts left behind (fontTools' tables hold cycles; with
    # the font cache warm, none of that), given back before the worker forks: some 35 MB of a
    # worker's memory otherwise.
    gc.collect()
    hand_back_free_memory()
    return bundles


def _warm_locale(tag: str, default: str, fonts: FontTable) -> None:
    locale = resolve_locale(tag, default)  # as a render resolves a customer's tag
    format_money(Decimal("1234.56"), "EUR", locale)
    format_number(Decimal("1234.5"), locale)
    format_date(SAMPLE_DAY, locale)
    format_month(SAMPLE_DAY, locale)
    for script in fonts.chain(locale):
        with contextlib.suppress(FontError):  # a missing font: the render says which
            fonts.load(script)
