"""What the player knows of a video beyond its pixels: its chapters, the calls to action it
shows over the picture and when, and the moment it explains the bill's lines.

The video renderer makes it from the scenes it planned (so every time is a scene's real
time, to the frame); the microsite turns it into the chapter list, the buttons over the
video and the links of the bill's lines; `chapters.vtt` is its chapters as WebVTT.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x, y, width, height: fractions of the frame


@dataclass(frozen=True)
class Chapter:
    scene: str  # the scene's id
    title: str  # in the customer's language
    start: float  # seconds
    end: float


@dataclass(frozen=True)
class TimedCta:
    name: str  # "pay" or one of renderers.microsite.CTA_NAMES
    start: float  # seconds into the video
    end: float
    box: Box  # for the video's format, mirrored for a right-to-left locale


@dataclass(frozen=True)
class Timeline:
    width: int  # the video's frame, in pixels
    height: int
    duration: float  # seconds
    chapters: tuple[Chapter, ...]
    ctas: tuple[TimedCta, ...]  # none for a bill that asks for no payment
    lines_at: float | None  # when the video shows the bill's lines; None: it does not
