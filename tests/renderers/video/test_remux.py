"""The final join (renderers/video/remux.py): segments of held images made by the real
encoder, joined in process, decoded and probed by real ffmpeg and ffprobe."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

import renderers.video.encode as encode
from renderers.errors import EncodeError
from renderers.video.compose import Run
from renderers.video.encode import encode_bed, encode_runs, ffmpeg_exe
from renderers.video.formats import FPS, Format
from renderers.video.remux import join
from renderers.video.spec import Audio
from tests.realparts import ffprobe_json, mp4_top_level_boxes, require
from tests.videokit import gray_means

FMT = Format("16:9", 160, 90)
# Runs of held images (frames each) in three segments: held frames end up reordered around
# B-frames, which once made a join that claimed to last 1.7 s longer than its frames.
SEGMENTS = ([3, 1, 40, 1, 1, 14], [1, 1, 2, 57, 1, 1, 1, 1, 25], [30, 1, 29])


def _segment(directory: Path, index: int, counts: list[int], first_level: int) -> Path:
    levels = [first_level + 9 * i for i in range(len(counts))]
    runs = [Run(Image.new("RGB", (FMT.width, FMT.height), (v, 255 - v, v // 2)), c)
            for v, c in zip(levels, counts, strict=True)]  # fmt: skip
    return encode_runs(runs, counts, FMT, directory / f"part{index}.mp4")


def _decode_errors(path: Path) -> str:
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[Path, int]], Path]:
    require("ffmpeg")
    directory = tmp_path_factory.mktemp("parts")
    segments = [(_segment(directory, i, counts, 20 + 60 * i), sum(counts))
                for i, counts in enumerate(SEGMENTS)]  # fmt: skip
    frames = sum(n for _, n in segments)
    bed = encode_bed(Audio(), frames, directory / "bed.m4a")
    return segments, bed


def test_segments_join_frame_for_frame_with_the_sound(
    parts: tuple[list[tuple[Path, int]], Path], tmp_path: Path
) -> None:
    require("ffprobe")
    segments, bed = parts
    out = join(segments, bed, tmp_path / "video.mp4")
    frames = sum(n for _, n in segments)
    expected = [m for path, _ in segments for m in gray_means(path, (FMT.width, FMT.height))]
    joined = gray_means(out, (FMT.width, FMT.height))
    assert len(joined) == len(expected) == frames
    assert all(abs(a - b) < 0.01 for a, b in zip(joined, expected, strict=True))
    assert _decode_errors(out) == ""
    info = ffprobe_json(out)
    seconds = frames / FPS
    assert abs(float(info["format"]["duration"]) - seconds) < 0.001  # as its frames
    kinds = {s["codec_type"]: s for s in info["streams"]}
    assert set(kinds) == {"video", "audio"}
    assert abs(float(kinds["audio"]["duration"]) - seconds) < 0.03  # whole AAC frames
    assert kinds["audio"]["sample_rate"] == "48000"
    boxes = mp4_top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    # the same inputs give the same bytes
    assert join(segments, bed, tmp_path / "again.mp4").read_bytes() == out.read_bytes()


def test_a_segment_coded_otherwise_is_refused(
    parts: tuple[list[tuple[Path, int]], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    segments, bed = parts
    profile = encode.VIDEO_SETTINGS.index("-profile:v") + 1
    other = [*encode.VIDEO_SETTINGS[:profile], "main", *encode.VIDEO_SETTINGS[profile + 1 :]]
    monkeypatch.setattr(encode, "VIDEO_SETTINGS", other)
    stale = _segment(tmp_path, 9, SEGMENTS[1], 80)
    out = tmp_path / "video.mp4"
    with pytest.raises(EncodeError, match="segment 1 is not coded with the first"):
        join([segments[0], (stale, segments[1][1]), segments[2]], bed, out)
    assert not out.exists()


def test_a_segment_of_another_length_is_refused(
    parts: tuple[list[tuple[Path, int]], Path], tmp_path: Path
) -> None:
    segments, bed = parts
    (first, frames), *rest = segments
    out = tmp_path / "video.mp4"
    shown = f"frames 0 to {frames - 1}, not its {frames + 1} frames"
    with pytest.raises(EncodeError, match=f"segment 0 shows {shown}"):
        join([(first, frames + 1), *rest], bed, out)
    assert not out.exists()


def test_a_track_without_sound_is_refused(
    parts: tuple[list[tuple[Path, int]], Path], tmp_path: Path
) -> None:
    segments, _ = parts
    out = tmp_path / "video.mp4"
    with pytest.raises(EncodeError, match="no audio stream"):
        join(segments, segments[0][0], out)
    with pytest.raises(EncodeError, match="cannot join"):
        join(segments, tmp_path / "missing.m4a", out)
    assert not out.exists()
