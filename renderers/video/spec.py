"""The scene spec (`scenes/NAME/scenes.yaml`): validated whole before a frame is drawn.

Scenes are a union keyed on `type`; each type has one card drawer in `cards.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

HexColor = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
Seconds = Annotated[float, Field(ge=1.0, le=10.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GreetingScene(_Strict):
    type: Literal["greeting"]
    duration: Seconds = 3.5


class AmountScene(_Strict):
    type: Literal["amount"]
    duration: Seconds = 5.0


class LinesScene(_Strict):
    """The bill's lines; skipped when the bill has none."""

    type: Literal["lines"]
    duration: Seconds = 4.5
    max_rows: Annotated[int, Field(ge=1, le=6)] = 4  # further lines fold into "other"


class ActionScene(_Strict):
    type: Literal["action"]
    duration: Seconds = 4.5


Scene = Annotated[
    GreetingScene | AmountScene | LinesScene | ActionScene, Field(discriminator="type")
]


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
    tones: ToneColors = ToneColors()


FontScript = Literal["latin", "thai", "arabic", "hebrew", "cjk-sc", "cjk-tc", "cjk-jp", "cjk-kr"]


class FontOverride(_Strict):
    """A font file name (searched in the font directories) or an absolute path."""

    regular: str
    bold: str | None = None
    index: Annotated[int, Field(ge=0)] = 0


class Audio(_Strict):
    bed: Literal["tone", "silence"] = "tone"
    volume: Annotated[float, Field(ge=0.0, le=0.5)] = 0.04
    frequency: Annotated[float, Field(ge=40.0, le=2000.0)] = 220.0


class VideoSpec(_Strict):
    name: str | None = None
    version: Annotated[int, Field(ge=1)]
    locale: str
    fade: Annotated[float, Field(ge=0.0, le=1.5)] = 0.4
    theme: Theme = Theme()
    audio: Audio = Audio()
    fonts: dict[FontScript, FontOverride] = {}
    scenes: Annotated[list[Scene], Field(min_length=1)]

    @field_validator("scenes")
    @classmethod
    def _one_each(cls, scenes: list[Scene]) -> list[Scene]:
        seen = [s.type for s in scenes]
        for kind in set(seen):
            if seen.count(kind) > 1:
                raise ValueError(f"scene type {kind!r} appears more than once")
        return scenes
