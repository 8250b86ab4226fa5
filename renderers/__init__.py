"""billreel renderers: a bill (a validated `bill/v1` dict) and a template bundle in, files out.

A renderer is a pure function of (bill, bundle, outputs) to files in its own work directory;
it imports nothing from `app` and no web, queue, database or cloud library.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from renderers.errors import RenderError
from renderers.microsite import SitePage, render_site
from renderers.outputs import OUTPUT_KINDS, Outputs, SiteLinks
from renderers.story import Facts
from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle
from renderers.video import Job, Sound, render_video
from renderers.video.hls import HlsWriter

if TYPE_CHECKING:
    from renderers.voice import Voice

__all__ = ["OUTPUT_KINDS", "Outputs", "SiteLinks", "render", "stream_video", "video_job"]

# Told of the HLS files a scene added (the init segment with the first) and the playlist as
# it stands then; called once more with no file and the closed playlist at the end.
Publish = Callable[[list[Path], str], None]

NO_BREAK_SPACE = "\u00a0"
SOUND_PLAN = "sound.json"  # beside sound.m4a: what a later video's run plans with
GLUED_FIELDS = frozenset({"due_date", "issued_on", "total", "amount"})


def local_links(bill: Mapping[str, Any]) -> SiteLinks:
    """Links for the layout on disk: site/index.html next to video.mp4 and friends."""
    payment = bill.get("payment")
    pay = payment.get("url") if isinstance(payment, Mapping) else None
    return SiteLinks(
        video="../video.mp4", poster="../poster.jpg", captions="../captions.vtt", pay=pay or None,
        chapters="../chapters.vtt",
    )  # fmt: skip


def video_job(facts: Facts, bundle: TemplateBundle) -> tuple[Job, dict[str, str]]:
    """What the video of a bill (its `facts`) is made from: the template's job and the
    narration strings filled for it (a preview plans the very same video from these)."""
    # On a card a date or an amount must not break across lines: glue them.
    values = {
        k: v.replace(" ", NO_BREAK_SPACE) if k in GLUED_FIELDS else v
        for k, v in facts.placeholders().items()
    }
    narration = bundle.narration.filled(facts.locale, values)
    job = Job(bundle.name, bundle.spec, bundle.scenes_dir,
              bundle.narration.for_locale(facts.locale))  # fmt: skip
    return job, narration


def render(
    bill: Mapping[str, Any],
    bundle: TemplateBundle,
    outputs: Collection[str],
    workdir: Path,
    links: SiteLinks | None = None,
    *,
    voice: Voice | None = None,
    video_format: str = "16:9",
    stamp: str | None = None,
    tone: str | None = None,
    video_later: bool = False,
) -> Outputs:
    """Render the requested outputs of one bill into `workdir`.

    Writes workdir/video.mp4, poster.jpg, captions.vtt, chapters.vtt (kind "video") and
    workdir/site/index.html (kind "microsite"; with the video, its player's chapters and
    calls to action). `links` None: the local layout. `stamp` (e.g. "PREVIEW"): a preview,
    every frame of its video and its poster carry the word. `tone` forces the tone
    (`renderers.story.TONES`) instead of the one the bill's rules give. `video_later`: the
    video is planned but not coded (poster, captions, chapters and the page's player are
    made; the video follows, `render_video(stream=...)`): `video` is then None.
    """
    unknown = sorted(set(outputs) - set(OUTPUT_KINDS))
    if unknown:
        raise RenderError(f"unknown output kinds {unknown}; known: {list(OUTPUT_KINDS)}")
    workdir.mkdir(parents=True, exist_ok=True)
    facts = bill_facts(bill, bundle.locale, tone)
    video = poster = captions = chapters = site = sound = sound_plan = None
    timeline = None
    if "video" in outputs:
        job, narration = video_job(facts, bundle)
        files = render_video(bill, facts, job, narration, workdir, voice=voice,
                             video_format=video_format, stamp=stamp,
                             encode=not video_later)  # fmt: skip
        video, poster, captions = files.video, files.poster, files.captions
        chapters, timeline = files.chapters, files.timeline
        if files.sound is not None:
            sound = files.sound.track
            sound_plan = workdir / SOUND_PLAN
            sound_plan.write_text(json.dumps(files.sound.to_json()), encoding="utf-8")
    if "microsite" in outputs:
        site = render_site(
            facts,
            SitePage(bundle.microsite_dir, bundle.messages),
            links or local_links(bill),
            workdir / "site",
            with_video="video" in outputs,
            bill=bill,
            timeline=timeline,
        )
    return Outputs(
        template_version=bundle.versioned_name,
        video=video,
        poster=poster,
        captions=captions,
        site=site,
        chapters=chapters,
        sound=sound,
        sound_plan=sound_plan,
    )


def stream_video(
    bill: Mapping[str, Any],
    bundle: TemplateBundle,
    workdir: Path,
    publish: Publish,
    *,
    voice: Voice | None = None,
    tone: str | None = None,
    sound: tuple[Path, Path] | None = None,
) -> Path:
    """Code a bill's video scene by scene as HLS (fMP4 in `workdir/hls`, `publish` told of
    each scene's files as soon as they are written), then join it into workdir/video.mp4,
    the same video `render` makes (its poster, captions and chapters too); returns that path.
    `sound`: the (track, plan) a `render(video_later=True)` kept: nothing is narrated again.
    """
    facts = bill_facts(bill, bundle.locale, tone)
    job, narration = video_job(facts, bundle)
    writer = HlsWriter(workdir / "hls")

    def segment(part: Path, start: int, frames: int, track: Path) -> None:
        publish(writer.add(part, start, frames, track), writer.playlist())

    kept = None
    if sound is not None:
        track, plan = sound
        kept = Sound.from_json(json.loads(plan.read_text(encoding="utf-8")), track)
    try:
        files = render_video(bill, facts, job, narration, workdir, voice=voice, stream=segment,
                             sound=kept)  # fmt: skip
    finally:
        writer.end()
    publish([], writer.playlist())
    assert files.video is not None  # coded: encode=True
    return files.video
