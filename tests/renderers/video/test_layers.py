"""Each layer type draws: pixel checks on its sprite (no encoding)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pydantic import TypeAdapter

from renderers.templates import TemplateBundle, load_bundle
from renderers.video.animation import EASINGS, ease
from renderers.video.compose import scene_runs
from renderers.video.formats import FPS
from renderers.video.layers import REGISTRY, Layer, LayerBase, LayerContext, kind_of
from renderers.video.spec import Scene
from tests.factories import make_bill
from tests.paths import REPO_ROOT
from tests.realparts import require
from tests.videokit import plan

SIZE = (600, 300)
LAYER = TypeAdapter(Layer)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> LayerContext:
    bundle: TemplateBundle = load_bundle("bill-explainer")
    planned = plan(make_bill(), bundle, tmp_path_factory.mktemp("layers"))
    return next(p.ctx for p in planned if p.scene.id == "total")


def sprite(ctx: LayerContext, spec: dict[str, Any], p: float = 1.0) -> Image.Image:
    layer = LAYER.validate_python(spec)
    image = kind_of(layer).draw(layer, ctx, SIZE, p)
    assert image.mode == "RGBA" and image.size == SIZE
    return image


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    opaque = image.convert("RGBA")
    return {c[:3] for _, c in opaque.getcolors(1 << 20) or () if c[3] == 255}


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def test_every_layer_type_is_tested() -> None:
    tested = {"background", "text", "counter", "chart", "breakdown", "qr", "image", "progress"}
    assert set(REGISTRY) == tested


def test_every_layer_type_and_key_is_documented() -> None:
    doc = (REPO_ROOT / "docs" / "scenes.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in doc.splitlines() if line.startswith("| `")}
    for name, kind in REGISTRY.items():
        assert f"`{name}`" in rows, f"document the layer type {name} in docs/scenes.md"
        for key in set(kind.model.model_fields) - set(LayerBase.model_fields) - {"type"}:
            assert f"`{key}`" in rows[f"`{name}`"], f"document {name}.{key} in docs/scenes.md"
    for key in LayerBase.model_fields:
        assert f"`{key}`" in doc, f"document the layer key {key} in docs/scenes.md"


def test_background_colour_and_gradient(ctx: LayerContext) -> None:
    flat = sprite(ctx, {"type": "background", "color": "#112233"})
    assert colours(flat) == {(0x11, 0x22, 0x33)}
    ramp = sprite(ctx, {"type": "background", "color": "#000000", "gradient_to": "#FFFFFF"})
    assert ramp.getpixel((300, 2))[0] < 20 and ramp.getpixel((300, 297))[0] > 235  # type: ignore[index]


def test_text_stays_in_its_box(ctx: LayerContext) -> None:
    image = sprite(ctx, {"type": "text", "text": "{{ name }} " * 20, "size": 80, "max_lines": 2})
    assert image.getbbox() is not None
    left, top, right, bottom = image.getbbox() or (0, 0, 0, 0)
    assert left >= 0 and right <= SIZE[0] and top >= 0 and bottom <= SIZE[1]
    assert rgb(ctx.colors["text"]) in colours(image)


def test_counter_counts_up(ctx: LayerContext) -> None:
    start = sprite(ctx, {"type": "counter", "value": "total"}, p=0.0)
    end = sprite(ctx, {"type": "counter", "value": "total"}, p=1.0)
    assert start.getbbox() and end.getbbox() and start.tobytes() != end.tobytes()


def test_chart_bars_grow_and_highlight_the_current_month(ctx: LayerContext) -> None:
    spec = {"type": "chart", "months": 12}
    empty, full = sprite(ctx, spec, p=0.0), sprite(ctx, spec, p=1.0)
    tone = rgb(ctx.colors["tone"])
    bars = (0, 0, SIZE[0], int(SIZE[1] * 0.85))
    assert empty.crop(bars).getbbox() is None  # nothing has grown yet
    right = full.crop((int(SIZE[0] * 0.9), 0, SIZE[0], bars[3]))  # the current month, LTR
    assert tone in colours(right) and tone not in colours(full.crop((0, 0, 60, bars[3])))


@pytest.mark.parametrize("style", ["bars", "donut"])
def test_breakdown_draws_each_line(ctx: LayerContext, style: str) -> None:
    spec = {"type": "breakdown", "style": style}
    full, empty = sprite(ctx, spec, p=1.0), sprite(ctx, spec, p=0.0)
    palette = {rgb(c) for c in ("#66BB6A", "#42A5F5")}
    assert palette <= colours(full)
    if style == "bars":
        assert not palette & colours(empty)  # bars grow in


def test_qr_scans_as_the_payment_code(ctx: LayerContext, tmp_path: Path) -> None:
    zbarimg = require("zbarimg")
    image = sprite(ctx, {"type": "qr"})
    flat = Image.new("RGB", SIZE, "white")
    flat.paste(image, (0, 0), image)
    flat.save(tmp_path / "qr.png")
    out = subprocess.run([zbarimg, "-q", "--raw", str(tmp_path / "qr.png")],
                         capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    assert out.stdout.startswith("BCD\n002\n1\nSCT")


def test_image_is_fitted_and_centred(ctx: LayerContext) -> None:
    image = sprite(ctx, {"type": "image", "path": "assets/logo.png"})
    left, top, right, bottom = image.getbbox() or (0, 0, 0, 0)
    # scaled up to the box's height (the logo file has a thin transparent margin), centred
    assert top <= 12 and bottom >= SIZE[1] - 12 and abs(left - (SIZE[0] - right)) <= 3
    assert image.getpixel((left + 20, 150))[:3] == rgb("#64B5F6")  # type: ignore[index]


def test_progress_fills_to_its_value(ctx: LayerContext) -> None:
    image = sprite(ctx, {"type": "progress", "value": "0.5", "color": "#FF0000",
                         "track": "#0000FF"})  # fmt: skip
    assert image.getpixel((150, 150))[:3] == (255, 0, 0)  # type: ignore[index]
    assert image.getpixel((450, 150))[:3] == (0, 0, 255)  # type: ignore[index]


def _frames(ctx: LayerContext, layer: dict[str, Any], seconds: float = 3.0) -> list[Image.Image]:
    """Every frame of a one-layer scene (a hard cut: no scene fade), composed, not encoded."""
    scene = Scene.model_validate({"id": "t", "duration": seconds, "transition": {"kind": "cut"},
                                  "layers": [layer]})  # fmt: skip
    frames = round(seconds * FPS)
    return [
        run.image for run in scene_runs(scene, scene.layers, frames, ctx) for _ in range(run.count)
    ]


def _red_span(frame: Image.Image) -> tuple[int, int, int]:
    """(left, right, red) of the reddest pixels on the middle row."""
    row = [frame.getpixel((x, 360)) for x in range(frame.width)]
    red = max(p[0] for p in row)  # type: ignore[index]
    xs = [x for x, p in enumerate(row) if p[0] == red]  # type: ignore[index]
    return xs[0], xs[-1], red


def test_enter_and_exit_animations(ctx: LayerContext) -> None:
    red = {"type": "background", "color": "#FF0000", "box": [0.4, 0.4, 0.2, 0.2]}  # x 512..767
    linear = {"duration": 1.0, "easing": "linear"}
    slide_in = {"kind": "slide", "direction": "right", "distance": 0.1, **linear}
    fade_out = {"kind": "fade", **linear, "duration": 0.5}
    slide = _frames(ctx, {**red, "at": 0.5, "enter": slide_in, "exit": fade_out})
    assert _red_span(slide[0])[2] < 0x40  # not there yet (`at`)
    left, _, level = _red_span(slide[30])  # halfway in: half the way left of its box, half faded
    assert abs(left - (512 - 64)) <= 2 and 0x70 < level < 0x90
    assert _red_span(slide[60]) == (512, 767, 255)  # settled
    assert 0x70 < _red_span(slide[82])[2] < 0xA0  # fading out
    scale = _frames(ctx, {**red, "enter": {"kind": "scale", **linear}})
    left, right, _ = _red_span(scale[15])  # half grown: 0.8 of its width, centred
    assert abs((right - left) - 0.8 * 256) <= 3 and abs((left + right) / 2 - 639.5) <= 2


def test_easings_start_at_zero_and_end_at_one() -> None:
    for name in EASINGS:
        assert abs(ease(name, 0.0)) < 1e-9 and abs(ease(name, 1.0) - 1.0) < 1e-9
    assert ease("back-out", 0.7) > 1.0  # overshoots, then settles
