"""Any frame of a bill's video, drawn on request by the code that draws the real one.

The video is planned as a render plans it (`plan_video`: the scenes whose `when` holds,
their layers and frame spans) and a frame is the run of the scene plan that holds it
(`scene_plan`), drawn alone by `draw_runs`: a run drawn afresh is the very frame a render
draws over the run before (tests/renderers/video/test_yuv.py checks it). No narration is
synthesised: scenes last as long as the spec says. A narrated render may stretch a scene
to its spoken line, so there the same picture comes later; nothing else differs.
"""

from __future__ import annotations

import bisect
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image

from renderers import video_job
from renderers.errors import RenderError
from renderers.preview.marks import Mark, frame_marks
from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle
from renderers.video import Planned, notes, plan_video
from renderers.video.compose import SETTLED, Signature, draw_runs, scene_plan
from renderers.video.formats import FPS
from renderers.video.layers import LayerBase, LayerContext, kind_of
from renderers.video.layers.background import Background
from renderers.video.layers.image import Picture
from renderers.video.layers.text import Text
from renderers.video.notes import Note, listening
from renderers.video.stamp import check_stamp, stamped


@dataclass(frozen=True)
class SceneSpan:
    """A scene of the video and when it shows, in seconds (for a scrubber)."""

    id: str
    index: int  # its place among the scenes shown
    start: float
    end: float


@dataclass(frozen=True)
class Still:
    """One frame of the video, with where it stands in it and what drawing it gave way on."""

    image: Image.Image  # RGB, the format's size (shared: copy it before drawing on it)
    format: str
    frame: int  # its index in the video (30 a second)
    time: float  # seconds: frame / 30
    scene: str  # the id of the scene it belongs to
    index: int  # that scene's place among the scenes shown
    start: float  # the scene's first second
    end: float  # and where it ends
    duration: float  # the video's length, in seconds
    scenes: tuple[SceneSpan, ...]
    marks: tuple[Mark, ...]


# A sprite drawn before, by what it depends on: the notes drawing it gave.
LayerMemo = dict[tuple[object, ...], tuple[Note, ...]]


def _sprite_key(layer: LayerBase, ctx: LayerContext) -> tuple[object, ...] | None:
    """What a text, background or image layer's sprite depends on: the layer (its fields:
    the caller keeps the bundle alive, so its id is not reused), the frame's format, the
    locale's typesetter and the resolved text and colours. None: draw it every time."""
    if isinstance(layer, Text):
        content = ctx.text(layer.text)
        return (id(layer), ctx.fmt, str(ctx.typesetter.locale), content, ctx.color(layer.color))
    if isinstance(layer, Background):
        gradient = ctx.color(layer.gradient_to) if layer.gradient_to else None
        return (id(layer), ctx.fmt, ctx.color(layer.color), gradient)
    if isinstance(layer, Picture):
        return (id(layer), ctx.fmt)
    return None


