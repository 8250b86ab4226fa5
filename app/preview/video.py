"""A full preview video of a sample bill: a real render, stamped on every frame.

The studio queues it (on the on-demand queue) and serves its files; the stamp (see
renderers/video/stamp.py) is on every frame and on the poster, and the shared scenes it
caches are keyed by the stamp, so no part of a preview is ever joined into a real video.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.preview.samples import check_locale, sample_bill
from renderers import Outputs, render
from renderers.templates import TemplateBundle

if TYPE_CHECKING:
    from renderers.voice import Voice

PREVIEW_STAMP = "PREVIEW"


def preview_video(
    bundle: TemplateBundle,
    ending: str,
    locale: str,
    workdir: Path,
    *,
    video_format: str = "16:9",
    voice: Voice | None = None,
) -> Outputs:
    """Render the sample `ending`'s video in `locale` into `workdir` (video.mp4, poster.jpg,
    captions.vtt), stamped PREVIEW; with a voice, narrated as a real render would be."""
    check_locale(bundle, locale)
    bill = sample_bill(ending, locale)
    return render(bill, bundle, ["video"], workdir, voice=voice, video_format=video_format,
                  stamp=PREVIEW_STAMP)  # fmt: skip
