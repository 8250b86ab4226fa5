"""Warm previews: frames of a sample's video as PNG, kept while the studio scrubs.

A template version's bundle is immutable, so everything drawn from it can be kept: the
planned video of a (bundle, sample, locale, format) and each frame's PNG, by frame number
(a time is rounded to the frame it shows). Entries are keyed by the bundle object itself,
held by the entry, so a key cannot outlive its bundle and come back for another; a new
bundle (a draft saved again) is new keys. Both caches are bounded LRUs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.preview.grid import Cell, grid
from app.preview.pictures import png
from app.preview.samples import check_locale, sample_bill
from renderers.preview import Mark, Preview, SceneSpan, Still
from renderers.templates import TemplateBundle

PLANS_KEPT = 64  # planned videos: a few kilobytes each
FRAMES_KEPT = 512  # PNG frames: 20 to 60 KB each, so at most about 30 MB
GRIDS_KEPT = 16  # grids: 120 thumbnails of about 10 KB for a template of 8 locales

V = TypeVar("V")


class LRU(Generic[V]):
    """A bounded, thread-safe least-recently-used map. Values are made outside the lock
    (two threads missing one key at once both make it; the last one is kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[object, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, bundle: object, key: Hashable, make: Callable[[], V]) -> V:
        """The value of `key` for `bundle` (held by the entry), made by `make` if missing."""
        full = (id(bundle), key)
        with self._lock:
            found = self._items.get(full)
            if found is not None and found[0] is bundle:
                self._items.move_to_end(full)
                self.hits += 1
                return found[1]
            self.misses += 1
        value = make()
        with self._lock:
            self._items[full] = (bundle, value)
            self._items.move_to_end(full)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class Frame:
    """A frame as the studio gets it: the picture as PNG and where it stands in the video."""

    png: bytes
    width: int
    height: int
    format: str
    frame: int
    time: float
    scene: str
    index: int
    start: float
    end: float
    duration: float
    scenes: tuple[SceneSpan, ...]
    marks: tuple[Mark, ...]

    @classmethod
    def of(cls, still: Still) -> Frame:
        return cls(
            png(still.image), still.image.width, still.image.height, still.format, still.frame,
            still.time, still.scene, still.index, still.start, still.end, still.duration,
            still.scenes, still.marks,
        )  # fmt: skip

    def as_dict(self) -> dict[str, object]:
        """Everything but the picture, as JSON values."""
        return {
            "format": self.format, "width": self.width, "height": self.height,
            "frame": self.frame, "time": self.time, "duration": self.duration,
            "scene": {"id": self.scene, "index": self.index, "start": self.start,
                      "end": self.end},
            "scenes": [{"id": s.id, "index": s.index, "start": s.start, "end": s.end}
                       for s in self.scenes],
            "marks": [m.as_dict() for m in self.marks],
        }  # fmt: skip


class Previews:
    """Frames and posters of the sample bills' videos, drawn once and kept."""

    def __init__(
        self, plans: int = PLANS_KEPT, frames: int = FRAMES_KEPT, grids: int = GRIDS_KEPT
    ) -> None:
        self.plans: LRU[Preview] = LRU(plans)
        self.frames: LRU[Frame] = LRU(frames)
        self.grids: LRU[list[Cell]] = LRU(grids)

    def grid(self, bundle: TemplateBundle, scene_id: str) -> list[Cell]:
        """The scene's grid (see grid.grid), drawn once per bundle."""
        return self.grids.get(bundle, ("grid", scene_id), lambda: grid(bundle, scene_id))

    def preview(
        self, bundle: TemplateBundle, ending: str, locale: str, video_format: str
    ) -> Preview:
        """The sample's video planned (check_locale: only a locale the template has)."""
        check_locale(bundle, locale)
        return self.plans.get(
            bundle,
            ("plan", ending, locale, video_format),
            lambda: Preview(sample_bill(ending, locale), bundle, video_format),
        )

    def frame_at(
        self, bundle: TemplateBundle, ending: str, locale: str, video_format: str, t: float
    ) -> Frame:
        """The frame at `t` seconds of the sample's video (see renderers.preview.frame_at)."""
        preview = self.preview(bundle, ending, locale, video_format)
        index = preview.frame_index(t)
        return self.frames.get(
            bundle,
            ("frame", ending, locale, video_format, index),
            lambda: Frame.of(preview.frame(index)),
        )

    def poster(self, bundle: TemplateBundle, ending: str, locale: str, video_format: str) -> Frame:
        """The poster of the sample's video, as its render would make it."""
        preview = self.preview(bundle, ending, locale, video_format)
        return self.frames.get(
            bundle,
            ("poster", ending, locale, video_format),
            lambda: Frame.of(preview.poster()),
        )


# The process's previews: the studio's routes share them.
PREVIEWS = Previews()


def frame_at(
    bundle: TemplateBundle, ending: str, locale: str, video_format: str, t: float
) -> Frame:
    return PREVIEWS.frame_at(bundle, ending, locale, video_format, t)


def poster(bundle: TemplateBundle, ending: str, locale: str, video_format: str) -> Frame:
    return PREVIEWS.poster(bundle, ending, locale, video_format)