class Preview:
    """One bill's video with one template in one format, planned once: frames drawn on
    request. Safe to share between threads (each frame is drawn with a memo of its own)."""

    def __init__(
        self,
        bill: Mapping[str, Any],
        bundle: TemplateBundle,
        video_format: str = "16:9",
        *,
        stamp: str | None = None,
    ) -> None:
        self.stamp = None if stamp is None else check_stamp(stamp)
        facts = bill_facts(bill, bundle.locale)
        job, narration = video_job(facts, bundle)
        # Without a voice nothing is written under the work directory.
        fmt, planned, _ = plan_video(
            bill, facts, job, narration, Path(tempfile.gettempdir()), video_format=video_format
        )
        self.fmt = fmt
        self.planned: tuple[Planned, ...] = tuple(planned)
        self.frames = planned[-1].start + planned[-1].frames
        self.scenes = tuple(
            SceneSpan(p.scene.id, p.index, p.start / FPS, (p.start + p.frames) / FPS)
            for p in planned
        )
        self._starts = [p.start for p in planned]
        self._steps: dict[int, list[tuple[Signature, int]]] = {}

    @property
    def duration(self) -> float:
        return self.frames / FPS

    def frame_index(self, t: float) -> int:
        """The frame shown at `t` seconds, clamped to the video."""
        if not isinstance(t, int | float) or not math.isfinite(t):
            raise RenderError("the time of a frame must be a finite number of seconds")
        # a frame shows from frame / FPS on; the small term keeps 0.1 * 30 from 2.9999...
        return min(self.frames - 1, max(0, math.floor(t * FPS + 1e-6)))

    def frame_at(self, t: float) -> Still:
        """The frame of the video at `t` seconds (clamped to the video)."""
        return self.frame(self.frame_index(t))

    def frame(self, index: int) -> Still:
        """The video's frame `index` (0 to frames - 1)."""
        if not 0 <= index < self.frames:
            raise RenderError(f"frame {index} is outside the video's {self.frames} frames")
        p = self.planned[bisect.bisect_right(self._starts, index) - 1]
        steps = self._plan(p)
        at = p.start
        for step in steps:
            if index < at + step[1]:
                return self._draw(p, step, index)
            at += step[1]
        raise AssertionError("a scene's runs cover its frames")  # pragma: no cover

    def scene(self, scene_id: str) -> Planned | None:
        """The planned scene `scene_id`; None when it does not show for this bill."""
        return next((p for p in self.planned if p.scene.id == scene_id), None)

    def settled(self, p: Planned) -> Still:
        """The scene's settled look: its longest-held frame (the poster's choice)."""
        steps = self._plan(p)
        longest = max(range(len(steps)), key=lambda i: steps[i][1])  # the first of the longest
        return self._draw(p, steps[longest], p.start + sum(c for _, c in steps[:longest]))

    def poster(self) -> Still:
        """The frame the render keeps as poster.jpg: the poster scene's settled look."""
        return self.settled(next((p for p in self.planned if p.scene.poster), self.planned[0]))

    def layer_marks(self, p: Planned, drawn: LayerMemo | None = None) -> tuple[Mark, ...]:
        """Draw each layer of the scene alone, as it looks settled (its own motion done),
        and give what drawing them gave way on: what a check of the whole sample set needs
        (that every layer draws, and its marks) at a fraction of a frame's cost, as no
        frame is composed. Raises what drawing a layer raises.

        `drawn` (shared over previews of one bundle): a layer whose sprite depends on
        nothing but what its key names (see `_sprite_key`) and was drawn before is not
        drawn again, its notes are: a title reads the same for every sample."""
        ctx = replace(p.ctx, memo={})
        heard: list[Note] = []
        for i, layer in enumerate(p.layers):
            key = None if drawn is None else _sprite_key(layer, ctx)
            if key is not None and drawn is not None and key in drawn:
                heard += [Note(n.kind, i, n.detail) for n in drawn[key]]
                continue
            _, _, w, h = layer.box_for(ctx.fmt, ctx.rtl)
            with listening() as notes_of_layer, notes.layer(i):
                kind_of(layer).draw(layer, ctx, (max(1, w), max(1, h)), 1.0)
            heard += notes_of_layer
            if key is not None and drawn is not None:
                drawn[key] = tuple(notes_of_layer)
        return frame_marks(p, [SETTLED] * len(p.layers), heard)

    def _plan(self, p: Planned) -> list[tuple[Signature, int]]:
        steps = self._steps.get(p.index)
        if steps is None:  # cheap (nothing is drawn), kept: scrubbing asks for it again
            steps = self._steps[p.index] = scene_plan(p.scene, p.layers, p.frames)
        return steps

    def _draw(self, p: Planned, step: tuple[Signature, int], index: int) -> Still:
        ctx = replace(p.ctx, memo={})  # sprites drawn afresh, so every note is heard
        with listening() as heard:
            image = next(iter(draw_runs([step], p.layers, ctx))).image
        states = step[0][0]
        if self.stamp is not None:
            image = stamped(image, self.stamp, self.fmt)
        return Still(
            image=image,
            format=self.fmt.name,
            frame=index,
            time=index / FPS,
            scene=p.scene.id,
            index=p.index,
            start=p.start / FPS,
            end=(p.start + p.frames) / FPS,
            duration=self.duration,
            scenes=self.scenes,
            marks=frame_marks(p, states, heard),
        )


def frame_at(
    bill: Mapping[str, Any],
    bundle: TemplateBundle,
    t: float,
    video_format: str = "16:9",
    *,
    stamp: str | None = None,
) -> Still:
    """The exact frame of the bill's video at `t` seconds (clamped to the video), drawn by
    the render's own plan and compose code, without narration: scene durations are the
    spec's (a narrated render may stretch a scene to its spoken line)."""
    return Preview(bill, bundle, video_format, stamp=stamp).frame_at(t)


def poster_of(
    bill: Mapping[str, Any],
    bundle: TemplateBundle,
    video_format: str = "16:9",
    *,
    stamp: str | None = None,
) -> Still:
    """The picture of the render's poster.jpg: the poster scene's settled look."""
    return Preview(bill, bundle, video_format, stamp=stamp).poster()
