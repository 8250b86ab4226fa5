"""The frames the encoder is sent: yuv420p made in Pillow, updated only where a run changed.

Checked against real ffmpeg's own conversion, and against a full conversion of every frame
of real scenes (every layer type, enter and exit animations, scene fades, right to left);
frames drawn over the one before are checked against frames composed afresh.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from renderers.templates import TemplateBundle, load_bundle
from renderers.video.compose import BOX_COST_PX, Run, _parts, draw_runs, scene_plan
from renderers.video.encode import ffmpeg_exe, sent
from renderers.video.formats import Format
from renderers.video.yuv import Planes
from tests.factories import make_bill
from tests.realparts import require
from tests.videokit import plan

WIDTH, HEIGHT = 320, 180


def _swscale(image: Image.Image) -> tuple[bytes, bytes, bytes]:
    """ffmpeg's own rgb24 -> yuv420p conversion, BT.709 limited range."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size",
         f"{image.width}x{image.height}", "-i", "-", "-vf",
         "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p", "-f", "rawvideo", "-"],
        input=image.tobytes(), capture_output=True, check=True,
    ).stdout  # fmt: skip
    luma, chroma = image.width * image.height, image.width * image.height // 4
    return raw[:luma], raw[luma : luma + chroma], raw[luma + chroma :]


def _blocks(size: tuple[int, int], seed: int) -> Image.Image:
    """Flat 16x16 blocks of random colours: chroma is defined on every block."""
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 16):
        for y in range(0, size[1], 16):
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.rectangle((x, y, x + 15, y + 15), fill=colour)
    return image


