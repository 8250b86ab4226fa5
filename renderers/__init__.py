"""billreel renderers: a bill (a validated `bill/v1` dict) and a template bundle in, files out.

A renderer is a pure function of (bill, bundle, outputs) to files in its own work directory;
it imports nothing from `app` and no web, queue, database or cloud library.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from renderers.errors import RenderError
from renderers.microsite import SitePage, render_site
from renderers.outputs import OUTPUT_KINDS, Outputs, SiteLinks
from renderers.story import Facts
from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle
from renderers.video import Job, render_video

if TYPE_CHECKING:
    from renderers.voice import Voice

__all__ = ["OUTPUT_KINDS", "Outputs", "SiteLinks", "render", "video_job"]

NO_BREAK_SPACE = "\u00a0"
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
) -> Outputs:
    """Render the requested outputs of one bill into `workdir`.

    Writes workdir/video.mp4, poster.jpg, captions.vtt, chapters.vtt (kind "video") and
    workdir/site/index.html (kind "microsite"; with the video, its player's chapters and
    calls to action). `links` None: the local layout. `stamp` (e.g. "PREVIEW"): a preview,
    every frame of its video and its poster carry the word. `tone` forces the tone
    (`renderers.story.TONES`) instead of the one the bill's rules give.
    """
    unknown = sorted(set(outputs) - set(OUTPUT_KINDS))
    if unknown:
        raise RenderError(f"unknown output kinds {unknown}; known: {list(OUTPUT_KINDS)}")
    workdir.mkdir(parents=True, exist_ok=True)
    facts = bill_facts(bill, bundle.locale, tone)
    video = poster = captions = chapters = site = None
    timeline = None
    if "video" in outputs:
        job, narration = video_job(facts, bundle)
        files = render_video(bill, facts, job, narration, workdir, voice=voice,
                             video_format=video_format, stamp=stamp)  # fmt: skip
        video, poster, captions = files.video, files.poster, files.captions
        chapters, timeline = files.chapters, files.timeline
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
    )
