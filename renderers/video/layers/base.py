"""What every layer shares: its box (layout anchors per format), animations, and the context
it draws from. A layer module defines one pydantic model and a `Kind` (how to draw it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from renderers.video.animation import Animation
from renderers.video.expressions import evaluate, render_text
from renderers.video.formats import Format, FormatName
from renderers.video.text import Typesetter

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
# A box as fractions of the frame: x, y, width, height.
BoxSpec = tuple[Fraction, Fraction, Fraction, Fraction]
# A colour: #RRGGBB, or a theme name resolved per bill ("tone" is the ending's tone colour).
ColorSpec = Annotated[
    str, Field(pattern=r"^(#[0-9A-Fa-f]{6}|tone|text|muted|panel|background|accent)$")
]


class LayerBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str | None = None  # a sandboxed expression; the layer is left out when false
    box: BoxSpec = (0.0, 0.0, 1.0, 1.0)
    # Layout anchors per format: the same scene, other boxes for tall or square frames.
    boxes: dict[FormatName, BoxSpec] = {}
    # In a right-to-left locale the layout reads from the right: the box is mirrored.
    mirror: bool = True
    at: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0  # seconds into the scene it enters
    enter: Animation | None = None
    exit: Animation | None = None

    def box_for(self, fmt: Format, rtl: bool = False) -> tuple[int, int, int, int]:
        """The box in pixels for `fmt`, mirrored left to right when `rtl` (and `mirror`)."""
        x, y, w, h = self.boxes.get(fmt.name, self.box)
        if rtl and self.mirror:
            x = max(0.0, 1.0 - x - w)
        return (
            round(x * fmt.width),
            round(y * fmt.height),
            round(w * fmt.width),
            round(h * fmt.height),
        )


@dataclass
class LayerContext:
    """One bill (or none, for shared scenes) in one format and locale."""

    fmt: Format
    typesetter: Typesetter
    colors: Mapping[str, str]  # theme names -> #RRGGBB
    values: Mapping[str, Any]  # the expression context (read-only data)
    scenes_dir: Path
    bill: Mapping[str, Any] | None
    memo: dict[Any, Any] = field(default_factory=dict)

    def color(self, spec: str) -> str:
        return spec if spec.startswith("#") else self.colors[spec]

    def px(self, size: float) -> int:
        return max(1, round(size * self.fmt.scale))

    def text(self, source: str) -> str:
        return render_text(source, self.values)

    def value(self, source: str) -> Any:
        """The expression's value; the values are read-only, so each is worked out once
        (a progress bar asks on every frame of its animation)."""
        key = ("value", source)
        if key not in self.memo:
            self.memo[key] = evaluate(source, self.values)
        return self.memo[key]

    @property
    def rtl(self) -> bool:
        return self.typesetter.rtl


L = TypeVar("L", bound=LayerBase)


@dataclass(frozen=True)
class Kind(Generic[L]):
    """How one layer type draws: `draw(layer, ctx, size, progress)` -> an RGBA sprite of its box
    size at its own animation's `progress` (0..1); `motion(layer)` -> that animation's length
    in seconds (0: the layer looks the same on every frame)."""

    model: type[L]
    draw: Callable[[L, LayerContext, tuple[int, int], float], Image.Image]
    motion: Callable[[L], float] = lambda layer: 0.0
    # Template fields checked at load: (field name, is a text template)
    sources: Callable[[L], list[tuple[str, str, bool]]] = lambda layer: []


def blank(size: tuple[int, int]) -> Image.Image:
    return Image.new("RGBA", size, (0, 0, 0, 0))
