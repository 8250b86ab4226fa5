"""Preview frames against the real thing: a real render decoded by real ffmpeg."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from renderers import render
from renderers.errors import RenderError
from renderers.preview import Preview, frame_at, poster_of
from renderers.templates import TemplateBundle, load_bundle
from renderers.video.formats import FPS
from tests.factories import make_bill
from tests.realparts import require
from tests.videokit import decoded_luma, luma, luma_difference

SIZE = (1280, 720)
# x264 at crf 22 loses little: a decoded frame's luma is within half a step of the picture
# sent, on average over the frame; the next frame of a fade or a count differs by more.
ENCODED_TOLERANCE = 0.75


@pytest.fixture(scope="module")
def quick() -> TemplateBundle:
    """The shipped template with one-second scenes: every scene and layer, short."""
    bundle = load_bundle("bill-explainer")
    scenes = [scene.model_copy(update={"duration": 1.0}) for scene in bundle.spec.scenes]
    return dataclasses.replace(bundle, spec=bundle.spec.model_copy(update={"scenes": scenes}))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, quick: TemplateBundle) -> Path:
    require("ffmpeg")
    out = tmp_path_factory.mktemp("real") / "it"
    render(make_bill(), quick, ["video"], out)
    return out


def test_frames_equal_the_real_renders_decoded_frames(
    rendered: Path, quick: TemplateBundle
) -> None:
    preview = Preview(make_bill(), quick)
    assert preview.frames == 8 * FPS  # eight one-second scenes, no narration
    # a fade, a slide, the counter ticking, a settled card, bars growing, the end
    times = [0.0, 0.95, 2.1, 2.6, 3.3, 6.8, 7.99]
    moving = {0.0, 0.95, 2.1}
    indices = [preview.frame_index(t) for t in times]
    decoded = decoded_luma(rendered / "video.mp4", SIZE, indices)
    for t, index, real in zip(times, indices, decoded, strict=True):
        still = frame_at(make_bill(), quick, t)
        assert (still.frame, still.image.size) == (index, SIZE)
        assert luma_difference(luma(still.image), real) < ENCODED_TOLERANCE, t
        if t in moving:  # and the comparison can fail: the next frame is another picture
            after = luma(preview.frame(index + 1).image)
            assert luma_difference(after, real) > ENCODED_TOLERANCE, t


def test_a_still_knows_where_it_stands(quick: TemplateBundle) -> None:
    still = frame_at(make_bill(), quick, 2.5)
    assert (still.scene, still.index, still.start, still.end) == ("total", 2, 2.0, 3.0)
    assert still.duration == 8.0 and still.time == 2.5 and still.frame == 75
    assert [s.id for s in still.scenes] == [
        "intro", "greeting", "total", "breakdown", "consumption", "tip", "ending", "outro"
    ]  # fmt: skip
    assert [s.start for s in still.scenes] == [float(i) for i in range(8)]
    # times outside the video are clamped to it; nonsense is refused
    assert frame_at(make_bill(), quick, -3).frame == 0
    assert frame_at(make_bill(), quick, 1e9).frame == 8 * FPS - 1
    with pytest.raises(RenderError, match="finite"):
        frame_at(make_bill(), quick, float("nan"))


def test_scenes_whose_when_is_false_are_not_in_the_scrubber(quick: TemplateBundle) -> None:
    bill = make_bill(drop=["bill.lines", "bill.consumption"])
    ids = [s.id for s in Preview(bill, quick).scenes]
    assert "breakdown" not in ids and "consumption" not in ids and ids[0] == "intro"


def test_the_poster_is_the_renders_poster(rendered: Path, quick: TemplateBundle) -> None:
    with Image.open(rendered / "poster.jpg") as jpeg:
        real = jpeg.convert("RGB")
    poster = poster_of(make_bill(), quick)
    assert poster.scene == "total"
    assert luma_difference(luma(poster.image), luma(real)) < 0.5  # JPEG at quality 88
    # the comparison can fail: the counter still counting is another picture
    assert luma_difference(luma(frame_at(make_bill(), quick, 2.1).image), luma(real)) > 1.0


def test_other_formats(quick: TemplateBundle) -> None:
    for name, size in {"9:16": (720, 1280), "1:1": (1080, 1080)}.items():
        assert poster_of(make_bill(), quick, name).image.size == size
    with pytest.raises(RenderError, match="video_format"):
        poster_of(make_bill(), quick, "4:3")
