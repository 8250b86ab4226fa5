"""Frames of a scene as runs of identical images: each layer's sprite is drawn once and
re-pasted; only frames inside an animation are composed, and a settled frame is held.

A frame is described by a signature (each layer's animation state, the scene's fade); frames
with equal signatures in a row are one run, drawn once and repeated by the encoder. A run
says where it differs from the one before (the boxes of the visible pixels of the layers
whose state changed, where they were and where they are) and how far the scene has faded in,
so the encoder converts only what changed (see yuv.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from PIL import Image, ImageColor

from renderers.video.animation import Animation, ease, quantize
from renderers.video.formats import FPS
from renderers.video.layers import LayerBase, LayerContext, kind_of
from renderers.video.spec import Scene
from renderers.video.yuv import Box, empty

State = tuple[float, float, float] | None  # (enter, own motion, exit) progress, or hidden


@dataclass(frozen=True)
class Run:
    canvas: Image.Image  # RGB, the frame's size, before the scene's fade (see draw_runs)
    count: int  # frames it is shown for
    fade: float = 1.0  # how far the scene has faded in from its background (1: all the way)
    background: str = "#000000"  # the colour it fades from
    changed: tuple[Box, ...] | None = None  # where it differs from the run before (None: anywhere)

    @cached_property
    def image(self) -> Image.Image:
        """The frame as shown."""
        if self.fade >= 1.0:
            return self.canvas
        return self.canvas.point(_fade_table(self.background, self.fade))


@lru_cache(maxsize=256)
def _alpha_table(shown: float) -> list[int]:
    """Alpha values scaled by `shown` (a lambda given to `point` would be called 256 times
    for every frame of an animation)."""
    return [round(v * shown) for v in range(256)]


@lru_cache(maxsize=256)
def _fade_table(background: str, fade: float) -> list[int]:
    """A per-band lookup table taking each value `fade` of the way from the background
    colour: the same picture as blending with a plain background image, four times faster."""
    rgb = ImageColor.getrgb(background)[:3]
    return [int(bg + (v - bg) * fade) for bg in rgb for v in range(256)]


def _progress(t: float, start: float, length: float) -> float:
    if length <= 0:
        return 1.0 if t >= start else 0.0
    return min(1.0, max(0.0, (t - start) / length))


def _state(layer: LayerBase, t: float, seconds: float) -> State:
    if t < layer.at:
        return None
    enter = ease(layer.enter.easing, _progress(t, layer.at, layer.enter.duration)) if (
        layer.enter) else 1.0  # fmt: skip
    motion = _progress(t, layer.at, kind_of(layer).motion(layer))
    leave = 0.0
    if layer.exit is not None:
        leave = ease(layer.exit.easing, _progress(t, seconds - layer.exit.duration,
                                                   layer.exit.duration))  # fmt: skip
    return (quantize(enter), quantize(motion), quantize(leave))


def _fade(scene: Scene, frame: int, frames: int) -> float:
    if scene.transition.kind == "cut":
        return 1.0
    n = min(round(scene.transition.duration * FPS), frames // 4)
    if n == 0:
        return 1.0
    # frame 0 already shows a little of the scene; the last frame a little too
    return quantize(min(1.0, (frame + 1) / (n + 1), (frames - frame) / (n + 1)))


def _apply(
    sprite: Image.Image,
    anim: Animation | None,
    p: float,
    entering: bool,
    ctx: LayerContext,
    mirrored: bool = False,
) -> tuple[Image.Image, int, int]:
    """The sprite at `p` of an enter (0 -> 1 shown) or exit (0 -> 1 gone) animation, and
    its offset from the layer box. `mirrored` (a right-to-left layout): left and right swap."""
    if anim is None:
        return sprite, 0, 0
    shown = p if entering else 1.0 - p
    if shown >= 1.0:
        return sprite, 0, 0
    dx = dy = 0
    if anim.kind == "slide":
        step = (1.0 - shown) * anim.distance
        sign = 1 if entering else -1  # entering "up": starts below; leaving "up": ends above
        vec = {"left": (sign, 0), "right": (-sign, 0), "up": (0, sign), "down": (0, -sign)}
        ux, uy = vec[anim.direction]
        ux = -ux if mirrored else ux
        dx, dy = round(ux * step * ctx.fmt.width), round(uy * step * ctx.fmt.height)
    elif anim.kind == "scale":
        factor = 0.6 + 0.4 * shown
        w, h = max(1, round(sprite.width * factor)), max(1, round(sprite.height * factor))
        scaled = sprite.resize((w, h), Image.Resampling.BILINEAR)
        dx, dy = (sprite.width - w) // 2, (sprite.height - h) // 2
        sprite = scaled
    alpha = sprite.getchannel("A").point(_alpha_table(shown))
    faded = sprite.copy()
    faded.putalpha(alpha)
    return faded, dx, dy


def _trimmed(
    layer: LayerBase, index: int, motion: float, ctx: LayerContext
) -> tuple[Image.Image, int, int] | None:
    """The layer's sprite at `motion`, drawn once and cut to its visible (not fully
    transparent) pixels, and where that part sits in the layer box; None when nothing shows.
    A text's box is as wide as the layout allows, its letters often much narrower: pasting,
    fading, converting and keeping the cut costs less."""
    key = ("trimmed", index, id(layer), motion)
    if key not in ctx.memo:
        _, _, w, h = layer.box_for(ctx.fmt, ctx.rtl)
        sprite = kind_of(layer).draw(layer, ctx, (max(1, w), max(1, h)), motion)
        # where alpha > 0 (a sprite without alpha shows everywhere: black is a colour too)
        box = sprite.getbbox() if sprite.mode == "RGBA" else (0, 0, *sprite.size)
        ctx.memo[key] = None if box is None else (sprite.crop(box), box[0], box[1])
    trimmed: tuple[Image.Image, int, int] | None = ctx.memo[key]
    return trimmed


def _opaque(sprite: Image.Image, index: int, layer: LayerBase, motion: float,
            ctx: LayerContext) -> Image.Image | None:  # fmt: skip
    """The (trimmed) sprite as RGB when it has no transparency (a full-frame background):
    pasted without a mask, which gives the same pixels for less work. None when it has
    transparent parts."""
    key = ("opaque", index, id(layer), motion)
    if key not in ctx.memo:
        solid = sprite.mode == "RGBA" and sprite.getchannel("A").getextrema() == (255, 255)
        ctx.memo[key] = sprite.convert("RGB") if solid else None
    rgb: Image.Image | None = ctx.memo[key]
    return rgb


Marks = dict[tuple[int, State], Box]  # (layer index, state) -> the box it was pasted in


def _paint(
    canvas: Image.Image,
    layer: LayerBase,
    index: int,
    state: State,
    ctx: LayerContext,
    marks: Marks,
) -> None:
    """One layer in its animation state, pasted over `canvas`; where it went, in `marks`."""
    if state is None:
        return
    enter, motion, leave = state
    trimmed = _trimmed(layer, index, motion, ctx)
    if trimmed is None:
        marks[(index, state)] = (0, 0, 0, 0)
        return
    sprite, ox, oy = trimmed
    mirrored = ctx.rtl and layer.mirror
    shown, dx1, dy1 = _apply(sprite, layer.enter, enter, True, ctx, mirrored)
    shown, dx2, dy2 = _apply(shown, layer.exit, leave, False, ctx, mirrored)
    x, y, _, _ = layer.box_for(ctx.fmt, ctx.rtl)
    position = (x + ox + dx1 + dx2, y + oy + dy1 + dy2)
    rgb = _opaque(sprite, index, layer, motion, ctx) if shown is sprite else None
    if rgb is not None:
        canvas.paste(rgb, position)
    else:
        canvas.paste(shown, position, shown)
    left, top = max(0, position[0]), max(0, position[1])
    right = min(canvas.width, position[0] + shown.width)
    bottom = min(canvas.height, position[1] + shown.height)
    marks[(index, state)] = (left, top, max(left, right), max(top, bottom))


def _still(state: State) -> bool:
    """Hidden, or fully in with its own motion done: it looks the same until it changes."""
    return state is None or state == (1.0, 1.0, 0.0)


class _Frame:
    """The frame being drawn, kept from run to run: the base image (the still layers under
    every moving one) and the canvas over it, with the boxes where layers went over the base
    last time: only there is the base put back."""

    def __init__(self) -> None:
        self.painted: tuple[tuple[int, State], ...] | None = None  # what the base shows
        self.base = Image.new("RGB", (1, 1))
        self.canvas = self.base
        self.dirty: list[Box] = []


def _compose(
    layers: Sequence[LayerBase],
    states: Sequence[State],
    ctx: LayerContext,
    frame: _Frame,
    marks: Marks,
) -> Image.Image:
    """A frame before the scene's fade, drawn over the last one in place: the base is put
    back where layers were, and the layers above it are pasted again."""
    still = 0
    while still < len(layers) and _still(states[still]):
        still += 1
    painted = tuple((i, states[i]) for i in range(still) if states[i] is not None)
    known = -1 if frame.painted is None else len(frame.painted)
    if known < 0 or painted[:known] != frame.painted:
        base = Image.new("RGB", (ctx.fmt.width, ctx.fmt.height), ctx.color("background"))
        for index, state in painted:
            _paint(base, layers[index], index, state, ctx, marks)
        frame.base, frame.canvas = base, base.copy()
    else:
        # Layers that settled go onto the base, over every layer already there (the base
        # holds a prefix of the layers): no rebuild; the canvas gets them with the base.
        restore = frame.dirty
        for index, state in painted[known:]:
            _paint(frame.base, layers[index], index, state, ctx, marks)
            restore.append(marks[(index, state)])
        for box in restore:
            if not empty(box):
                frame.canvas.paste(frame.base.crop(box), box[:2])
    frame.painted = painted
    frame.dirty = []
    for index in range(still, len(layers)):
        state = states[index]
        _paint(frame.canvas, layers[index], index, state, ctx, marks)
        if state is not None and not empty(box := marks[(index, state)]):
            frame.dirty.append(box)
    return frame.canvas


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _changed(before: Sequence[State], after: Sequence[State], marks: Marks) -> tuple[Box, ...]:
    """The boxes holding every layer that looks different, where it was and where it is;
    overlapping boxes merged into one. Apart, they stay apart: a counter ticking over the
    middle and a progress bar growing at the bottom are two small boxes, not one big one."""
    merged: list[Box] = []
    for index, (was, now) in enumerate(zip(before, after, strict=True)):
        if was == now:
            continue
        for state in (was, now):
            if state is None or empty(box := marks[(index, state)]):
                continue
            while (hit := next((m for m in merged if _overlap(m, box)), None)) is not None:
                merged.remove(hit)
                box = (min(box[0], hit[0]), min(box[1], hit[1]),
                       max(box[2], hit[2]), max(box[3], hit[3]))  # fmt: skip
            merged.append(box)
    return tuple(merged)


Signature = tuple[tuple[State, ...], float]


def scene_plan(
    scene: Scene, layers: Sequence[LayerBase], frames: int
) -> list[tuple[Signature, int]]:
    """The scene's frames as (signature, count) runs: cheap, nothing is drawn."""
    seconds = frames / FPS
    plan: list[tuple[Signature, int]] = []
    for frame in range(frames):
        t = frame / FPS
        signature = (tuple(_state(layer, t, seconds) for layer in layers),
                     _fade(scene, frame, frames))  # fmt: skip
        if plan and plan[-1][0] == signature:
            plan[-1] = (signature, plan[-1][1] + 1)
        else:
            plan.append((signature, 1))
    return plan


def draw_runs(
    plan: Sequence[tuple[Signature, int]], layers: Sequence[LayerBase], ctx: LayerContext
) -> Iterator[Run]:
    """Each run's image, drawn when it is needed (one frame and one base image are held in
    memory): the still layers under the moving ones are drawn once per settled look. The
    first run of a scene may differ anywhere; each next one where its layers changed.

    The runs share one canvas, drawn over in place for the next run (a new frame each time
    would cost a copy and fresh memory for every run): use a run, or copy its canvas, before
    asking for the next."""
    frame = _Frame()
    marks: Marks = {}
    background = ctx.color("background")
    before: tuple[State, ...] | None = None
    for (states, fade), count in plan:
        canvas = _compose(layers, states, ctx, frame, marks)
        changed = None if before is None else _changed(before, states, marks)
        before = states
        yield Run(canvas, count, fade, background, changed)


def scene_runs(
    scene: Scene, layers: Sequence[LayerBase], frames: int, ctx: LayerContext
) -> Iterator[Run]:
    """The scene's frames as runs, each with an image of its own (see draw_runs)."""
    for run in draw_runs(scene_plan(scene, layers, frames), layers, ctx):
        yield replace(run, canvas=run.canvas.copy())
