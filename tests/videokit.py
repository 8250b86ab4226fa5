"""Helpers for the video tests: plan a bill's scenes and compose frames without encoding."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from renderers.ffmpeg import ffmpeg_exe
from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle
from renderers.video import Job, Planned, plan_video
from renderers.video.compose import scene_runs
from renderers.video.formats import FPS


def plan(
    bill: Mapping[str, Any], bundle: TemplateBundle, workdir: Path, video_format: str = "16:9"
) -> list[Planned]:
    facts = bill_facts(bill, bundle.locale)
    narration = bundle.narration.filled(facts.locale, facts.placeholders())
    job = Job(bundle.name, bundle.spec, bundle.scenes_dir,
              bundle.narration.for_locale(facts.locale))  # fmt: skip
    _, planned, _ = plan_video(bill, facts, job, narration, workdir, video_format=video_format)
    return planned


def settled(p: Planned) -> Image.Image:
    """The scene's longest-held frame: everything entered, nothing leaving."""
    return max(scene_runs(p.scene, p.layers, p.frames, p.ctx), key=lambda r: r.count).image


def gray_means(video: Path, size: tuple[int, int]) -> list[float]:
    """Each frame's mean grey level, decoded by real ffmpeg at a constant 30 fps."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", f"fps={FPS}", "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    pixels = size[0] * size[1]
    return [sum(raw[i : i + pixels]) / pixels for i in range(0, len(raw), pixels)]
