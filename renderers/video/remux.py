"""The final join, in process: segments and an audio track copied packet by packet into one
+faststart MP4 with PyAV (the FFmpeg libraries), nothing decoded or coded again.

It does what ffmpeg's concat demuxer with `-c copy` did in a process of its own: starting the
system's ffmpeg (215 shared libraries) cost more CPU than the copying (0.055 of the join's
0.08 s; here about 0.01). Segments are checked before a byte is written: each must be coded
with the first one's parameters and show exactly its frames, so a stale cached scene fails
the render instead of making a video that breaks or slips where it was joined. A segment is
read whole (its edit list only shifts its times), and the video's decoding times follow its
pictures (decoding.py), so players read it to its last frame.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from renderers.errors import EncodeError
from renderers.video.decoding import decode_times
from renderers.video.formats import FPS

# +bitexact: no library version in the file, so equal inputs give equal bytes
MUXER_OPTIONS = {"movflags": "+faststart", "fflags": "+bitexact"}
# A segment's edit list only shifts its times (by the B-frame delay). FFmpeg's full reading
# of an edit list also ends it at the second key frame whose decoding lasts past the edit's
# end, dropping every sample after: a segment must be read whole, as it was written.
SEGMENT_OPTIONS = {"advanced_editlist": "0"}


def video_stream(container: av.container.InputContainer, where: str) -> av.VideoStream:
    if len(container.streams.video) != 1:
        raise EncodeError(f"{where} has {len(container.streams.video)} video streams, not 1")
    return container.streams.video[0]


def read_segment(
    container: av.container.InputContainer, first: av.VideoStream, frames: int, where: str
) -> tuple[list[av.Packet[Any]], list[int], int]:
    """A segment's video packets, their presentation times in order, and how many ticks of
    its time base a frame lasts; its coding must be the first segment's, its pictures must
    show at frames 0 to `frames` - 1 (a segment's last image is coded once more as its last
    frame: it marks the end)."""
    segment = video_stream(container, where)
    ours, theirs = segment.codec_context, first.codec_context
    shape = (ours.width, ours.height, ours.pix_fmt, ours.extradata, segment.time_base)
    if shape != (theirs.width, theirs.height, theirs.pix_fmt, theirs.extradata, first.time_base):
        raise EncodeError(f"{where} is not coded with the first segment's parameters")
    tick = segment.time_base
    if tick is None or (1 / (tick * FPS)).denominator != 1:
        raise EncodeError(f"{where} has a time base of {tick}: not whole ticks a frame")
    per_frame = int(1 / (tick * FPS))
    packets = [p for p in container.demux(segment) if p.dts is not None and p.pts is not None]
    shown = sorted(p.pts for p in packets if p.pts is not None)
    span = (shown[0] / per_frame, shown[-1] / per_frame) if shown else None
    if span != (0, frames - 1):
        seen = "nothing" if span is None else f"frames {span[0]:g} to {span[1]:g}"
        raise EncodeError(f"{where} shows {seen}, not its {frames} frames")
    return packets, shown, per_frame


Read = tuple["list[av.Packet[Any]]", list[int], int, int]  # packets, shown, per_frame, frames


class Timing:
    """Video packets of segments given one after the other, each segment's times shifted by
    the length of the segments before it (kept here, so a stream can be timed a segment at
    a time, as it is coded, and come out exactly as the whole join does).

    A packet's duration is set to how long its picture shows, up to the next in presentation
    order: read from an mp4 it is the gap to the next in decoding order, and the muxer takes
    the video's end from the largest pts + duration. Decoding times follow the pictures
    (decoding.py: x264's run a held image's length early after one). A segment's first
    decoding times can still fall before the last ones of the segment before (they lead its
    first picture by the B-frame delay): they are moved up one tick past them, as ffmpeg's
    own muxing would; the order of decoding and every presentation time stay as they are.
    """

    def __init__(self) -> None:
        self.shift = 0  # ticks of the segments before
        self.last: int | None = None  # the last decoding time given

    def packets(self, read: Read, stream: av.VideoStream) -> Iterator[av.Packet[Any]]:
        packets, shown, per_frame, frames = read
        end = frames * per_frame
        until = dict(zip(shown, [*shown[1:], end], strict=True))
        pts = [p.pts for p in packets if p.pts is not None]
        dts = [p.dts for p in packets if p.dts is not None]
        shift = self.shift
        for packet, decoded in zip(packets, decode_times(pts, dts, per_frame), strict=True):
            assert packet.pts is not None  # _read saw to it
            packet.duration = until[packet.pts] - packet.pts
            packet.pts += shift
            last = self.last
            packet.dts = decoded + shift if last is None else max(decoded + shift, last + 1)
            self.last = packet.dts
            packet.stream = stream
            yield packet
        self.shift = shift + end


def _timed(segments: Sequence[Read], stream: av.VideoStream) -> Iterator[av.Packet[Any]]:
    """The segments' video packets one after the other (`Timing`)."""
    timing = Timing()
    for read in segments:
        yield from timing.packets(read, stream)


def audio_packets(
    container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[av.Packet[Any]]:
    for packet in container.demux(container.streams.audio[0]):
        if packet.dts is not None:
            packet.stream = stream
            yield packet


def _time(packet: av.Packet[Any]) -> Fraction:
    assert packet.dts is not None  # packets without one are left out
    return packet.dts * packet.time_base


def join(segments: Sequence[tuple[Path, int]], audio: Path, out: Path) -> Path:
    """Write `out`: the video of `segments` (files and their lengths in frames, in order,
    coded with the same settings) one after the other, with the first audio stream of
    `audio`; packets are interleaved in time, and the index is at the front (+faststart)."""
    if not segments:
        raise EncodeError("no segment to join")
    try:
        with ExitStack() as stack:
            sources = [(stack.enter_context(av.open(str(p), options=SEGMENT_OPTIONS)), frames)
                       for p, frames in segments]  # fmt: skip
            first = video_stream(sources[0][0], "segment 0")
            read = []
            for index, (container, frames) in enumerate(sources):
                packets, shown, per_frame = read_segment(
                    container, first, frames, f"segment {index}"
                )
                read.append((packets, shown, per_frame, frames))
            sound = stack.enter_context(av.open(str(audio)))
            if not sound.streams.audio:
                raise EncodeError(f"{audio.name} has no audio stream")
            sink = stack.enter_context(av.open(str(out), "w", format="mp4", options=MUXER_OPTIONS))
            video = sink.add_stream_from_template(first, opaque=True)
            track = sink.add_stream_from_template(sound.streams.audio[0], opaque=True)
            # time order, as the concat demuxer read them: players load sound and picture together
            for packet in heapq.merge(_timed(read, video), audio_packets(sound, track), key=_time):
                sink.mux(packet)
    except EncodeError:
        out.unlink(missing_ok=True)
        raise
    except (av.FFmpegError, OSError) as exc:
        out.unlink(missing_ok=True)
        raise EncodeError(f"cannot join the segments: {exc}") from exc
    return out
