"""Marks on a preview frame: what the renderer had to give way on while drawing it.

    text_shrunk    a text did not fit its box even at its minimum size (`min_size`), so
                   its words were broken or it was cut short with an ellipsis
    missing_glyph  characters no font of the locale's chain has a glyph for (drawn as boxes)
    off_frame      a layer's box, as placed in this format, runs past the frame's edge

The first two are the notes the drawing code gave (renderers/video/notes.py) while this
very frame was drawn; the third is the box the compositor placed the layer at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from renderers.video import Planned
from renderers.video.compose import State
from renderers.video.notes import Note

MarkKind = Literal["text_shrunk", "missing_glyph", "off_frame"]
MARK_KINDS: tuple[MarkKind, ...] = ("text_shrunk", "missing_glyph", "off_frame")
# Each edge of a box is rounded to whole pixels: two roundings may overshoot by one.
OFF_FRAME_TOLERANCE_PX = 1


@dataclass(frozen=True)
class Mark:
    kind: MarkKind
    scene: str  # the scene's id
    layer: int | None  # the layer's index in the scene's `layers` in scenes.yaml
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "scene": self.scene, "layer": self.layer, "detail": self.detail}


def spec_index(p: Planned, shown: int) -> int:
    """The index in scenes.yaml of the scene's `shown`-th planned layer (layers whose
    `when` is false are left out of the plan)."""
    layer = p.layers[shown]
    return next(j for j, candidate in enumerate(p.scene.layers) if candidate is layer)


def _off_frame(p: Planned, shown: int) -> str | None:
    fmt = p.ctx.fmt
    x, y, w, h = p.layers[shown].box_for(fmt, p.ctx.rtl)
    over = {
        "left": -x,
        "top": -y,
        "right": x + w - fmt.width,
        "bottom": y + h - fmt.height,
    }
    past = {edge: px for edge, px in over.items() if px > OFF_FRAME_TOLERANCE_PX}
    if not past:
        return None
    edges = ", ".join(f"{px} px past the {edge}" for edge, px in past.items())
    return f"box {x},{y} {w}x{h} px leaves the {fmt.width}x{fmt.height} frame ({fmt.name}): {edges}"


def frame_marks(p: Planned, states: Sequence[State], heard: Iterable[Note]) -> tuple[Mark, ...]:
    """The marks of one frame of the planned scene `p`: the notes heard while drawing it,
    and the layers shown in it (`states`: each planned layer's) whose box leaves the frame."""
    marks: list[Mark] = []
    scene = p.scene.id
    for note in heard:
        layer = None if note.layer is None else spec_index(p, note.layer)
        marks.append(Mark(note.kind, scene, layer, note.detail))
    for shown, state in enumerate(states):
        if state is not None and (detail := _off_frame(p, shown)) is not None:
            marks.append(Mark("off_frame", scene, spec_index(p, shown), detail))
    return tuple(dict.fromkeys(marks))  # a text fitted twice (a table's rows) is one mark
