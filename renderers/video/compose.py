"""Frames of a scene as runs of identical images: each layer's sprite is drawn once and
re-pasted; only frames inside an animation are composed, and a settled frame is held.

A frame is described by a signature (each layer's animation state, the scene's fade); frames
with equal signatures in a row are one run, drawn once and repeated by the encoder. A run is
drawn over the one before, and says where it differs from it: for a layer whose own motion
moved on (a counter ticking, bars growing), where its pixels differ; for one that moved or
faded, where it was and where it is. Only there is the frame drawn again and converted by
the encoder (see yuv.py); a scene's first run says where it is not a plain frame of its
background colour; and a fading run says where it is not the plain colour it fades from, so
the fade touches only that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageColor

from renderers.video import notes
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
    content: tuple[Box, ...] | None = None  # where it may differ from `background` (None: anywhere)
    # A scene's first run: not drawn over the run before but over a plain frame of this colour
    # (#rrggbb), from which it differs only in `changed`.
    cleared: str | None = None

    @cached_property
    def image(self) -> Image.Image:
        """The frame as shown."""
        if self.fade >= 1.0:
            return self.canvas
        return self.canvas.point(_fade_table(self.background, self.fade))


ALPHA_VALUES = np.arange(256, dtype=np.float64)


@lru_cache(maxsize=256)
def _alpha_table(shown: float) -> list[int]:
    """Alpha values scaled by `shown` (a lambda given to `point` would be called 256 times
    for every frame of an animation): v * shown rounded half to even, as round() does."""
    table: list[int] = np.rint(ALPHA_VALUES * shown).astype(np.int64).tolist()
    return table


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


SETTLED: State = (1.0, 1.0, 0.0)  # fully in, its own motion done, not leaving


def _state(layer: LayerBase, t: float, seconds: float) -> State:
    if t < layer.at:
        return None
    own = kind_of(layer).motion(layer)
    # most frames of most layers: no easing to work out
    motion_ends = layer.at + max(layer.enter.duration if layer.enter else 0.0, own)
    leave_starts = seconds - layer.exit.duration if layer.exit else math.inf
    if motion_ends <= t < leave_starts:
        return SETTLED
    enter = ease(layer.enter.easing, _progress(t, layer.at, layer.enter.duration)) if (
        layer.enter) else 1.0  # fmt: skip
    motion = _progress(t, layer.at, own)
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


SPRITE_KINDS = ("trimmed", "opaque")  # what the memo keeps of a layer at one motion


def _sprite_key(what: str, index: int, layer: LayerBase, motion: float) -> tuple[object, ...]:
    return (what, index, id(layer), motion)


def _trimmed(
    layer: LayerBase, index: int, motion: float, ctx: LayerContext
) -> tuple[Image.Image, int, int] | None:
    """The layer's sprite at `motion`, drawn once and cut to its visible (not fully
    transparent) pixels, and where that part sits in the layer box; None when nothing shows.
    A text's box is as wide as the layout allows, its letters often much narrower: pasting,
    fading, converting and keeping the cut costs less."""
    key = _sprite_key("trimmed", index, layer, motion)
    if key not in ctx.memo:
        _forget_passed(index, layer, motion, ctx)
        _, _, w, h = layer.box_for(ctx.fmt, ctx.rtl)
        with notes.layer(index):  # what drawing it had to give way on is this layer's
            sprite = kind_of(layer).draw(layer, ctx, (max(1, w), max(1, h)), motion)
        # where alpha > 0 (a sprite without alpha shows everywhere: black is a colour too)
        box = sprite.getbbox() if sprite.mode == "RGBA" else (0, 0, *sprite.size)
        ctx.memo[key] = None if box is None else (sprite.crop(box), box[0], box[1])
    trimmed: tuple[Image.Image, int, int] | None = ctx.memo[key]
    return trimmed


def _forget_passed(index: int, layer: LayerBase, motion: float, ctx: LayerContext) -> None:
    """A layer's own motion only moves forward in a scene: once it moves on, the sprites of
    the motion before are not asked for again, so the memo lets them go (growing bars held
    40 MB of sprites by the end of their scene)."""
    latest = ("motion", index, id(layer))
    was = ctx.memo.get(latest)
    if was is not None and was != motion:
        for what in SPRITE_KINDS:
            ctx.memo.pop(_sprite_key(what, index, layer, was), None)
    ctx.memo[latest] = motion


def _opaque(sprite: Image.Image, index: int, layer: LayerBase, motion: float,
            ctx: LayerContext) -> tuple[Image.Image | None, str | None]:  # fmt: skip
    """The (trimmed) sprite as RGB when it has no transparency (a full-frame background):
    pasted without a mask, which gives the same pixels for less work; and its one colour
    (#rrggbb) when it is a plain one. (None, None) when it has transparent parts."""
    key = _sprite_key("opaque", index, layer, motion)
    if key not in ctx.memo:
        rgb, flat = None, None
        if _opaque_corners(sprite):  # most sprites (text, bars) fail here, with no scan
            # One colour? getcolors stops at the second, so only a plain sprite is read whole
            # (Pillow's getextrema would copy out and read each of the four bands).
            one = sprite.getcolors(1)
            pixel = one[0][1] if one else None
            if isinstance(pixel, tuple):
                solid = pixel[3] == 255
                flat = "#{:02x}{:02x}{:02x}".format(*pixel[:3]) if solid else None
            else:
                solid = sprite.getchannel("A").getextrema() == (255, 255)
            rgb = sprite.convert("RGB") if solid else None
        ctx.memo[key] = (rgb, flat)
    opaque: tuple[Image.Image | None, str | None] = ctx.memo[key]
    return opaque


def _opaque_corners(sprite: Image.Image) -> bool:
    """Whether all four corners are opaque: a test with no scan, which most sprites (text,
    bars) fail, before an opaque sprite is read whole."""
    if sprite.mode != "RGBA":
        return False
    w, h = sprite.width - 1, sprite.height - 1
    corners = [sprite.getpixel(xy) for xy in ((0, 0), (w, 0), (0, h), (w, h))]
    return all(isinstance(c, tuple) and c[3] == 255 for c in corners)


@dataclass(frozen=True)
class _Placed:
    """A layer in one animation state, ready to paste: its image (RGB when opaque, pasted
    without a mask), where its top left corner goes, and the part of the frame it covers."""

    image: Image.Image
    x: int
    y: int
    box: Box
    plain: bool  # its trimmed sprite as drawn, no enter or exit effect on it
    flat: str | None  # opaque in one colour (#rrggbb), e.g. a plain background

    @cached_property
    def pixels(self) -> npt.NDArray[np.uint8]:
        """The image as an array (made once: this run's placement is compared with the
        next run's too)."""
        return _pixels(self.image)


Placements = dict[tuple[int, State], "_Placed | None"]  # (layer index, state) -> placement


def _place(
    layer: LayerBase, index: int, state: State, ctx: LayerContext, placed: Placements
) -> _Placed | None:
    """The layer in its animation state (None: nothing shows), worked out once per state."""
    if (index, state) in placed:
        return placed[(index, state)]
    result = None
    if state is not None and (trimmed := _trimmed(layer, index, state[1], ctx)) is not None:
        enter, motion, leave = state
        sprite, ox, oy = trimmed
        mirrored = ctx.rtl and layer.mirror
        shown, dx1, dy1 = _apply(sprite, layer.enter, enter, True, ctx, mirrored)
        shown, dx2, dy2 = _apply(shown, layer.exit, leave, False, ctx, mirrored)
        left, top, _, _ = layer.box_for(ctx.fmt, ctx.rtl)
        x, y = left + ox + dx1 + dx2, top + oy + dy1 + dy2
        plain = shown is sprite
        rgb, flat = _opaque(sprite, index, layer, motion, ctx) if plain else (None, None)
        image = shown if rgb is None else rgb
        box = (max(0, x), max(0, y), min(ctx.fmt.width, x + image.width),
               min(ctx.fmt.height, y + image.height))  # fmt: skip
        result = _Placed(image, x, y, box, plain, flat)
    placed[(index, state)] = result
    return result


def _paste(canvas: Image.Image, placed: _Placed, clip: Box | None = None) -> None:
    """Paste a placed layer over `canvas`, only inside `clip` when given."""
    image, at = placed.image, (placed.x, placed.y)
    if clip is not None:
        part = _intersection(placed.box, clip)
        if empty(part):
            return
        image = image.crop((part[0] - placed.x, part[1] - placed.y,
                            part[2] - placed.x, part[3] - placed.y))  # fmt: skip
        at = (part[0], part[1])
    if image.mode == "RGB":
        canvas.paste(image, at)
    else:
        canvas.paste(image, at, image)


def _still(state: State) -> bool:
    """Hidden, or fully in with its own motion done: it looks the same until it changes."""
    return state is None or state == SETTLED


def _intersection(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _merge(boxes: Iterable[Box]) -> tuple[Box, ...]:
    """The boxes, overlapping ones merged into one (the result's boxes are apart). Apart,
    they stay apart: a counter ticking over the middle and a progress bar growing at the
    bottom are two small boxes, not one big one."""
    merged: list[Box] = []
    for box in boxes:
        if empty(box):
            continue
        while hit := next((m for m in merged if not empty(_intersection(m, box))), None):
            merged.remove(hit)
            box = (min(box[0], hit[0]), min(box[1], hit[1]),
                   max(box[2], hit[2]), max(box[3], hit[3]))  # fmt: skip
        merged.append(box)
    return tuple(merged)


def _pixels(image: Image.Image) -> npt.NDArray[np.uint8]:
    return np.frombuffer(image.tobytes(), dtype=np.uint8).reshape(
        image.height, image.width, len(image.getbands())
    )


# A box costs about as much to put back, paste over and convert as this many more pixels:
# where a layer changed in parts far enough apart (the tops of growing bars), each part gets
# a box of its own when that saves more than the box costs.
BOX_COST_PX = 4096


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _parts(differs: npt.NDArray[np.bool_]) -> list[Box]:
    """Boxes holding every True of a 2-d mask: one per group of columns that differ, with
    the rows that differ in them; neighbours merged while that costs less than a box."""
    at = np.flatnonzero(differs.any(axis=0))
    if at.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(at) > 1)
    lefts, rights = at[np.r_[0, breaks + 1]], at[np.r_[breaks, -1]] + 1
    # each group's rows at once (the columns between groups differ nowhere)
    rows = np.logical_or.reduceat(differs, lefts, axis=1)
    tops = rows.argmax(axis=0)
    bottoms = rows.shape[0] - rows[::-1].argmax(axis=0)
    parts: list[Box] = []
    for part in zip(lefts.tolist(), tops.tolist(), rights.tolist(), bottoms.tolist(), strict=True):
        if parts:
            last = parts[-1]
            joined = (last[0], min(last[1], part[1]), part[2], max(last[3], part[3]))
            if _area(joined) - _area(last) - _area(part) < BOX_COST_PX:
                parts[-1] = joined
                continue
        parts.append(part)
    return parts


def _differing(x: npt.NDArray[np.uint8], y: npt.NDArray[np.uint8]) -> list[Box]:
    """Boxes holding the pixels where two images of one size and mode, as arrays, differ."""
    # a pixel is one 32-bit word (RGBA) or a few bytes (other modes)
    if x.shape[2] == 4:
        differs = x.view(np.uint32)[:, :, 0] != y.view(np.uint32)[:, :, 0]
    else:
        differs = (x != y).any(axis=2)
    return _parts(differs)


def _difference(was: _Placed | None, now: _Placed | None) -> list[Box]:
    """Where a layer looks different in two states. When only its own motion moved on (a
    counter ticking, bars growing), where its pixels differ: often thin bands of a big box."""
    if was is None or now is None:
        return [p.box for p in (was, now) if p is not None]
    if not (was.plain and now.plain and was.image.mode == now.image.mode):
        return [was.box, now.box]
    if (was.x, was.y, was.image.size) == (now.x, now.y, now.image.size):
        return [
            _intersection((b[0] + was.x, b[1] + was.y, b[2] + was.x, b[3] + was.y), was.box)
            for b in _differing(was.pixels, now.pixels)
        ]  # the parts inside the frame
    span = (min(was.box[0], now.box[0]), min(was.box[1], now.box[1]),
            max(was.box[2], now.box[2]), max(was.box[3], now.box[3]))  # fmt: skip
    # both cut to the same span (outside an image: transparent, or black when opaque, so a
    # pixel one covers and the other does not always counts as different)
    a, b = (p.image.crop((span[0] - p.x, span[1] - p.y, span[2] - p.x, span[3] - p.y))
            for p in (was, now))  # fmt: skip
    return [(span[0] + d[0], span[1] + d[1], span[0] + d[2], span[1] + d[3])
            for d in _differing(_pixels(a), _pixels(b))]  # fmt: skip


class _Frame:
    """The frame being drawn, kept from run to run: the base image (the still layers under
    every moving one) and the canvas: the base with the moving layers over it."""

    def __init__(self) -> None:
        self.painted: tuple[tuple[int, State], ...] | None = None  # what the base shows
        self.base = Image.new("RGB", (1, 1))
        self.canvas = self.base


def _compose(
    layers: Sequence[LayerBase],
    states: Sequence[State],
    before: Sequence[State] | None,
    ctx: LayerContext,
    frame: _Frame,
    placed: Placements,
) -> tuple[Image.Image, tuple[Box, ...] | None, list[_Placed | None]]:
    """A frame before the scene's fade, drawn over the last one (`before`) in place, where
    it differs from it (None: anywhere; only there is the base put back and are the moving
    layers pasted again), and its layers as placed."""
    shown = [_place(layer, i, state, ctx, placed)
             for i, (layer, state) in enumerate(zip(layers, states, strict=True))]  # fmt: skip
    still = 0
    while still < len(layers) and _still(states[still]):
        still += 1
    painted = tuple((i, states[i]) for i in range(still) if states[i] is not None)
    changed = None
    if before is not None:
        moved = [i for i, (was, now) in enumerate(zip(before, states, strict=True)) if was != now]
        changed = _merge(b for i in moved for b in _difference(placed[(i, before[i])], shown[i]))
    known = -1 if frame.painted is None else len(frame.painted)
    if known < 0 or painted[:known] != frame.painted:
        base = Image.new("RGB", (ctx.fmt.width, ctx.fmt.height), ctx.color("background"))
        for index, _ in painted:
            _paste(base, shown[index])  # type: ignore[arg-type]  # painted: not hidden
        frame.base, frame.canvas = base, base.copy()
        for index in range(still, len(layers)):
            if (p := shown[index]) is not None:
                _paste(frame.canvas, p)
    else:
        # Layers that settled go onto the base, over every layer already there (the base
        # holds a prefix of the layers); the canvas is drawn again only where it changed.
        for index, _ in painted[known:]:
            _paste(frame.base, shown[index])  # type: ignore[arg-type]
        for box in changed or ():
            frame.canvas.paste(frame.base.crop(box), box[:2])
            for index in range(still, len(layers)):
                if (p := shown[index]) is not None:
                    _paste(frame.canvas, p, box)
    frame.painted = painted
    for key in [k for k in placed if states[k[0]] != k[1]]:
        del placed[key]  # only this run's placements are needed next time
    return frame.canvas, changed, shown


def _content(shown: Sequence[_Placed | None], background: str) -> tuple[Box, ...]:
    """Where the frame may differ from its background colour: a scene fades from that
    colour, so only there does a fade change anything."""
    return _merge(p.box for p in shown if p is not None and p.flat != background.lower())


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
    first run of a scene differs from a plain frame of the background colour where its
    layers show (a scene starts on a plain colour, its cards and text entering later: most
    of its first frame need not be converted); each next one from the run before where its
    layers changed.

    The runs share one canvas, drawn over in place for the next run (a new frame each time
    would cost a copy and fresh memory for every run): use a run, or copy its canvas, before
    asking for the next."""
    frame = _Frame()
    placed: Placements = {}
    background = ctx.color("background")
    before: tuple[State, ...] | None = None
    for (states, fade), count in plan:
        canvas, changed, shown = _compose(layers, states, before, ctx, frame, placed)
        first = before is None
        content = _content(shown, background) if fade < 1.0 or first else None
        before = states
        # the first run differs from a plain frame of the background where its layers show
        yield Run(canvas, count, fade, background, content if first else changed,
                  content if fade < 1.0 else None, background if first else None)  # fmt: skip


def scene_runs(
    scene: Scene, layers: Sequence[LayerBase], frames: int, ctx: LayerContext
) -> Iterator[Run]:
    """The scene's frames as runs, each with an image of its own (see draw_runs)."""
    for run in draw_runs(scene_plan(scene, layers, frames), layers, ctx):
        yield replace(run, canvas=run.canvas.copy())
