"""Previews of a video without rendering it: any frame, the poster, and what drawing them
gave way on (marks), by the same plan and compose code as the real render.

    frames   `Preview` (a bill's video planned once), `frame_at`, `poster_of`, `Still`
    marks    `Mark`: text shrunk past its minimum, glyphs no font has, boxes off the frame

A preview video (every frame stamped) is a real render with `stamp=`: `renderers.render`.
"""

from renderers.preview.frames import LayerMemo, Preview, SceneSpan, Still, frame_at, poster_of
from renderers.preview.marks import MARK_KINDS, Mark, MarkKind

__all__ = [
    "MARK_KINDS",
    "LayerMemo",
    "Mark",
    "MarkKind",
    "Preview",
    "SceneSpan",
    "Still",
    "frame_at",
    "poster_of",
]
