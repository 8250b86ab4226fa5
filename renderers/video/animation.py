"""Enter and exit animations (fade, slide, scale) with easing; pure functions of time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Easing = Literal["linear", "ease-in", "ease-out", "ease-in-out", "back-out"]

EASINGS: Mapping[str, Callable[[float], float]] = {
    "linear": lambda p: p,
    "ease-in": lambda p: p * p * p,
    "ease-out": lambda p: 1 - (1 - p) ** 3,
    "ease-in-out": lambda p: 4 * p**3 if p < 0.5 else 1 - (-2 * p + 2) ** 3 / 2,
    # overshoots a little, then settles: lively for numbers and logos
    "back-out": lambda p: 1 + 2.70158 * (p - 1) ** 3 + 1.70158 * (p - 1) ** 2,
}


class Animation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["fade", "slide", "scale"] = "fade"
    duration: Annotated[float, Field(gt=0.0, le=3.0)] = 0.5
    easing: Easing = "ease-out"
    # slide: where the layer comes from (enter) or goes to (exit), as a fraction of the frame
    direction: Literal["left", "right", "up", "down"] = "up"
    distance: Annotated[float, Field(gt=0.0, le=1.0)] = 0.08


def ease(easing: str, p: float) -> float:
    return EASINGS[easing](min(1.0, max(0.0, p)))


QUANTUM = 1000  # animation states are rounded to 1/1000 so equal frames compare equal


def quantize(p: float) -> float:
    return round(p * QUANTUM) / QUANTUM
