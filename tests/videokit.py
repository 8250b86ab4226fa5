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


def decoded_frames(
    video: Path, size: tuple[int, int], indices: list[int] | None = None
) -> list[Image.Image]:
    """Frames of the video as RGB images of `size` (scaled when it is not the video's),
    decoded by real ffmpeg at a constant 30 fps (BT.709, limited range, as encoded): the
    frames at `indices` (in that order, none repeated), or every frame."""
    chain = [f"fps={FPS}"]
    if indices is not None:
        chain.append("select='" + "+".join(f"eq(n\\,{i})" for i in sorted(indices)) + "'")
    chain.append(f"scale={size[0]}:{size[1]}:in_color_matrix=bt709:in_range=tv:flags=area")
    chain.append("format=rgb24")
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", ",".join(chain),
         "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    step = size[0] * size[1] * 3
    frames = [Image.frombytes("RGB", size, raw[i : i + step]) for i in range(0, len(raw), step)]
    if indices is None:
        return frames
    by_index = dict(zip(sorted(indices), frames, strict=True))
    return [by_index[i] for i in indices]


def decoded_luma(video: Path, size: tuple[int, int], indices: list[int]) -> list[Any]:
    """The luma (Y) planes of the video's frames at `indices` (in that order, none
    repeated), decoded by real ffmpeg at a constant 30 fps, as uint8 arrays: the very
    values the encoder was sent, less what coding lost."""
    import numpy as np

    chain = f"fps={FPS},select='" + "+".join(f"eq(n\\,{i})" for i in sorted(indices)) + "'"
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", chain, "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    width, height = size
    step = width * height * 3 // 2
    planes = [
        np.frombuffer(raw[i : i + width * height], dtype=np.uint8).reshape(height, width)
        for i in range(0, len(raw), step)
    ]
    by_index = dict(zip(sorted(indices), planes, strict=True))
    return [by_index[i] for i in indices]


def luma(image: Image.Image) -> Any:
    """The image's luma plane as the encoder is sent it (renderers/video/yuv.py)."""
    from renderers.video.yuv import Planes

    planes = Planes(image.width, image.height)
    planes.update(image.convert("RGB"))
    return planes.y.copy()


def luma_difference(a: Any, b: Any) -> float:
    """The mean absolute difference of two luma planes."""
    import numpy as np

    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
