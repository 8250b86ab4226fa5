"""Marks: what drawing a frame gave way on, heard from the drawing code itself."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from renderers.preview import Preview, frame_at, poster_of
from renderers.templates import TemplateBundle, load_bundle
from renderers.video.fonts import FontTable
from renderers.video.formats import FORMAT_NAMES
from renderers.video.notes import listening, note
from renderers.video.spec import Scene
from renderers.video.text import Box, Typesetter, fit
from tests.factories import make_bill

LONG = "A sentence far too long for the narrow little box it was given to live in " * 3
NO_FONT = "\ue000"  # a private-use character: no font of any chain draws it


def crafted(bundle: TemplateBundle) -> TemplateBundle:
    """One scene with three faulty layers (and a sound one between them)."""
    layers: list[dict[str, Any]] = [
        {"type": "background", "color": "background"},
        {"type": "text", "text": LONG, "box": [0.1, 0.1, 0.2, 0.1], "size": 40, "min_size": 24},
        {"type": "text", "text": f"Price {NO_FONT} today", "box": [0.1, 0.3, 0.8, 0.2]},
        {"type": "text", "text": "Hello", "box": [0.1, 0.55, 0.8, 0.1]},
        {"type": "text", "text": "Wide", "box": [0.7, 0.7, 0.5, 0.2],
         "boxes": {"9:16": [0.1, 0.7, 0.8, 0.2]}},
    ]  # fmt: skip
    scene = Scene.model_validate({"id": "crafted", "duration": 2, "poster": True,
                                  "layers": layers})  # fmt: skip
    return dataclasses.replace(bundle, spec=bundle.spec.model_copy(update={"scenes": [scene]}))


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle("bill-explainer")


def test_each_kind_of_mark_fires_on_its_layer(bundle: TemplateBundle) -> None:
    still = poster_of(make_bill(), crafted(bundle), "16:9")
    by_kind = {mark.kind: mark for mark in still.marks}
    assert sorted(by_kind) == ["missing_glyph", "off_frame", "text_shrunk"]
    assert {m.scene for m in still.marks} == {"crafted"}
    assert by_kind["text_shrunk"].layer == 1
    assert "24 px" in by_kind["text_shrunk"].detail and "…" in by_kind["text_shrunk"].detail
    assert by_kind["missing_glyph"].layer == 2 and "U+E000" in by_kind["missing_glyph"].detail
    assert by_kind["off_frame"].layer == 4 and "right" in by_kind["off_frame"].detail
    assert len(still.marks) == 3  # the sound layers give none


def test_a_box_that_fits_in_a_format_is_not_off_frame_there(bundle: TemplateBundle) -> None:
    tall = poster_of(make_bill(), crafted(bundle), "9:16")
    assert "off_frame" not in {m.kind for m in tall.marks}
    square = poster_of(make_bill(), crafted(bundle), "1:1")
    assert "off_frame" in {m.kind for m in square.marks}


def test_a_frame_marks_only_what_it_shows(bundle: TemplateBundle) -> None:
    """A layer not on screen yet is not drawn, so it gives no mark."""
    late = crafted(bundle)
    scene = late.spec.scenes[0]
    layers = [layer.model_copy(update={"at": 1.0}) if i == 2 else layer
              for i, layer in enumerate(scene.layers)]  # fmt: skip
    late = dataclasses.replace(late, spec=late.spec.model_copy(
        update={"scenes": [scene.model_copy(update={"layers": layers})]}))  # fmt: skip
    early = {m.kind for m in frame_at(make_bill(), late, 0.5).marks}
    assert "missing_glyph" not in early and "text_shrunk" in early
    assert "missing_glyph" in {m.kind for m in frame_at(make_bill(), late, 1.5).marks}


def test_the_shipped_template_has_no_marks(bundle: TemplateBundle) -> None:
    """Every scene settled, right to left and in Chinese, in every format."""
    for locale in ["ar-EG", "zh-TW"]:  # tests/preview checks every locale of the template
        for video_format in FORMAT_NAMES:
            preview = Preview(make_bill(**{"customer.locale": locale}), bundle, video_format)
            for planned in preview.planned:
                assert preview.settled(planned).marks == (), (locale, video_format)
                assert preview.layer_marks(planned) == (), (locale, video_format)


def test_nobody_listening_hears_nothing() -> None:
    """A real render has no listener: notes go nowhere, and the text is fitted the same."""
    from babel import Locale

    ts = Typesetter(FontTable.with_overrides({}), Locale.parse("en_US"))
    box = Box(0, 0, 200, 40)
    note("text_shrunk", "said to no one")
    quiet = fit(ts, LONG, box, size=40, min_size=24)
    with listening() as heard:
        loud = fit(ts, LONG, box, size=40, min_size=24)
    assert quiet == loud and [n.kind for n in heard] == ["text_shrunk"]
    with listening() as heard:
        fit(ts, "Fits", box, size=40, min_size=24)
    assert heard == []
