"""Warm previews: frames and posters as PNG, kept per bundle in bounded LRUs."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from app.preview import Previews, UnknownSample, sample_bill
from app.preview.stills import LRU
from renderers.preview import frame_at
from renderers.templates import TemplateBundle


def test_a_frame_is_the_renderers_frame_as_png(shipped: TemplateBundle) -> None:
    previews = Previews()
    frame = previews.frame_at(shipped, "nudge", "it", "16:9", 7.0)
    still = frame_at(sample_bill("nudge", "it"), shipped, 7.0)
    with Image.open(io.BytesIO(frame.png)) as picture:
        assert picture.format == "PNG" and picture.size == (1280, 720)
        assert picture.convert("RGB").tobytes() == still.image.tobytes()  # lossless
    info = frame.as_dict()
    assert info["frame"] == 210 and info["scene"] == {"id": "total", "index": 2,
                                                      "start": 5.0, "end": 9.5}  # fmt: skip
    assert info["duration"] == 30.0


def test_times_within_one_frame_are_one_entry_and_a_new_bundle_is_new_entries(
    shipped: TemplateBundle,
) -> None:
    previews = Previews()
    first = previews.frame_at(shipped, "pay", "de", "1:1", 3.0)
    assert previews.frame_at(shipped, "pay", "de", "1:1", 3.01) is first  # frame 90 both
    assert previews.frame_at(shipped, "pay", "de", "1:1", 3.04) is not first  # frame 91
    assert previews.plans.misses == 1  # planned once
    draft = dataclasses.replace(shipped)  # the same files, another bundle: drawn afresh
    assert previews.frame_at(draft, "pay", "de", "1:1", 3.0) is not first
    poster = previews.poster(shipped, "pay", "de", "1:1")
    assert poster.scene == "total" and previews.poster(shipped, "pay", "de", "1:1") is poster


def test_the_caches_are_bounded() -> None:
    lru: LRU[int] = LRU(2)
    owner = object()
    for key in range(3):
        lru.get(owner, key, lambda: key)  # noqa: B023  # called at once
    assert len(lru) == 2
    assert lru.get(owner, 2, lambda: 99) == 2  # kept
    assert lru.get(owner, 0, lambda: 99) == 99  # the oldest went


def test_only_the_templates_locales_and_known_samples(shipped: TemplateBundle) -> None:
    previews = Previews()
    with pytest.raises(UnknownSample, match="no narration for 'pt'"):
        previews.frame_at(shipped, "pay", "pt", "16:9", 1.0)
    with pytest.raises(UnknownSample, match="no sample bill"):
        previews.frame_at(shipped, "overdue", "it", "16:9", 1.0)
