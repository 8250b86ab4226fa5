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
    # The video's HLS playlist when the video is made as the page is opened (played as it is
    # coded); None: the video is there already, the page plays video.mp4.
    stream: str | None = None


@dataclass(frozen=True)
class Outputs:
    template_version: str  # "bill-explainer@1"
    video: Path | None
    poster: Path | None
    captions: Path | None
    site: Path | None  # the site's index.html
    chapters: Path | None = None  # chapters.vtt, beside the video
    # A video made later (`render(video_later=True)`): its sound, kept for that run
    # (`stream_video(sound=...)`): the mixed track (m4a) and its plan (JSON).
    sound: Path | None = None
    sound_plan: Path | None = None
