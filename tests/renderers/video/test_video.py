"""The video: real ffmpeg and ffprobe; a few short renders, checked from the outside."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import webvtt
from PIL import Image

from renderers import render
from renderers.errors import EncodeError, RenderError
from renderers.templates import TemplateBundle, load_bundle
from renderers.video.encode import ffmpeg_exe
from renderers.video.formats import FPS
from tests.factories import make_bill
from tests.paths import EXAMPLES
from tests.realparts import mp4_top_level_boxes, require

Probe = Callable[[str | Path], dict[str, Any]]
FORMATS = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (1080, 1080)}


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle("bill-explainer")


@pytest.fixture(scope="module")
def quick(bundle: TemplateBundle) -> TemplateBundle:
    """The same template with one-second scenes: every scene and layer, a quarter the frames."""
    scenes = [scene.model_copy(update={"duration": 1.0}) for scene in bundle.spec.scenes]
    return dataclasses.replace(bundle, spec=bundle.spec.model_copy(update={"scenes": scenes}))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, bundle: TemplateBundle) -> Path:
    require("ffmpeg")
    workdir = tmp_path_factory.mktemp("renders") / "it"
    render(example("it_overdue"), bundle, ["video"], workdir)
    return workdir


def _streams(info: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    return video, audio


def _check_format(path: Path, size: tuple[int, int], ffprobe: Probe) -> dict[str, Any]:
    info = ffprobe(path)
    video, audio = _streams(info)
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (*size, "30/1")
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")
    boxes = mp4_top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: playable while loading
    return info


def test_video_format(rendered: Path, ffprobe: Probe) -> None:
    info = _check_format(rendered / "video.mp4", FORMATS["16:9"], ffprobe)
    video, _ = _streams(info)
    # intro 2 + greeting 3 + total 4.5 + breakdown 4.5 + consumption 5 + tip 4 + ending 5
    # + outro 2 = 30 s, shown at 30 fps, none dropped in the joins
    assert len(_framemd5(rendered / "video.mp4")) == 900
    # each distinct image is coded once and held by its timestamps (a variable frame rate)
    assert int(video["nb_frames"]) < 900 / 2
    assert 29.9 <= float(info["format"]["duration"]) <= 30.1


@pytest.mark.parametrize("video_format", ["9:16", "1:1"])
def test_other_formats_from_the_same_scenes(
    video_format: str, quick: TemplateBundle, tmp_path: Path, ffprobe: Probe
) -> None:
    require("ffmpeg")
    render(make_bill(), quick, ["video"], tmp_path / "out", video_format=video_format)
    _check_format(tmp_path / "out" / "video.mp4", FORMATS[video_format], ffprobe)
    with Image.open(tmp_path / "out" / "poster.jpg") as poster:
        assert poster.size == FORMATS[video_format]


def test_unknown_format_is_a_render_error(bundle: TemplateBundle, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="video_format"):
        render(make_bill(), bundle, ["video"], tmp_path, video_format="4:3")


OUTPUTS = ["captions.vtt", "chapters.vtt", "poster.jpg", "video.mp4"]


def test_workdir_holds_only_outputs(rendered: Path) -> None:
    assert sorted(p.name for p in rendered.iterdir()) == OUTPUTS


def _mean_volume(path: Path, start: float, end: float) -> float:
    """The mean level (dB) of the audio between `start` and `end` seconds."""
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-ss", str(start), "-to", str(end),
           "-i", str(path), "-map", "0:a", "-af", "volumedetect", "-f", "null", "-"]  # fmt: skip
    log = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    found = re.search(r"mean_volume: (-?[\d.]+|-inf) dB", log)
    assert found, log
    return float(found.group(1))


@pytest.fixture(scope="module")
def narrated(tmp_path_factory: pytest.TempPathFactory, quick: TemplateBundle) -> Path:
    """One-second scenes read aloud: narration stretches every scene that speaks."""
    require("ffmpeg")
    from renderers.voice import voice_by_name

    out = tmp_path_factory.mktemp("narrated") / "out"
    render(example("fr_open"), quick, ["video"], out, voice=voice_by_name("espeak"))
    return out


def test_a_narrated_render_leaves_only_outputs_and_has_the_music_bed(
    quick: TemplateBundle, narrated: Path
) -> None:
    """Narration clips, the mixed track and segments go to a temporary directory of the
    render's own; the template's music plays where nobody speaks (the intro)."""
    out = narrated
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert quick.spec.audio.music == "assets/music.ogg"
    assert _mean_volume(out / "video.mp4", 0.1, 0.9) > -45  # the bed, not silence
    spoken = (out / "captions.vtt").read_text(encoding="utf-8")
    assert "Bonjour" in spoken and "FA-2026" not in spoken  # the bill number is not read


def test_shared_scenes_are_cached_next_to_the_workdir(rendered: Path) -> None:
    entries = list((rendered.parent / ".billreel-scene-cache").iterdir())
    # intro and outro, and the generated audio bed (AAC, encoded once per length)
    assert sorted(p.suffix for p in entries) == [".m4a", ".mp4", ".mp4"]


def test_poster_is_the_settled_amount(rendered: Path) -> None:
    with Image.open(rendered / "poster.jpg") as poster:
        assert poster.format == "JPEG" and poster.size == (1280, 720)
        # the amount's white digits are on it (the counter has finished)
        middle = poster.convert("L").crop((300, 250, 980, 420))
        assert middle.getextrema()[1] > 200


def test_captions_follow_the_scenes(rendered: Path) -> None:
    text = (rendered / "captions.vtt").read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n")
    spans = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)", text)
    assert len(spans) == 8
    times = [
        (int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000)
        for span in spans
        for h, m, s, ms in (span[:4], span[4:])
    ]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] == 30.0
    cues = text.split("\n\n")[1:]
    assert "Ciao Giulia Rossi" in cues[1]
    assert "84,20\u00a0€" in cues[2] and "31\u00a0ottobre\u00a02026" in cues[2]
    assert "Energia: 52,10\u00a0€" in cues[3]


def test_chapters_are_the_scenes_as_narration_stretched_them(
    quick: TemplateBundle, narrated: Path, ffprobe: Probe, tmp_path: Path
) -> None:
    """One titled cue per scene shown, starting and ending where the scene does (within a
    frame), in the customer's language, and ending with the video itself."""
    from renderers.story import facts as bill_facts
    from renderers.video import Job, plan_video
    from renderers.voice import voice_by_name

    bill = example("fr_open")
    facts = bill_facts(bill, quick.locale)
    narration = quick.narration.filled(facts.locale, facts.placeholders())
    job = Job(quick.name, quick.spec, quick.scenes_dir, quick.narration.for_locale(facts.locale))
    _, planned, _ = plan_video(bill, facts, job, narration, tmp_path,
                               voice=voice_by_name("espeak"))  # fmt: skip
    cues = webvtt.read(str(narrated / "chapters.vtt")).captions
    frame = 1 / FPS
    assert [c.identifier for c in cues] == [p.scene.id for p in planned]
    for cue, p in zip(cues, planned, strict=True):
        assert abs(cue.start_time.in_milliseconds() / 1000 - p.start / FPS) <= frame, cue
        assert abs(cue.end_time.in_milliseconds() / 1000 - (p.start + p.frames) / FPS) <= frame
    assert max(p.frames for p in planned) > FPS  # narration made some scene longer than 1 s
    duration = float(ffprobe(narrated / "video.mp4")["format"]["duration"])
    assert abs(cues[-1].end_time.in_milliseconds() / 1000 - duration) <= frame
    french = quick.narration.by_locale["fr"]
    assert [c.text for c in cues] == [french[f"chapters.{p.scene.id}"] for p in planned]


def _framemd5(path: Path) -> list[str]:
    """A hash of each frame as a player shows it, at 30 fps."""
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v", "-vf", f"fps={FPS}",
         "-f", "framemd5", "-"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return [line for line in out.stdout.splitlines() if not line.startswith("#")]


def test_same_bill_same_frames(quick: TemplateBundle, tmp_path: Path) -> None:
    # Two fresh caches: the shared scenes are drawn and encoded twice too, and must not differ.
    bill = make_bill(**{"customer.locale": "ar-EG"})  # right to left, every scene
    first, second = tmp_path / "1" / "out", tmp_path / "2" / "out"
    for workdir in (first, second):
        render(bill, quick, ["video"], workdir)
    hashes = _framemd5(first / "video.mp4")
    assert len(hashes) == 8 * 30 and hashes == _framemd5(second / "video.mp4")
    assert (first / "poster.jpg").read_bytes() == (second / "poster.jpg").read_bytes()


def test_ffmpeg_failure_is_an_encode_error(
    bundle: TemplateBundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLREEL_FFMPEG", require("false"))
    with pytest.raises(EncodeError, match="status 1"):
        render(example("en_paid"), bundle, ["video"], tmp_path / "out")
    assert not (tmp_path / "out" / "video.mp4").exists()
