"""A video made later: planned without coding (page, poster, tracks, kept sound), then coded
scene by scene as HLS and joined into the same MP4.

One bill, narrated by the silent voice (the scenes keep their narration lengths), is made
both ways; the HLS segments, one after the other, hold exactly the MP4's coded pictures at
its times, the playlist grows as an EVENT one and then ends, and the chapters track's cues
start and end where the segments (the scenes as coded) do, within one frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import webvtt
from PIL import Image

from renderers import render, stream_video
from renderers.templates import TemplateBundle, load_bundle
from renderers.video.formats import FPS
from renderers.video.hls import INIT_NAME, segment_name
from renderers.voice.speech import SILENT
from tests.paths import EXAMPLES
from tests.videokit import luma, luma_difference

POSTER_TOLERANCE = 2.0  # mean luma difference: JPEG of the same picture, drawn twice


def example(name: str) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return data


class Made:
    def __init__(self, later: Any, work: Path, playlists: list[str], files: list[list[str]]):
        self.later, self.work, self.playlists, self.files = later, work, playlists, files


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    bundle: TemplateBundle = load_bundle("bill-explainer")
    bill = example("it_overdue")
    page = tmp_path_factory.mktemp("page")
    later = render(bill, bundle, ["video", "microsite"], page, voice=SILENT, video_later=True)
    work = tmp_path_factory.mktemp("stream")
    playlists: list[str] = []
    files: list[list[str]] = []

    def publish(written: list[Path], playlist: str) -> None:
        files.append([p.name for p in written])
        playlists.append(playlist)

    assert later.sound is not None and later.sound_plan is not None
    stream_video(bill, bundle, work, publish, voice=SILENT, sound=(later.sound, later.sound_plan))
    return Made(later, work, playlists, files)


def seconds(stamp: str) -> float:
    """A WebVTT time (HH:MM:SS.mmm) in seconds (webvtt-py's own drops the fraction)."""
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def video_packets(source: Path) -> list[tuple[bytes, float]]:
    """The coded pictures in order, each with when it shows after the first (no decoding:
    the same packets at the same times are the same frames; an mp4's edit list, which an
    fMP4 has not, shifts them all alike)."""
    import av

    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        packets = [(bytes(p), p.pts * p.time_base) for p in container.demux(stream)
                   if p.pts is not None and p.size]  # fmt: skip
    first = min(at for _, at in packets)
    return [(data, float(at - first)) for data, at in packets]


def test_the_page_run_codes_no_video(made: Made) -> None:
    later = made.later
    assert later.video is None
    assert later.poster is not None and later.captions is not None and later.chapters is not None
    assert later.site is not None and 'data-stream="' not in later.site.read_text("utf-8")
    assert not list(later.poster.parent.glob("*.mp4"))


def test_the_playlist_grows_then_ends(made: Made) -> None:
    counts = [p.count("#EXTINF:") for p in made.playlists]
    assert counts == [*range(1, len(counts)), len(counts) - 1]  # one a scene, then the end
    assert all("#EXT-X-PLAYLIST-TYPE:EVENT" in p for p in made.playlists)
    assert ["#EXT-X-ENDLIST" in p for p in made.playlists] == [False] * (len(counts) - 1) + [True]
    assert made.files[0] == [INIT_NAME, segment_name(0)]
    assert made.files[-1] == []  # the closing playlist names nothing new


def test_the_segments_show_the_mp4s_frames(made: Made) -> None:
    hls = made.work / "hls"
    joined = made.work / "joined.mp4"
    parts = [hls / INIT_NAME, *sorted(hls.glob("seg*.m4s"))]
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    streamed = video_packets(joined)
    assert streamed == video_packets(made.work / "video.mp4")
    duration = sum(float(line.split(":")[1].rstrip(",")) for line in
                   made.playlists[-1].splitlines() if line.startswith("#EXTINF:"))  # fmt: skip
    assert streamed[-1][1] == pytest.approx(duration - 1 / FPS)  # the last frame's time


def test_chapters_start_where_the_coded_scenes_do(made: Made) -> None:
    assert made.later.chapters is not None
    cues = webvtt.read(str(made.later.chapters)).captions
    lengths = [float(line.split(":")[1].rstrip(",")) for line in
               made.playlists[-1].splitlines() if line.startswith("#EXTINF:")]  # fmt: skip
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    assert len(cues) == len(starts)  # a chapter a scene, a segment a scene
    for cue, start, length in zip(cues, starts, lengths, strict=True):
        assert abs(seconds(cue.start) - start) <= 1 / FPS
        assert abs(seconds(cue.end) - (start + length)) <= 1 / FPS


def test_the_poster_is_the_coded_videos(made: Made, tmp_path: Path) -> None:
    assert made.later.poster is not None
    with Image.open(made.later.poster) as drawn, Image.open(made.work / "poster.jpg") as coded:
        assert luma_difference(luma(drawn), luma(coded)) < POSTER_TOLERANCE
