"""The baseline: the same story composed the straightforward way with MoviePy 2 (one clip
per layer, CompositeVideoClip per scene, concatenate, write_videofile), same encoder settings.

    .venv/bin/python benchmarks/moviepy_baseline.py BILL.json WORKDIR

Layer images come from the same layer drawers as billreel, so the difference measured is the
composition and encoding strategy, not the drawing. Prints one JSON line of measurements.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from moviepy import (
    AudioClip,
    ColorClip,
    CompositeVideoClip,
    ImageClip,
    VideoClip,
    concatenate_videoclips,
    vfx,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.videobench import Meter
from renderers.story import facts as bill_facts
from renderers.templates import load_bundle
from renderers.video import Job, plan_video
from renderers.video.layers import kind_of

FPS = 30


def _layer_clip(layer: Any, ctx: Any, seconds: float) -> Any:
    x, y, w, h = layer.box_for(ctx.fmt)
    kind = kind_of(layer)
    motion = kind.motion(layer)
    if motion > 0:

        def rgba(t: float) -> np.ndarray:
            p = min(1.0, max(0.0, (t - layer.at) / motion))
            return np.asarray(kind.draw(layer, ctx, (w, h), p))

        clip = VideoClip(lambda t: rgba(t)[..., :3], duration=seconds)
        clip = clip.with_mask(
            VideoClip(lambda t: rgba(t)[..., 3] / 255.0, is_mask=True, duration=seconds)
        )
    else:
        clip = ImageClip(np.asarray(kind.draw(layer, ctx, (w, h), 1.0)), transparent=True,
                         duration=seconds)  # fmt: skip
    clip = clip.with_position((x, y))
    if layer.enter is not None:
        clip = clip.with_effects([vfx.CrossFadeIn(layer.enter.duration)])
    return clip


def main() -> None:
    bill_file, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    bundle = load_bundle("bill-explainer")
    bill = json.loads(bill_file.read_text(encoding="utf-8"))
    with Meter() as m:
        facts = bill_facts(bill, bundle.locale)
        job = Job(bundle.name, bundle.spec, bundle.scenes_dir,
                  bundle.narration.for_locale(facts.locale))  # fmt: skip
        narration = bundle.narration.filled(facts.locale, facts.placeholders())
        fmt, planned, _ = plan_video(bill, facts, job, narration, workdir)
        scenes = []
        for p in planned:
            seconds = p.frames / FPS
            bg = ColorClip((fmt.width, fmt.height), color=(15, 42, 61), duration=seconds)
            clips = [bg, *(_layer_clip(layer, p.ctx, seconds) for layer in p.layers)]
            fade = p.scene.transition.duration
            scene = CompositeVideoClip(clips, size=(fmt.width, fmt.height)).with_duration(seconds)
            scenes.append(scene.with_effects([vfx.FadeIn(fade), vfx.FadeOut(fade)]))
        video = concatenate_videoclips(scenes)
        tone = AudioClip(lambda t: 0.04 * np.sin(2 * np.pi * 220 * t), duration=video.duration,
                         fps=48000)  # fmt: skip
        video = video.with_audio(tone)
        video.write_videofile(
            str(workdir / "video.mp4"), fps=FPS, codec="libx264", preset="veryfast",
            audio_codec="aac", audio_fps=48000, ffmpeg_params=["-crf", "22", "-pix_fmt",
            "yuv420p", "-profile:v", "high", "-movflags", "+faststart"], logger=None,
            temp_audiofile_path=str(workdir),  # not the current directory: runs in parallel
        )  # fmt: skip
        seconds_total = float(video.duration)
    print(json.dumps({"cpu": m.cpu, "wall": m.wall, "peak_mb": m.peak_mb,
                      "seconds": seconds_total}))  # fmt: skip


if __name__ == "__main__":
    main()
