"""Colour contrast by WCAG 2.x (coloraide's `wcag21` method: relative luminance of sRGB).

AA asks 4.5:1 for text and 3:1 for large text (24 px, or 18.66 px bold, on a page). Video
text is mostly large, but a phone shows a 720-pixel frame at half its size or less, so the
studio holds the body-text bar and says when a pair passes for large text only.
"""

from __future__ import annotations

from typing import Literal

from coloraide import Color

AA_TEXT = 4.5
AA_LARGE = 3.0
Verdict = Literal["AA", "AA large only", "fails AA"]


def ratio(foreground: str, background: str) -> float:
    """The contrast ratio of two `#RRGGBB` colours, 1.0 to 21.0."""
    return float(Color(foreground).contrast(Color(background), method="wcag21"))


def verdict(value: float) -> Verdict:
    if value >= AA_TEXT:
        return "AA"
    if value >= AA_LARGE:
        return "AA large only"
    return "fails AA"
