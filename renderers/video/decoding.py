"""When the video's packets are decoded: just ahead of the pictures they show.

x264 decodes each packet at the presentation time of the picture its B-frame delay (two)
before it, counted in pictures. At a constant rate that is a lead of two frames; in our
variable-rate segments an image can be held for seconds, and the two packets after a held
image were stamped as decoded before the hold began. The mp4 then had key frames whose
decoding lasted a held image's length (an mp4 keeps the steps between decoding times as
its samples' durations), and FFmpeg's mp4 reader, which players are built on, takes the
second key frame that lasts past the end of the video's edit list for where the edit ends:
it dropped every sample after it, the last frames of a segment or of the video.
"""

from __future__ import annotations

from collections.abc import Sequence


def upcoming(pts: Sequence[int]) -> list[int]:
    """For each packet (in decoding order), the earliest presentation time at or after it."""
    soonest: list[int] = []
    for time in reversed(pts):
        soonest.append(time if not soonest else min(time, soonest[-1]))
    return soonest[::-1]


def decode_times(pts: Sequence[int], dts: Sequence[int], frame: int) -> list[int]:
    """Decoding times for a segment's packets (in decoding order, with the encoder's times
    `pts` and `dts`; `frame`: ticks a frame lasts at 30 fps) that follow its pictures.

    The encoder decodes some packets before its first picture shows (its B-frame delay: two
    for x264's settings); each packet is decoded at most that many frames before the
    earliest picture still to show. Where the encoder's time is that late already (every
    frame of a constant-rate stretch) it is kept. Times stay strictly increasing and never
    come after their packet's presentation.
    """
    if not pts:
        return []
    first = min(pts)
    lead = sum(1 for time in dts if time < first) * frame
    times: list[int] = []
    for given, soonest in zip(dts, upcoming(pts), strict=True):
        time = max(given, soonest - lead)
        times.append(time if not times else max(time, times[-1] + 1))
    return times
