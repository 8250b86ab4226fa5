"""Every frame a segment is planned with is in the video, as an mp4 reader reads it: held
images of any length, in any order, in one segment or several, encoded by the real x264
and joined in process (property tests; profiles in tests/hypothesis_profiles.py)."""

from __future__ import annotations

import json
import subprocess
from itertools import pairwise
from pathlib import Path

import av
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from renderers.video.compose import Run
from renderers.video.decoding import decode_times, upcoming
from renderers.video.encode import encode_bed, encode_runs
from renderers.video.formats import FPS, TIMESCALE, Format
from renderers.video.remux import join
from renderers.video.spec import Audio
from tests.hypothesis_profiles import examples
from tests.realparts import require

FMT = Format("16:9", 64, 36)  # tiny frames: how x264 stamps them does not depend on size
PER_FRAME = TIMESCALE // FPS

# The runs of segment 1 of issue 16's bill (it_overdue, en-US, a 200-letter name, an
# injection-looking tip, narrated): 1282 frames, of which the reader saw 1275.
ISSUE_16 = [1] * 20 + [209] + [1] * 45 + [168] + [1] * 33 + [102] + [1] * 45 + [3]
ISSUE_16 += [1] * 12 + [90] + [1] * 32 + [356] + [1] * 33 + [125] + [1] * 9

# A run is mostly one frame (animations, fades) or a held image, up to a long narration's.
counts = st.one_of(st.integers(1, 3), st.integers(4, 120), st.integers(121, 900))
segment = st.lists(counts, min_size=1, max_size=40)


def _levels(n: int, seed: int) -> list[int]:
    """A grey level per run: neighbours differ, sometimes by a lot (x264 cuts to a key frame)."""
    return [(seed * 37 + i * (53 if i % 5 else 131)) % 220 + 16 for i in range(n)]


def _encode(directory: Path, index: int, runs: list[int]) -> Path:
    images = [Run(Image.new("RGB", (FMT.width, FMT.height), (v, v, v)), c)
              for v, c in zip(_levels(len(runs), index), runs, strict=True)]  # fmt: skip
    return encode_runs(images, runs, FMT, directory / f"part{index}.mp4")


def _shown(runs_per_segment: list[list[int]]) -> list[int]:
    """The frames a picture is coded at: each run's first, and each segment's last frame
    (its last image coded once more where it is held: it marks the segment's end)."""
    frames, start = [], 0
    for runs in runs_per_segment:
        for count in runs:
            frames.append(start)
            start += count
        if runs[-1] > 1:
            frames.append(start - 1)
    return frames


def _read(video: Path, **options: str) -> list[int]:
    """Presentation times of the video's pictures, in frames, as FFmpeg's mp4 reader gives
    them (its default reading applies the edit list the way players built on it do)."""
    with av.open(str(video), options=options) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.pts is not None]
        assert stream.time_base is not None and 1 / stream.time_base == TIMESCALE
        return sorted(p.pts // PER_FRAME for p in packets if p.pts is not None)


def _probed(video: Path) -> tuple[int, float]:
    """Pictures the system's ffprobe reads, and how long the file lasts in seconds."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-count_packets", "-show_entries",
         "stream=nb_read_packets:format=duration", "-of", "json", str(video)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    info = json.loads(out)
    return int(info["streams"][0]["nb_read_packets"]), float(info["format"]["duration"])


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    require("ffmpeg")
    require("ffprobe")


@pytest.mark.timeout(60 + 5 * examples(0))  # one test, however many examples the profile runs
@settings(max_examples=examples(0))
@given(segments=st.lists(segment, min_size=1, max_size=3))
@example(segments=[[60], ISSUE_16, [45, 1, 14]])
@example(segments=[ISSUE_16])
def test_every_planned_frame_is_read_back(
    segments: list[list[int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("frames")
    parts = [(_encode(directory, i, runs), sum(runs)) for i, runs in enumerate(segments)]
    frames = sum(n for _, n in parts)
    bed = encode_bed(Audio(bed="silence"), frames, directory / "bed.m4a")
    video = join(parts, bed, directory / "video.mp4")
    expected = _shown(segments)
    assert _read(video) == expected  # as players built on FFmpeg read it
    assert _read(video, advanced_editlist="0") == expected  # every picture the file holds
    pictures, seconds = _probed(video)
    assert pictures == len(expected)
    assert abs(seconds - frames / FPS) < 0.001  # the sound lasts as long as the frames


@st.composite
def encoded(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Presentation and decoding times (in decoding order) as x264 stamps a segment: its
    pictures in groups of a reference frame coded before the B-frames shown ahead of it, each
    decoded at the time of the picture two before it in presentation order."""
    runs = draw(st.lists(counts, min_size=1, max_size=60))
    starts = [sum(runs[:i]) * PER_FRAME for i in range(len(runs))]
    order, i = [0], 1
    while i < len(starts):
        group = draw(st.integers(1, min(4, len(starts) - i)))  # a reference and its B-frames
        order += [i + group - 1, *range(i, i + group - 1)]
        i += group
    pts = [starts[j] for j in order]
    shown = sorted(pts)
    delay = shown[2] - shown[0] if len(shown) > 2 else 2 * PER_FRAME
    dts = [shown[n] - delay if n < 2 else shown[n - 2] for n in range(len(shown))]
    return pts, dts


@settings(max_examples=examples(0) * 20)
@given(times=encoded())
def test_decoding_follows_the_pictures(times: tuple[list[int], list[int]]) -> None:
    pts, dts = times
    decoded = decode_times(pts, dts, PER_FRAME)
    lead = 2 * PER_FRAME if len(pts) > 2 else sum(1 for t in dts if t < 0) * PER_FRAME
    assert all(a < b for a, b in pairwise(decoded))  # in order, one at a time
    assert all(d <= p for d, p in zip(decoded, pts, strict=True))  # before it shows
    assert all(d >= g for d, g in zip(decoded, dts, strict=True))  # never earlier than x264
    # never more than the lead before the pictures still to show: after a held image too
    assert all(d >= soonest - lead for d, soonest in zip(decoded, upcoming(pts), strict=True))


def test_decoding_at_a_constant_rate_is_the_encoders() -> None:
    pts = [0, 3, 1, 2, 6, 4, 5, 7]  # frames, in decoding order
    dts = [-2, -1, 0, 1, 2, 3, 4, 5]
    ticks = [[t * PER_FRAME for t in times] for times in (pts, dts)]
    assert decode_times(ticks[0], ticks[1], PER_FRAME) == ticks[1]


def test_decoding_after_a_held_image_catches_up() -> None:
    # frames 0-2, then frame 3 held until frame 300: x264 decodes 300 and 301 at 1 and 2
    pts = [t * PER_FRAME for t in (0, 1, 2, 3, 300, 301, 302)]
    dts = [t * PER_FRAME for t in (-2, -1, 0, 1, 2, 3, 300)]
    assert decode_times(pts, dts, PER_FRAME) == [
        t * PER_FRAME for t in (-2, -1, 0, 1, 298, 299, 300)
    ]
