"""What a render is asked for and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OUTPUT_KINDS = ("video", "microsite")


@dataclass(frozen=True)
class SiteLinks:
    """Hrefs exactly as the microsite page uses them (relative to where it is served)."""

    video: str
    poster: str
    captions: str
    pay: str | None  # a tracked pay link or the bill's payment.url; None: no pay button
    chapters: str | None = None  # the chapters track; None: the page offers none


@dataclass(frozen=True)
class Outputs:
    template_version: str  # "bill-explainer@1"
    video: Path | None
    poster: Path | None
    captions: Path | None
    site: Path | None  # the site's index.html
    chapters: Path | None = None  # chapters.vtt, beside the video
