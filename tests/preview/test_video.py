"""A preview video of a sample: a real render, stamped."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

from app.preview import preview_video
from renderers.templates import TemplateBundle
from tests.realparts import require
from tests.videokit import decoded_frames


def test_a_preview_video_is_the_samples_stamped(shipped: TemplateBundle, tmp_path: Path) -> None:
    require("ffmpeg")
    scenes = [scene.model_copy(update={"duration": 1.0}) for scene in shipped.spec.scenes
              if scene.id in {"greeting", "total"}]  # fmt: skip
    quick = dataclasses.replace(shipped, spec=shipped.spec.model_copy(update={"scenes": scenes}))
    out = preview_video(quick, "thanks", "fr", tmp_path / "preview", video_format="1:1")
    assert out.video is not None and out.poster is not None and out.site is None
    first = decoded_frames(out.video, (270, 270), [0])[0]  # fading in from the background
    with Image.open(out.poster) as poster:
        for picture in (first, poster.reduce(4)):
            badge = np.asarray(picture.convert("RGB").crop((8, 8, 40, 18)), dtype=np.int16)
            assert ((badge[..., 0] > 150) & (badge[..., 1] < 90)).mean() > 0.5  # the badge
