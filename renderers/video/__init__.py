"""The video renderer: scenes as data, layers drawn once, frames encoded by ffmpeg.

spec (scenes.yaml, validated whole) -> plan (scenes switched on whose `when` holds,
durations stretched to narration) -> compose (runs of identical frames per scene) -> encode
(one segment per run of personal scenes; shared scenes from the cache) -> join (packets
copied in process, plus the AAC track: the cached bed, or narration mixed and encoded at
once) -> video.mp4, poster.jpg (the template's poster scene), captions.vtt, chapters.vtt (a
cue per scene; with the calls to action over the video, the timeline the page's player is
given).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from renderers.errors import RenderError, TemplateError
from renderers.story import Facts
from renderers.timeline import Timeline
from renderers.video import encode
from renderers.video.cache import cache_dir as default_cache_dir
from renderers.video.cache import cache_key, cached
from renderers.video.chapters import video_timeline, write_chapters
from renderers.video.compose import Run, draw_runs, scene_plan, scene_runs
from renderers.video.context import bill_values, scene_values, shared_values
from renderers.video.encode import AAC_FILE, audio_bed, encode_runs
from renderers.video.expressions import evaluate, render_text
from renderers.video.fonts import FontTable
from renderers.video.formats import FPS, Format, get_format
from renderers.video.layers import LayerBase, LayerContext
from renderers.video.layers.breakdown import Breakdown
from renderers.video.layers.counter import Counter
from renderers.video.layers.counter import _label as counter_label
from renderers.video.layers.text import Text
from renderers.video.remux import join
from renderers.video.spec import Scene, VideoSpec
from renderers.video.stamp import STAMP_FORMAT, check_stamp, stamp_overlay, stamped
from renderers.video.text import Typesetter
from renderers.webvtt import Cue, write_captions

if TYPE_CHECKING:
    from renderers.voice import Speech, Voice

# Told of each coded segment: its file, its first frame in the video, its frames, and the
# video's whole sound track (AAC in an m4a file), made before the first segment.
Stream = Callable[[Path, int, int, Path], None]

POSTER_QUALITY = 88  # JPEG quality of the poster
SOUND_FORMAT = 1  # bump when what `Sound` keeps changes
SOUND_FILE = "sound.m4a"  # the kept track, beside the poster in the work directory
CACHE_FORMAT = 2  # bump when the way shared scenes are drawn or encoded changes


@dataclass(frozen=True)
class Sound:
    """A video's sound made ahead of its pictures: each scene's narration length (what the
    plan stretches the scenes to) and the mixed AAC track. The run that makes the page of a
    video made on open keeps it, so the video's own run narrates and mixes nothing: its
    first segment is out the sooner."""

    durations: tuple[float, ...]  # seconds per planned scene; 0: no narration
    track: Path  # AAC in an m4a file, as long as the video

    def to_json(self) -> dict[str, Any]:
        return {"format": SOUND_FORMAT, "durations": list(self.durations)}

    @staticmethod
    def from_json(data: Mapping[str, Any], track: Path) -> Sound:
        if data.get("format") != SOUND_FORMAT:
            raise RenderError(f"the kept sound is of format {data.get('format')!r}")
        return Sound(tuple(float(d) for d in data["durations"]), track)


@dataclass(frozen=True)
class VideoFiles:
    video: Path | None  # None: not coded (`render_video(encode=False)`)
    poster: Path
    captions: Path
    scenes: tuple[str, ...]  # ids of the scenes shown, in order
    chapters: Path | None = None
    timeline: Timeline | None = None  # chapters and calls to action, for the player
    sound: Sound | None = None  # kept by `render_video(encode=False)` for the later video


@dataclass(frozen=True)
class Planned:
    index: int
    scene: Scene
    layers: tuple[LayerBase, ...]
    frames: int
    start: int  # first frame in the video
    ctx: LayerContext

    @property
    def seconds(self) -> float:
        return self.frames / FPS


@dataclass(frozen=True)
class Job:
    """Everything about one template a video render needs (kept free of the bundle type)."""

    name: str
    spec: VideoSpec
    scenes_dir: Path
    catalog: Mapping[str, str]  # the locale's narration strings, unfilled


def _holds(source: str, values: Mapping[str, Any], where: str) -> bool:
    try:
        return bool(evaluate(source, values))
    except Exception as exc:  # a template's expression failed on this bill
        raise TemplateError(f"cannot evaluate: {type(exc).__name__}", path=where) from exc


def _context(
    job: Job, fmt: Format, ts: Typesetter, values: Mapping[str, Any], bill: Any, tone: str
) -> LayerContext:
    theme = job.spec.theme
    colors = {
        "background": theme.background, "panel": theme.panel, "text": theme.text,
        "muted": theme.muted, "accent": theme.accent,
        "tone": str(getattr(theme.tones, tone)) if tone else theme.accent,
    }  # fmt: skip
    return LayerContext(fmt, ts, colors, values, job.scenes_dir, bill)


def scene_caption(planned: Planned) -> str:
    ctx, parts = planned.ctx, []
    for layer in planned.layers:
        if isinstance(layer, Text):
            parts.append(ctx.text(layer.text))
        elif isinstance(layer, Counter):
            from decimal import Decimal

            value = Decimal(str(ctx.value(layer.value)))
            parts.append(counter_label(layer, ctx, abs(value) if layer.absolute else value))
        elif isinstance(layer, Breakdown):
            from renderers.charts import breakdown
            from renderers.formatting import format_money

            for part in breakdown(ctx.bill or {}, layer.max_rows, ctx.text(layer.other)):
                money = format_money(part.value, str(ctx.values["currency"]), ctx.typesetter.locale)
                parts.append(f"{part.label}: {money}")
    return "\n".join(p for p in parts if p)


def render_video(
    bill: Mapping[str, Any],
    facts: Facts,
    job: Job,
    narration: Mapping[str, str],
    workdir: Path,
    *,
    voice: Voice | None = None,
    video_format: str = "16:9",
    cache_dir: Path | None = None,
    stamp: str | None = None,
    encode: bool = True,
    stream: Stream | None = None,
    sound: Sound | None = None,
) -> VideoFiles:
    """Write workdir/video.mp4, poster.jpg, captions.vtt and chapters.vtt for one bill:
    nothing else is left in workdir (narration clips and segments live in a temporary
    directory of this render's own, so parallel renders never share a temporary file).
    `stamp` (e.g. "PREVIEW"): every frame and the poster carry it (renderers/video/stamp.py).
    `encode=False`: everything but the video (the poster drawn from the plan, no frame
    coded), for a video made later, when the page is first opened (`video` is then None).
    `stream`: told of each scene's segment as soon as it is coded (renderers/video/hls.py
    makes HLS of them); every scene is then a segment of its own. `sound`: the narration's
    lengths and track kept by an `encode=False` run (its `sound`): nothing is narrated or
    mixed again (captions.vtt then has the scenes' texts; keep the first run's)."""
    if stamp is not None:
        stamp = check_stamp(stamp)
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".video-", dir=workdir) as tmp:
        fmt, planned, speeches = plan_video(
            bill, facts, job, narration, Path(tmp), voice=None if sound else voice,
            video_format=video_format, durations=sound.durations if sound else None,
        )  # fmt: skip
        frames = planned[-1].start + planned[-1].frames
        look = Look(fmt, stamp, _overlay(fmt, stamp, Path(tmp)))
        if encode:
            track = sound.track if sound else None
            files = _write(job, look, planned, frames, speeches, workdir, Path(tmp), cache_dir,
                           stream, track)  # fmt: skip
        else:
            files = _stills(look, planned, speeches, workdir, {}, None)
            track = _sound_track(job, planned, frames, speeches, Path(tmp), cache_dir, workdir)
            kept = workdir / SOUND_FILE
            shutil.copyfile(track, kept)
            durations = tuple(s.duration for s in speeches) if speeches else (0.0,) * len(planned)
            files = replace(files, sound=Sound(durations, kept))
    timeline = video_timeline(planned, narration, fmt, payable=facts.asks_payment)
    return replace(files, chapters=write_chapters(timeline, workdir / "chapters.vtt"),
                   timeline=timeline)  # fmt: skip


@dataclass(frozen=True)
class Look:
    """How every frame of this video is coded: its format, and a preview's stamp over it
    (the text and its overlay image, given to the encoder)."""

    fmt: Format
    stamp: str | None = None
    overlay: Path | None = None


def _overlay(fmt: Format, stamp: str | None, tmp: Path) -> Path | None:
    if stamp is None:
        return None
    path = tmp / "stamp.png"
    stamp_overlay(fmt, stamp).save(path, "PNG")
    return path


def plan_video(
    bill: Mapping[str, Any],
    facts: Facts,
    job: Job,
    narration: Mapping[str, str],
    workdir: Path,
    *,
    voice: Voice | None = None,
    video_format: str = "16:9",
    durations: Sequence[float] | None = None,
) -> tuple[Format, list[Planned], list[Speech]]:
    """The scenes this bill shows, their layers and frame spans; nothing is drawn yet.
    Narration clips (with a voice) are written under `workdir`: give it a temporary one.
    `durations`: each scene's narration length, known from an earlier plan (`Sound`):
    nothing is narrated."""
    try:
        fmt = get_format(video_format)
    except ValueError as exc:
        raise RenderError(str(exc)) from exc
    spec = job.spec
    ts = Typesetter(FontTable.with_overrides(spec.fonts), facts.locale)
    personal = bill_values(bill, facts, narration)
    shared = shared_values(facts.locale, job.catalog)
    chosen: list[tuple[Scene, Mapping[str, Any]]] = []
    for i, scene in enumerate(spec.scenes):
        where = f"scenes[{i}].when"
        if scene.enabled and _holds(scene.when, personal, where):
            chosen.append((scene, personal if not scene.shared else shared))
    if not chosen:
        raise RenderError("no scene of the template applies to this bill")
    count = len(chosen)
    # Narration first: it decides how long each scene lasts.
    speeches: list[Speech] = []
    if voice is not None:
        from renderers.voice import narrate

        lines = [render_text(s.say, scene_values(v, i, count)) if s.say else ""
                 for i, (s, v) in enumerate(chosen)]  # fmt: skip
        speeches = narrate(lines, facts.lang, voice, workdir)
    spoken = [s.duration for s in speeches] if speeches else list(durations or ())
    if spoken and len(spoken) != count:
        raise RenderError(f"{len(spoken)} narration lengths kept for {count} scenes")
    planned: list[Planned] = []
    start = 0
    for i, (scene, values) in enumerate(chosen):
        seconds = scene.duration
        if spoken and spoken[i] > 0:
            seconds = max(seconds, spoken[i] + spec.narration_padding)
        frames = round(seconds * FPS)
        scoped = scene_values(values, i, count)
        ctx = _context(job, fmt, ts, scoped, None if scene.shared else bill,
                       "" if scene.shared else facts.tone)  # fmt: skip
        layers = tuple(
            layer for j, layer in enumerate(scene.layers)
            if layer.when is None or _holds(layer.when, scoped, f"scenes[{i}].layers[{j}].when")
        )  # fmt: skip
        planned.append(Planned(i, scene, layers, frames, start, ctx))
        start += frames
    return fmt, planned, speeches


@lru_cache(maxsize=64)
def _files_digest(directory: Path, listing: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for name, _size, _mtime in listing:
        h.update(name.encode() + b"\0" + (directory / name).read_bytes())
    return h.hexdigest()


def assets_digest(scenes_dir: Path) -> str:
    """The bytes of the bundle's files besides its scene spec and narration (its images and
    music), read again only when one changes: a shared scene is drawn from them."""
    listing = tuple(
        (p.relative_to(scenes_dir).as_posix(), (st := p.stat()).st_size, st.st_mtime_ns)
        for p in sorted(scenes_dir.rglob("*"))
        if p.is_file() and p.parent != scenes_dir and p.parent.name != "narration"
    )
    return _files_digest(scenes_dir, listing)


def _shared_key(job: Job, fmt: Format, p: Planned, stamp: str | None = None) -> str:
    # A shared scene's look is the spec, the theme, the fonts, the narration strings and the
    # assets: every one is in the key, since a studio edit may change any of them.
    # A stamped scene is never a real video's, nor the other way round (a real render's
    # key is as it was before stamps, so its cache entries stay good).
    stamped = {} if stamp is None else {"stamp": [STAMP_FORMAT, stamp]}
    return cache_key({
        **stamped,
        "cache": CACHE_FORMAT, "template": job.name, "version": job.spec.version,
        "strings": sorted(job.catalog.items()), "assets": assets_digest(job.scenes_dir),
        "format": fmt.name, "locale": str(p.ctx.typesetter.locale), "frames": p.frames,
        "scene": p.scene.model_dump(mode="json"), "theme": job.spec.theme.model_dump(),
        "fonts": {k: v.model_dump() for k, v in job.spec.fonts.items()},
        "font_files": p.ctx.typesetter.fonts.fingerprint(p.ctx.typesetter.locale),
        "position": [p.index, p.ctx.values["scene"]["count"]],
        "variable_rate": encode.VARIABLE_RATE,  # segments of both kinds must never be joined
        "settings": encode.VIDEO_SETTINGS,  # a changed setting makes new entries by itself
    })  # fmt: skip


def _encode_group(
    group: Sequence[Planned],
    look: Look,
    out: Path,
    settled: dict[int, Run] | None = None,
    poster: int | None = None,
) -> Path:
    """Encode the group's scenes as one segment; the poster scene's settled look (the
    longest run) is kept in `settled`."""
    plans = [scene_plan(p.scene, p.layers, p.frames) for p in group]
    counts = [count for plan in plans for _, count in plan]

    def runs() -> Iterator[Run]:
        for p, plan in zip(group, plans, strict=True):
            longest = max(range(len(plan)), key=lambda i: plan[i][1])
            for i, run in enumerate(draw_runs(plan, p.layers, p.ctx)):
                if settled is not None and p.index == poster and i == longest:
                    # the scene's settled look, a poster candidate (the canvas is drawn over next)
                    settled[p.index] = replace(run, canvas=run.canvas.copy())
                yield run
            p.ctx.memo.clear()  # its sprites are not needed again: a render holds one scene's

    return encode_runs(runs(), counts, look.fmt, out, overlay=look.overlay)


def _write(
    job: Job,
    look: Look,
    planned: Sequence[Planned],
    frames: int,
    speeches: Sequence[Speech],
    workdir: Path,
    tmp: Path,
    cache_dir: Path | None,
    stream: Stream | None = None,
    track: Path | None = None,
) -> VideoFiles:
    poster_scene = next((p for p in planned if p.scene.poster), planned[0])
    store = default_cache_dir(workdir, cache_dir)
    # The sound first: it is known from the plan, and a stream sends it with each segment.
    if track is None:
        track = _sound_track(job, planned, frames, speeches, tmp, cache_dir, workdir)
    segments: list[tuple[Path, int]] = []  # files and their lengths in frames
    group: list[Planned] = []
    settled: dict[int, Run] = {}

    def made(segment: Path, length: int) -> None:
        if stream is not None:
            stream(segment, sum(n for _, n in segments), length, track)
        segments.append((segment, length))

    def flush() -> None:
        if group:
            out = tmp / f"part{len(segments)}.mp4"
            segment = _encode_group(group, look, out, settled, poster_scene.index)
            made(segment, sum(p.frames for p in group))
            group.clear()

    for p in planned:
        if p.scene.shared:
            flush()
            key = _shared_key(job, look.fmt, p, look.stamp)
            made(cached(store, key, partial(_encode_group, [p], look)), p.frames)
        else:
            group.append(p)
            if stream is not None:  # a scene a segment: the first plays while the next is coded
                flush()
    flush()
    video = join(segments, track, workdir / "video.mp4")
    return replace(_stills(look, planned, speeches, workdir, settled, poster_scene), video=video)


def _sound_track(
    job: Job,
    planned: Sequence[Planned],
    frames: int,
    speeches: Sequence[Speech],
    tmp: Path,
    cache_dir: Path | None,
    workdir: Path,
) -> Path:
    """The video's AAC track: narration mixed (over the music), or the generated bed."""
    if speeches:
        from renderers.voice import mix_track

        music = job.scenes_dir / job.spec.audio.music if job.spec.audio.music else None
        return mix_track(speeches, [p.start / FPS for p in planned], frames / FPS,
                         tmp, music=music, encoding=AAC_FILE)  # fmt: skip
    return audio_bed(job.spec.audio, frames, default_cache_dir(workdir, cache_dir))


