"""Helpers for the video tests: plan a bill's scenes and compose frames without encoding."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle
from renderers.video import Job, Planned, plan_video
from renderers.video.compose import scene_runs


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
