"""Output formats and the encoder settings every segment shares (so segments join by copy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FormatName = Literal["16:9", "9:16", "1:1"]
FORMAT_NAMES: tuple[FormatName, ...] = ("16:9", "9:16", "1:1")
DEFAULT_FORMAT: FormatName = "16:9"
BASE_SHORT_SIDE = 720  # pixels: sizes in a scene spec are for a frame whose short side is this

FPS = 30  # frames per second
AUDIO_RATE = 48_000  # Hz
AUDIO_BITRATE = "128k"
VIDEO_CRF = 22  # x264 constant rate factor: visually clean text at a modest size
KEYFRAME_INTERVAL = 90  # frames (3 s): seeking in a player stays quick
X264_PRESET = "veryfast"
TIMESCALE = 15360  # mp4 video track timescale: 512 ticks a frame, so segments join exactly
ENCODE_TIMEOUT_S = 180  # a hang guard; one video encodes in a few seconds


@dataclass(frozen=True)
class Format:
    name: FormatName
    width: int
    height: int

    @property
    def scale(self) -> float:
        """Multiplier from spec pixel sizes to this frame's pixels."""
        return min(self.width, self.height) / BASE_SHORT_SIDE

    @property
    def tall(self) -> bool:
        return self.height > self.width


FORMATS: dict[str, Format] = {
    "16:9": Format("16:9", 1280, 720),
    "9:16": Format("9:16", 720, 1280),
    "1:1": Format("1:1", 1080, 1080),
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"video_format must be one of {', '.join(FORMATS)}") from None