def _stills(
    look: Look,
    planned: Sequence[Planned],
    speeches: Sequence[Speech],
    workdir: Path,
    settled: Mapping[int, Run],
    poster_scene: Planned | None,
) -> VideoFiles:
    """The poster (the poster scene's longest run, its settled look: kept while it was coded,
    else composed from the plan) and the captions; no frame is coded here."""
    poster_path = workdir / "poster.jpg"
    poster_scene = poster_scene or next((p for p in planned if p.scene.poster), planned[0])
    best = settled.get(poster_scene.index)
    if best is None:  # a shared (cached) poster scene, or no video coded: compose it
        runs = scene_runs(poster_scene.scene, poster_scene.layers, poster_scene.frames,
                          poster_scene.ctx)  # fmt: skip
        best = max(runs, key=lambda r: r.count)
    poster = best.image if look.stamp is None else stamped(best.image, look.stamp, look.fmt)
    poster.save(poster_path, "JPEG", quality=POSTER_QUALITY, optimize=True)
    cues: list[Cue]
    if speeches:
        from renderers.voice import caption_cues

        cues = list(caption_cues(speeches, [p.start / FPS for p in planned]))
    else:
        cues = [(p.start / FPS, (p.start + p.frames) / FPS, scene_caption(p)) for p in planned]
    captions = write_captions(cues, workdir / "captions.vtt")
    return VideoFiles(None, poster_path, captions, tuple(p.scene.id for p in planned))
