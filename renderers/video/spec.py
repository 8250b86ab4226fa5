"""The scene spec (`scenes/NAME/scenes.yaml`): validated whole before a frame is drawn.

An ordered list of scenes; each has a `when` condition on the bill (a sandboxed expression),
a duration, a transition, optional narration (`say`) and layers (a union keyed on `type`,
see `renderers/video/layers/`). A `shared` scene uses no customer data: it is drawn and
encoded once per template version, format and locale, and reused.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from renderers.video.fonts import FontOverride, FontScript
from renderers.video.formats import DEFAULT_FORMAT, FormatName
from renderers.video.layers import Layer
from renderers.video.layers.base import BoxSpec

HexColor = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
Seconds = Annotated[float, Field(ge=0.5, le=20.0)]

# Narration keys the fallback catalog must define (the story's scenes read them).
REQUIRED_NARRATION = (
    "greeting.title",
    "greeting.subtitle",
    *(f"amount.{t}.{part}" for t in ("pay", "nudge", "firm", "thanks", "credit")
      for part in ("title", "note")),
    "lines.title",
    "lines.other",
    *(f"action.{t}.{part}" for t in ("pay", "nudge", "firm", "thanks", "credit")
      for part in ("title", "note")),
    "intro.title",
    "consumption.title",
    "consumption.last_year",
    "consumption.peers",
    "tip.title",
    "tip.default",
    "qr.pay",
    "outro.title",
)  # fmt: skip
CHAPTERS = "chapters"  # narration section of chapter titles, one per scene id


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Transition(_Strict):
    """How a scene comes in and goes out: through the background colour, or a hard cut."""

    kind: Literal["fade", "cut"] = "fade"
    duration: Annotated[float, Field(ge=0.0, le=1.5)] = 0.3


# Calls to action a scene may offer over the video: the tracked pay link, and the page's own
# calls to action (renderers.microsite.CTA_NAMES, which the service accepts).
CtaName = Literal["pay", "instalments", "contact", "paperless", "direct_debit"]
SceneSeconds = Annotated[float, Field(ge=0.0, le=20.0)]


class Cta(_Strict):
    """A button the player shows over the video while its scene plays (HTML, not pixels)."""

    name: CtaName
    when: str | None = None  # a sandboxed expression on the bill; false: not offered
    box: BoxSpec  # where it sits, as fractions of the frame, like a layer's
    boxes: dict[FormatName, BoxSpec] = {}
    mirror: bool = True  # mirrored left to right in a right-to-left locale, like a layer
    at: SceneSeconds = 0.0  # seconds into the scene it appears
    until: SceneSeconds | None = None  # seconds into the scene it goes; None: the scene's end

    @model_validator(mode="after")
    def _window(self) -> Cta:
        if self.until is not None and self.until <= self.at:
            raise ValueError("until must be later than at")
        for x, y, w, h in (self.box, *self.boxes.values()):
            if x + w > 1.0 + 1e-9 or y + h > 1.0 + 1e-9 or w == 0 or h == 0:
                raise ValueError("a call to action's box must lie within the frame")
        return self

    def box_for(self, fmt: FormatName, rtl: bool) -> tuple[float, float, float, float]:
        x, y, w, h = self.boxes.get(fmt, self.box)
        if rtl and self.mirror:
            x = max(0.0, 1.0 - x - w)
        return (x, y, w, h)


class Scene(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
    enabled: bool = True  # false: switched off (kept in the file, never shown)
    when: str = "true"  # sandboxed expression on the bill; false skips the scene
    duration: Seconds = 4.0  # at least; narration may stretch it
    shared: bool = False  # no customer data: rendered once per version, format and locale
    poster: bool = False  # this scene's settled frame is the poster
    transition: Transition = Transition()
    say: str | None = None  # narration line (a text template), spoken when a voice is set
    layers: Annotated[list[Layer], Field(min_length=1)]
    # Buttons over the video while the scene plays. Nothing of them is drawn, so they are
    # left out of a shared scene's cache key (model_dump).
    cta: tuple[Cta, ...] = Field(default=(), exclude=True)

    @model_validator(mode="after")
    def _personal_ctas(self) -> Scene:
        if self.shared and self.cta:
            raise ValueError("a shared scene has no calls to action (they depend on the bill)")
        return self


class ToneColors(_Strict):
    pay: HexColor = "#2E7D32"
    nudge: HexColor = "#F2B134"
    firm: HexColor = "#E53935"
    thanks: HexColor = "#43A047"
    credit: HexColor = "#42A5F5"


class Theme(_Strict):
    background: HexColor = "#0F2A3D"
    panel: HexColor = "#173B55"
    text: HexColor = "#FFFFFF"
    muted: HexColor = "#C5D3DE"
    accent: HexColor = "#64B5F6"
    tones: ToneColors = ToneColors()


class Audio(_Strict):
    bed: Literal["tone", "silence"] = "tone"
    volume: Annotated[float, Field(ge=0.0, le=0.5)] = 0.04
    frequency: Annotated[float, Field(ge=40.0, le=2000.0)] = 220.0
    music: str | None = None  # a music file of the scene directory, ducked under narration


class VideoSpec(_Strict):
    name: str | None = None
    version: Annotated[int, Field(ge=1)]
    locale: str
    default_format: FormatName = DEFAULT_FORMAT
    narration_padding: Annotated[float, Field(ge=0.0, le=3.0)] = 0.6  # seconds after speech
    theme: Theme = Theme()
    audio: Audio = Audio()
    fonts: dict[FontScript, FontOverride] = {}
    scenes: Annotated[list[Scene], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> VideoSpec:
        seen: set[str] = set()
        for scene in self.scenes:
            if scene.id in seen:
                raise ValueError(f"scene id {scene.id!r} appears more than once")
            seen.add(scene.id)
        return self