def _max_step(a: bytes, b: bytes, width: int, inner: bool = False) -> int:
    """The largest difference between two planes; `inner`: only at chroma samples two or
    more away from a block's edge (swscale's chroma filter reaches across it, a 2x2 average
    does not)."""
    assert len(a) == len(b)
    return max(
        abs(x - y)
        for i, (x, y) in enumerate(zip(a, b, strict=True))
        if not inner or (2 <= i % width % 8 <= 5 and 2 <= i // width % 8 <= 5)
    )


def _split(frame: memoryview) -> tuple[bytes, bytes, bytes]:
    """A yuv420p frame's Y, Cb and Cr planes."""
    raw = bytes(frame)
    luma, chroma = WIDTH * HEIGHT, WIDTH * HEIGHT // 4
    assert len(raw) == luma + 2 * chroma
    return raw[:luma], raw[luma : luma + chroma], raw[luma + chroma :]


def _agrees(frame: memoryview, theirs: tuple[bytes, bytes, bytes], tolerance: int) -> None:
    ours = _split(frame)
    assert _max_step(ours[0], theirs[0], WIDTH) <= tolerance
    for mine, its in zip(ours[1:], theirs[1:], strict=True):
        assert _max_step(mine, its, WIDTH // 2, inner=True) <= tolerance


def test_conversion_agrees_with_ffmpeg() -> None:
    require("ffmpeg")
    for seed in (1, 2):
        image = _blocks((WIDTH, HEIGHT), seed)
        planes = Planes(WIDTH, HEIGHT)
        planes.update(image)
        _agrees(planes.frame(), _swscale(image), 1)


def test_a_fade_on_the_planes_is_the_picture_faded_in_rgb() -> None:
    require("ffmpeg")
    image = _blocks((WIDTH, HEIGHT), 3)
    planes = Planes(WIDTH, HEIGHT)
    planes.update(image)
    for fade, background in ((0.25, "#0b3d5c"), (0.5, "#ffffff"), (0.875, "#f4f1ea")):
        faded_rgb = Image.blend(Image.new("RGB", image.size, background), image, fade)
        _agrees(planes.frame(fade, background), _swscale(faded_rgb), 2)


def test_only_the_changed_boxes_are_converted() -> None:
    before, after = _blocks((WIDTH, HEIGHT), 3), _blocks((WIDTH, HEIGHT), 4)
    planes = Planes(WIDTH, HEIGHT)
    planes.update(before)
    # odd edges: grown to whole chroma samples
    planes.update(after, [(9, 5, 40, 31), (100, 151, 133, 170)])
    expected = before.copy()
    expected.paste(after.crop((8, 4, 40, 32)), (8, 4))
    expected.paste(after.crop((100, 150, 134, 170)), (100, 150))
    reference = Planes(WIDTH, HEIGHT)
    reference.update(expected)
    assert bytes(planes.frame()) == bytes(reference.frame())
    planes.update(before, ())  # nothing changed: nothing converted
    planes.update(before, [(7, 7, 7, 30)])  # nor in an empty box
    assert bytes(planes.frame()) == bytes(reference.frame())


def test_odd_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        Planes(321, 180)
    with pytest.raises(ValueError, match="frame"):
        Planes(WIDTH, HEIGHT).update(Image.new("RGB", (10, 10)))


@pytest.fixture(scope="module")
def bundle() -> TemplateBundle:
    return load_bundle("bill-explainer")


@pytest.mark.parametrize(
    ("locale", "video_format"), [("it-IT", "16:9"), ("ar-EG", "9:16"), ("en-US", "1:1")]
)
def test_changed_boxes_hold_every_change_of_real_scenes(
    bundle: TemplateBundle, tmp_path: Path, locale: str, video_format: str
) -> None:
    """Frame by frame, the planes kept up to date box by box equal a full conversion of the
    composed frame: no layer ever moves outside the box its run says changed. A scene's
    first run, converted over a plain frame only where its layers show, too. A fading frame
    faded only where it has content equals the whole frame faded."""
    bill = make_bill(**{"customer.locale": locale})
    frames = fades = partial = starts = 0
    for p in plan(bill, bundle, tmp_path, video_format):
        incremental = Planes(p.ctx.fmt.width, p.ctx.fmt.height, buffers=3)  # a ring, as piped
        for run in draw_runs(scene_plan(p.scene, p.layers, p.frames), p.layers, p.ctx):
            if run.cleared is not None:
                incremental.clear(run.cleared)
                area = sum((r - x) * (b - y) for x, y, r, b in run.changed or ())
                starts += area < p.ctx.fmt.width * p.ctx.fmt.height // 2
            incremental.update(run.canvas, run.changed)
            full = Planes(p.ctx.fmt.width, p.ctx.fmt.height)
            full.update(run.canvas)
            assert bytes(incremental.frame()) == bytes(full.frame()), (p.scene.id, frames)
            if run.fade < 1.0:  # faded in its content boxes only: the same as faded whole
                whole = bytes(full.frame(run.fade, run.background))  # the view is reused
                assert bytes(full.frame(run.fade, run.background, run.content)) == whole
                # and so is a fade made over the last one, put back only where it changed
                again = incremental.frame(run.fade, run.background, run.content)
                assert bytes(again) == whole, (p.scene.id, frames)
                fades += 1
                covered = sum((r - x) * (b - y) for x, y, r, b in run.content or ())
                partial += covered < p.ctx.fmt.width * p.ctx.fmt.height // 2
            frames += 1
    assert frames > 100 and fades > 30  # animations and fades were there to check
    assert partial > 10  # the plain background is left out of the boxes a fade touches
    assert starts >= 4  # and out of the boxes a scene's first run converts


@pytest.mark.parametrize(
    ("locale", "video_format"), [("de-DE", "16:9"), ("he-IL", "1:1"), ("th-TH", "9:16")]
)
def test_frames_drawn_in_place_equal_frames_drawn_afresh(
    bundle: TemplateBundle, tmp_path: Path, locale: str, video_format: str
) -> None:
    """Each run is drawn over the one before (the base put back only where layers were, the
    sprites cut to their visible pixels): it must equal the same frame composed from an
    empty canvas."""
    bill = make_bill(**{"customer.locale": locale})
    runs = 0
    for p in plan(bill, bundle, tmp_path, video_format):
        steps = scene_plan(p.scene, p.layers, p.frames)
        for i, run in enumerate(draw_runs(steps, p.layers, p.ctx)):
            afresh = next(draw_runs(steps[i : i + 1], p.layers, p.ctx))
            assert run.canvas.tobytes() == afresh.canvas.tobytes(), (p.scene.id, i)
            runs += 1
    assert runs > 100


def test_changes_far_apart_get_boxes_of_their_own() -> None:
    """The tops of growing bars change in thin bands far apart: a box each, not one box
    over the whole chart; parts close together share a box when that costs less."""
    differs = np.zeros((400, 600), dtype=bool)
    differs[300:304, 10:50] = True  # a short bar's top
    differs[40:44, 300:340] = True  # a tall bar's, far to the right
    differs[42:46, 342:380] = True  # its neighbour, two columns away
    assert _parts(differs) == [(10, 300, 50, 304), (300, 40, 380, 46)]
    assert _parts(np.zeros((4, 4), dtype=bool)) == []
    merged = np.zeros((400, 600), dtype=bool)
    merged[100:104, 10:50] = merged[120:124, 60:100] = True  # 10 columns apart, 20 rows
    assert _parts(merged) == [(10, 100, 100, 124)]
    assert BOX_COST_PX > (100 - 10) * (124 - 100) - 2 * 40 * 4


def test_a_fade_after_a_change_puts_back_what_left_its_content() -> None:
    """A fade is made over the last one: where a layer left (its old box, no longer content)
    the frame must show the background again, not the layer faded the frame before."""
    background = "#f4f1ea"
    before, after = (Image.new("RGB", (WIDTH, HEIGHT), background) for _ in range(2))
    left, right = (20, 20, 100, 80), (200, 60, 300, 160)
    ImageDraw.Draw(before).rectangle((20, 20, 99, 79), fill="#0b3d5c")
    ImageDraw.Draw(after).rectangle((200, 60, 299, 159), fill="#c0392b")
    planes = Planes(WIDTH, HEIGHT)
    planes.update(before)
    planes.frame(0.5, background, [left])
    planes.update(after, [left, right])  # the block moved
    reference = Planes(WIDTH, HEIGHT)
    reference.update(after)
    expected = bytes(reference.frame(0.75, background))
    assert bytes(planes.frame(0.75, background, [right])) == expected


def test_a_scene_holds_one_sprite_per_layer_while_its_bars_grow(
    bundle: TemplateBundle, tmp_path: Path
) -> None:
    """A layer's own motion only moves forward: the sprites of a motion it moved past are let
    go, so growing bars hold one sprite each at any time, not one per step of growth. The
    frames are the same as with every sprite kept (checked against frames drawn afresh)."""
    scenes = {p.scene.id: p for p in plan(make_bill(), bundle, tmp_path, "16:9")}
    p = scenes["consumption"]
    steps = scene_plan(p.scene, p.layers, p.frames)
    motions = {(i, state[1]) for (states, _), _ in steps for i, state in enumerate(states) if state}
    held = 0
    for i, run in enumerate(draw_runs(steps, p.layers, p.ctx)):
        sprites = [key[1] for key in p.ctx.memo if key[0] == "trimmed"]
        assert len(sprites) == len(set(sprites)), i  # one motion per layer
        held = max(held, len(sprites))
        if i % 5 == 0:
            afresh = next(draw_runs(steps[i : i + 1], p.layers, p.ctx))
            assert afresh.canvas.tobytes() == run.canvas.tobytes(), i
    assert len(motions) > held + 20  # the bars grew through many steps


def test_a_plain_frame_and_its_boxes_equal_the_whole_frame_converted() -> None:
    """A scene's first run is converted over a plain frame of its background, only where
    its layers show; a segment that ends on it shows it once more (closing the variable
    rate) as it was, not as the plain frame."""
    background = "#f4f1ea"
    canvas = Image.new("RGB", (WIDTH, HEIGHT), background)
    ImageDraw.Draw(canvas).rounded_rectangle((21, 13, 120, 77), 9, fill="#1d4ed8")
    whole = Planes(WIDTH, HEIGHT)
    whole.update(canvas)
    boxes = ((21, 13, 121, 78),)
    frames, _ = sent([Run(canvas, 30, changed=boxes, cleared=background)], [30],
                     Format("16:9", WIDTH, HEIGHT), variable_rate=True)  # fmt: skip
    shown = [bytes(frame) for frame in frames]
    assert shown == [bytes(whole.frame())] * 2
