"""The video's timeline from its planned scenes: a chapter per scene, the calls to action
whose scene and `when` hold, and the moment the bill's lines are shown (renderers.timeline).

Times are the planned frames over the frame rate: the frames the encoder is given, so a
chapter starts exactly where its scene does, however long narration made the scenes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from renderers.catalog import Catalogs
from renderers.errors import TemplateError
from renderers.timeline import Chapter, TimedCta, Timeline
from renderers.video.expressions import evaluate
from renderers.video.formats import FPS, Format
from renderers.video.layers.breakdown import Breakdown
from renderers.video.spec import CHAPTERS, VideoSpec
from renderers.webvtt import webvtt
from renderers.yamlfile import line_of, load_yaml

if TYPE_CHECKING:
    from renderers.video import Planned


def chapter_key(scene_id: str) -> str:
    return f"{CHAPTERS}.{scene_id}"


def _ctas(p: Planned, fmt: Format) -> list[TimedCta]:
    start, end = p.start / FPS, (p.start + p.frames) / FPS
    out = []
    for k, cta in enumerate(p.scene.cta):
        try:
            shown = cta.when is None or bool(evaluate(cta.when, p.ctx.values))
        except Exception as exc:  # a template's expression failed on this bill
            where = f"scenes[{p.index}].cta[{k}].when"
            raise TemplateError(f"cannot evaluate: {type(exc).__name__}", path=where) from exc
        appears = start + cta.at
        goes = end if cta.until is None else min(end, start + cta.until)
        if shown and appears < goes:
            out.append(TimedCta(cta.name, appears, goes, cta.box_for(fmt.name, p.ctx.rtl)))
    return out


def video_timeline(
    planned: Sequence[Planned], narration: Mapping[str, str], fmt: Format, *, payable: bool
) -> Timeline:
    """`narration`: the bill's filled strings (chapter titles); `payable`: the bill still asks
    for money. A bill that does not (paid, in credit) is offered no call to action at all."""
    chapters = tuple(
        Chapter(p.scene.id, narration[chapter_key(p.scene.id)], p.start / FPS,
                (p.start + p.frames) / FPS)
        for p in planned
    )  # fmt: skip
    lines = next((p for p in planned if any(isinstance(x, Breakdown) for x in p.layers)), None)
    return Timeline(
        width=fmt.width,
        height=fmt.height,
        duration=(planned[-1].start + planned[-1].frames) / FPS,
        chapters=chapters,
        ctas=tuple(c for p in planned for c in _ctas(p, fmt)) if payable else (),
        lines_at=lines.start / FPS if lines is not None else None,
    )


def write_chapters(timeline: Timeline, path: Path) -> Path:
    """`chapters.vtt`: one cue per scene shown, identified by the scene's id."""
    cues = [(c.start, c.end, c.title) for c in timeline.chapters]
    path.write_text(webvtt(cues, ids=[c.scene for c in timeline.chapters]), encoding="utf-8")
    return path


def check_chapter_titles(spec: VideoSpec, narration: Catalogs) -> None:
    """Every title names a scene of the spec and says something, in every catalog (the
    fallback's holding one per scene is checked as a required message)."""
    ids = {scene.id for scene in spec.scenes}
    for locale, messages in narration.by_locale.items():
        for key, title in messages.items():
            section, _, scene_id = key.partition(".")
            if section != CHAPTERS:
                continue
            problem = (
                "a chapter title for a scene the spec does not have" if scene_id not in ids
                else "a chapter title must not be empty" if not title.strip() else None
            )  # fmt: skip
            if problem:
                file = narration.directory / f"{locale}.yaml"
                _, lines = load_yaml(file)
                raise TemplateError(problem, file=file, line=line_of(lines, (CHAPTERS, scene_id)),
                                    path=key)  # fmt: skip
