"""A preview video is stamped on every frame and its poster; a real one never is, and the
two never share a cached scene. Real renders and real ffmpeg."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from renderers import render
from renderers.errors import RenderError
from renderers.preview import frame_at
from renderers.templates import TemplateBundle, load_bundle
from renderers.video.formats import FPS
from renderers.video.stamp import check_stamp
from tests.factories import make_bill
from tests.realparts import require
from tests.videokit import decoded_frames

SMALL = (180, 320)  # 9:16 decoded at a quarter: every frame, cheaply
BADGE = (8, 8, 48, 20)  # inside the stamp's badge at that scale (top left corner)


def _badge_shows(image: Image.Image) -> bool:
    """The red badge is there: most of its part of the picture is red (white letters on
    it; the scenes have no red)."""
    rgb = np.asarray(image.convert("RGB").crop(BADGE), dtype=np.int16)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    return bool(red.mean() > 0.5)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, TemplateBundle]:
    """A stamped render, then a real one of the same bill, sharing one scene cache."""
    require("ffmpeg")
    bundle = load_bundle("bill-explainer")
    # three one-second scenes: shared ones (cached) around a personal one
    scenes = [scene.model_copy(update={"duration": 1.0}) for scene in bundle.spec.scenes
              if scene.id in {"intro", "total", "outro"}]  # fmt: skip
    quick = dataclasses.replace(bundle, spec=bundle.spec.model_copy(update={"scenes": scenes}))
    root = tmp_path_factory.mktemp("stamp")
    stamped, real = root / "preview", root / "real"
    render(make_bill(), quick, ["video"], stamped, video_format="9:16", stamp="PREVIEW")
    render(make_bill(), quick, ["video"], real, video_format="9:16")
    return stamped, real, quick


def test_every_frame_of_a_preview_carries_the_stamp(
    videos: tuple[Path, Path, TemplateBundle],
) -> None:
    stamped, _, _ = videos
    frames = decoded_frames(stamped / "video.mp4", SMALL)
    assert len(frames) == 3 * FPS
    assert all(_badge_shows(frame) for frame in frames)
    with Image.open(stamped / "poster.jpg") as poster:
        assert _badge_shows(poster.reduce(4))


def test_the_stamp_covers_the_picture_not_only_a_corner(
    videos: tuple[Path, Path, TemplateBundle],
) -> None:
    """The word repeats over the whole frame: cropping the badge away leaves it."""
    stamped, real, _ = videos
    indices = [0, 45, 60, 89]  # fading in, the amount, the outro, the last frame
    size = (720, 1280)
    mine_all = decoded_frames(stamped / "video.mp4", size, indices)
    theirs_all = decoded_frames(real / "video.mp4", size, indices)
    for mine, theirs in zip(mine_all, theirs_all, strict=True):
        diff = np.abs(np.asarray(mine, np.int16) - np.asarray(theirs, np.int16)).max(axis=2)
        for quarter in (diff[640:, :360], diff[640:, 360:], diff[300:640, :]):
            assert (quarter > 40).mean() > 0.02  # the rows' letters, in every part


def test_a_real_render_next_to_a_preview_is_not_stamped(
    videos: tuple[Path, Path, TemplateBundle],
) -> None:
    """Rendered after the preview with the same cache: its shared scenes (intro, outro)
    are its own entries, not the stamped ones."""
    stamped, real, _ = videos
    assert not any(_badge_shows(frame) for frame in decoded_frames(real / "video.mp4", SMALL))
    with Image.open(real / "poster.jpg") as poster:
        assert not _badge_shows(poster.reduce(4))
    cache = stamped.parent / ".billreel-scene-cache"
    assert len(list(cache.glob("*.mp4"))) == 4  # intro and outro, stamped and not


def test_a_still_can_be_stamped_too(videos: tuple[Path, Path, TemplateBundle]) -> None:
    _, _, quick = videos
    still = frame_at(make_bill(), quick, 1.5, "9:16", stamp="PREVIEW")
    assert _badge_shows(still.image.reduce(4))
    assert not _badge_shows(frame_at(make_bill(), quick, 1.5, "9:16").image.reduce(4))


def test_a_stamp_is_short_printable_text() -> None:
    assert check_stamp(" PREVIEW ") == "PREVIEW"
    for bad in ["", "   ", "x" * 25, "PRE\nVIEW"]:
        with pytest.raises(RenderError, match="stamp"):
            check_stamp(bad)
