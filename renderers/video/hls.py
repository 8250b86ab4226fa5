"""HLS of a video as it is coded: fMP4 media segments, one per scene, and their playlist.

The renderer codes a video scene by scene (`render_video(stream=...)`); each scene's segment
is copied here, packet by packet with PyAV (nothing decoded or coded again), into an fMP4
media segment (`moof` + `mdat`) with the sound of its span, timed exactly as the whole
video's join times it (`remux.Timing`), so a player plays the first scene while the next is
coded. Every media segment shares one initialisation segment (`init.mp4`: the `moov` with
the coding parameters, which every segment of a video has in common: the join checks it).
A cached shared scene is copied in as it was coded.

The playlist is an EVENT one (RFC 8216 §4.3.3.5): it only grows, and `#EXT-X-ENDLIST`
closes it once the last scene is in. Files are named by their index, so the caller can
store them anywhere (object storage) and serve them under any prefix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from renderers.errors import EncodeError
from renderers.video.formats import FPS
from renderers.video.remux import SEGMENT_OPTIONS, Timing, read_segment, video_stream

INIT_NAME = "init.mp4"
PLAYLIST_NAME = "index.m3u8"
# The first segment's media sequence number: 1, as a player asks for the next one by it
# (hls.js sends no blocking-reload directive while the last number it has is 0).
FIRST_SEQUENCE = 1
HLS_VERSION = 7  # fMP4 segments with EXT-X-MAP need version 6+; 7 for EXT-X-MAP in any playlist
# A fragmented mp4 written one segment at a time: no index up front, each fragment's
# `tfdt` the absolute decoding time of its first sample (frag_discont), so segments written
# by separate muxers follow one another on one timeline.
FRAGMENT_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof+frag_discont",
    "fflags": "+bitexact",
    "avoid_negative_ts": "disabled",
}


def segment_name(index: int) -> str:
    return f"seg{index:05d}.m4s"


@dataclass(frozen=True)
class Part:
    """One media segment: its file (named `segment_name(index)`) and how long it plays."""

    index: int
    path: Path
    seconds: float


def _boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """The top-level boxes of an mp4: (type, start, end)."""
    out, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        elif size == 0:
            size = len(data) - at
        if size < 8 or at + size > len(data):
            raise EncodeError(f"a fragment's {kind!r} box runs past its end")
        out.append((kind, at, at + size))
        at += size
    return out


def split_fragmented(data: bytes) -> tuple[bytes, bytes]:
    """A fragmented mp4 as (initialisation: ftyp + moov, media: every moof + mdat)."""
    boxes = _boxes(data)
    init = b"".join(data[s:e] for kind, s, e in boxes if kind in (b"ftyp", b"moov"))
    media = b"".join(data[s:e] for kind, s, e in boxes if kind in (b"moof", b"mdat"))
    if not init or not media:
        raise EncodeError("a fragment has no moov or no moof")
    return init, media


class HlsWriter:
    """Media segments and the playlist of one video, in `directory`, segment by segment.

    `add()` is given each coded segment in order (its file, first frame, frames and the
    video's sound track); it writes the init segment with the first, then the media
    segment, and returns the files it wrote. `playlist()` is the playlist so far.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.parts: list[Part] = []
        self.init: Path | None = None
        self._timing = Timing()
        self._sound: list[tuple[Fraction, av.Packet[Any]]] | None = None  # with their times
        self._first: Any = None  # the first segment's container: the coding all must share
        self._ended = False

    def _sound_packets(self, track: Path) -> list[tuple[Fraction, av.Packet[Any]]]:
        if self._sound is None:
            with av.open(str(track)) as sound:
                if not sound.streams.audio:
                    raise EncodeError(f"{track.name} has no audio stream")
                stream = sound.streams.audio[0]
                base = stream.time_base
                assert base is not None
                self._sound = [(p.pts * base, p) for p in sound.demux(stream) if p.pts is not None]
        return self._sound

    def add(self, segment: Path, start: int, frames: int, track: Path) -> list[Path]:
        """The next scene's segment (`start`: its first frame in the video)."""
        if self._ended:
            raise EncodeError("the stream has ended")
        expected = self._timing.shift
        try:
            container = av.open(str(segment), options=SEGMENT_OPTIONS)
        except (av.FFmpegError, OSError) as exc:
            raise EncodeError(f"cannot read segment {len(self.parts)}: {exc}") from exc
        try:
            if self._first is None:
                self._first = container
            first = video_stream(self._first, "segment 0")
            where = f"segment {len(self.parts)}"
            packets, shown, per_frame = read_segment(container, first, frames, where)
            read = (packets, shown, per_frame, frames)
            if expected != start * per_frame:
                raise EncodeError(f"{where} starts at frame {start}, not where the last ended")
            sound = self._sound_packets(track)
            begin, end = Fraction(start, FPS), Fraction(start + frames, FPS)
            # A sound packet belongs to the segment in whose span it starts (the track is as
            # long as the video: nothing starts past its end).
            mine = [p for at, p in sound if begin <= at < end]
            written = self._write(read, first, mine, track)
        finally:
            if container is not self._first:
                container.close()
        return written

    def _write(
        self, read: Any, first: av.VideoStream, sound: list[av.Packet[Any]], track: Path
    ) -> list[Path]:
        index = len(self.parts)
        scratch = self.directory / f".{segment_name(index)}.mp4"
        frames = read[3]
        try:
            with (
                av.open(str(track)) as source,
                av.open(str(scratch), "w", format="mp4", options=FRAGMENT_OPTIONS) as sink,
            ):
                video = sink.add_stream_from_template(first, opaque=True)
                audio = sink.add_stream_from_template(source.streams.audio[0], opaque=True)
                packets = list(self._timing.packets(read, video))
                for packet in sound:
                    packet.stream = audio
                for packet in sorted([*packets, *sound], key=_time):
                    sink.mux(packet)
            data = scratch.read_bytes()
        except (av.FFmpegError, OSError) as exc:
            raise EncodeError(f"cannot write HLS segment {index}: {exc}") from exc
        finally:
            scratch.unlink(missing_ok=True)
        init, media = split_fragmented(data)
        written = []
        if self.init is None:
            self.init = self.directory / INIT_NAME
            self.init.write_bytes(init)
            written.append(self.init)
        path = self.directory / segment_name(index)
        path.write_bytes(media)
        self.parts.append(Part(index, path, frames / FPS))
        written.append(path)
        return written

    def end(self) -> None:
        """No segment follows: the playlist gets its ENDLIST."""
        self._ended = True
        if self._first is not None:
            self._first.close()
            self._first = None

    def playlist(self, prefix: str = "") -> str:
        return playlist(self.parts, ended=self._ended, prefix=prefix)


def _time(packet: av.Packet[Any]) -> Fraction:
    assert packet.dts is not None
    return packet.dts * packet.time_base


def playlist(parts: list[Part], *, ended: bool, prefix: str = "") -> str:
    """An EVENT media playlist of `parts` (`prefix` before each file name)."""
    target = max((math.ceil(p.seconds) for p in parts), default=1)
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{HLS_VERSION}",
        f"#EXT-X-TARGETDURATION:{max(1, target)}",
        f"#EXT-X-MEDIA-SEQUENCE:{FIRST_SEQUENCE}",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{prefix}{INIT_NAME}"',
    ]
    for part in parts:
        lines += [f"#EXTINF:{part.seconds:.5f},", f"{prefix}{segment_name(part.index)}"]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
