"""The video: real ffmpeg and ffprobe; a few short renders, checked from the outside."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from renderers import render
from renderers.errors import EncodeError
from renderers.templates import TemplateBundle, load_bundle
from renderers.video.encode import ffmpeg_exe
from tests.realparts import mp4_top_level_boxes, require

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
Probe = Callable[[str | Path], dict[str, Any]]


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle("bill-explainer")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, bundle: TemplateBundle) -> Path:
    require("ffmpeg")
    workdir = tmp_path_factory.mktemp("it")
    render(example("it_overdue"), bundle, ["video"], workdir)
    return workdir


def test_video_format(rendered: Path, ffprobe: Probe) -> None:
    info = ffprobe(rendered / "video.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (1280, 720, "30/1")
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")
    assert 12.0 <= float(info["format"]["duration"]) <= 20.0
    assert int(video["nb_frames"]) == 525  # 17.5 s of cards at 30 fps, none dropped
    boxes = mp4_top_level_boxes(rendered / "video.mp4")
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: playable while loading


def test_workdir_holds_only_outputs(rendered: Path) -> None:
    assert sorted(p.name for p in rendered.iterdir()) == ["captions.vtt", "poster.jpg", "video.mp4"]


def test_poster(rendered: Path) -> None:
    with Image.open(rendered / "poster.jpg") as poster:
        assert poster.format == "JPEG" and poster.size == (1280, 720)


def test_captions_follow_the_cards(rendered: Path) -> None:
    text = (rendered / "captions.vtt").read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n")
    spans = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)", text)
    assert len(spans) == 4
    times = [
        (int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000)
        for span in spans
        for h, m, s, ms in (span[:4], span[4:])
    ]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] == 17.5
    cues = text.split("\n\n")[1:]
    assert "Ciao Giulia Rossi" in cues[0]
    assert "84,20\u00a0€" in cues[1] and "31\u00a0ottobre\u00a02026" in cues[1]
    assert "Energia: 52,10\u00a0€" in cues[2]


def _framemd5(path: Path) -> list[str]:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "framemd5", "-"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return [line for line in out.stdout.splitlines() if not line.startswith("#")]


def test_same_bill_same_frames(rendered: Path, bundle: TemplateBundle, tmp_path: Path) -> None:
    render(example("it_overdue"), bundle, ["video"], tmp_path)
    first, second = _framemd5(rendered / "video.mp4"), _framemd5(tmp_path / "video.mp4")
    assert len(first) > 500 and first == second
    assert (rendered / "poster.jpg").read_bytes() == (tmp_path / "poster.jpg").read_bytes()


def test_ffmpeg_failure_is_an_encode_error(
    bundle: TemplateBundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLREEL_FFMPEG", require("false"))
    bill = copy.deepcopy(example("en_paid"))
    with pytest.raises(EncodeError, match="status 1"):
        render(bill, bundle, ["video"], tmp_path)
    assert not (tmp_path / "video.mp4").exists()
