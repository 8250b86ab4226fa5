"""The grid: one scene over every ending x locale x format, drawn, marked, or explained."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.preview import ENDINGS, UnknownScene, grid, template_locales
from app.preview.grid import NOT_SHOWN
from renderers.templates import TemplateBundle
from renderers.video.formats import FORMAT_NAMES

THUMBNAILS = {"16:9": (320, 180), "9:16": (180, 320), "1:1": (270, 270)}


def test_one_cell_per_ending_locale_and_format_in_order(two_locales: TemplateBundle) -> None:
    cells = grid(two_locales, "ending", workers=1)
    locales = template_locales(two_locales)
    assert locales == ["ar", "en"]
    assert [(c.ending, c.locale, c.format) for c in cells] == [
        (e, loc, f) for e in ENDINGS for loc in locales for f in FORMAT_NAMES
    ]
    for cell in cells:
        assert cell.shown and cell.error is None and cell.marks == ()
        assert cell.png is not None
        with Image.open(io.BytesIO(cell.png)) as thumbnail:
            assert thumbnail.format == "PNG" and thumbnail.size == THUMBNAILS[cell.format]
    # the endings differ (each its own title and colour), the locales too
    pictures = {(c.ending, c.locale): c.png for c in cells if c.format == "16:9"}
    assert len(set(pictures.values())) == len(pictures)


def test_a_scene_a_sample_does_not_show_says_so(two_locales: TemplateBundle) -> None:
    cells = grid(two_locales, "consumption", workers=1)
    hidden = {c.ending for c in cells if not c.shown}
    assert hidden == {"thanks"}  # the paid sample has no consumption history
    assert all(c.note == NOT_SHOWN and c.png is None and c.error is None
               for c in cells if not c.shown)  # fmt: skip


def test_the_pool_draws_the_same_cells(two_locales: TemplateBundle) -> None:
    assert grid(two_locales, "total", workers=2) == grid(two_locales, "total", workers=1)


def test_a_failing_cell_says_why_and_the_others_draw(broken: TemplateBundle) -> None:
    cells = grid(broken, "ending", workers=1)
    failed = {(c.ending, c.locale, c.format): c.error for c in cells if c.error}
    assert {at[0] for at in failed} == {"firm", "thanks"}
    assert len(failed) == 2 * 2 * 3  # every locale and format of those two
    firm = failed[("firm", "en", "16:9")]
    assert firm is not None and "missing" in firm
    thanks = failed[("thanks", "ar", "1:1")]
    assert thanks is not None and "scenes[1].when" in thanks
    assert all(c.png is not None for c in cells if not c.error)


def test_an_unknown_scene_is_refused(two_locales: TemplateBundle) -> None:
    with pytest.raises(UnknownScene, match="intro, greeting"):
        grid(two_locales, "credits", workers=1)
