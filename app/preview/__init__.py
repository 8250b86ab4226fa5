"""Previews of a template version over synthetic sample bills: frames and posters while
the studio edits, the grid of one scene over every ending, locale and format, the checks a
draft must pass before it is published, the microsite of a sample, and stamped preview
videos. Sample bills are shipped and synthetic: a preview never reads a customer's data.

    samples   the sample bills (samples/*.json, one per ending), the template's locales
    stills    warm previews: frames and posters as PNG, kept in bounded LRUs per bundle
    grid      one scene's settled frame over endings x locales x formats, with marks
    checks    `publish_checks`: what must hold before a draft is published, as a report
    site      a sample's microsite page, by the real microsite renderer
    video     a full preview video, stamped PREVIEW on every frame
    pictures  PNG made for speed, thumbnails
    pool      worker processes for the grid and the checks (spawned once, kept warm)

Every function takes a `renderers.templates.TemplateBundle`: a template version's, or a
draft's unsaved files.
"""

from app.preview.checks import Check, Failure, MarkWarning, Report, publish_checks
from app.preview.grid import Cell, UnknownScene, grid
from app.preview.samples import ENDINGS, UnknownSample, sample_bill, template_locales
from app.preview.site import PREVIEW_LINKS, site_html, site_preview
from app.preview.stills import PREVIEWS, Frame, Previews, frame_at, poster
from app.preview.video import PREVIEW_STAMP, preview_video

__all__ = [
    "ENDINGS",
    "PREVIEWS",
    "PREVIEW_LINKS",
    "PREVIEW_STAMP",
    "Cell",
    "Check",
    "Failure",
    "Frame",
    "MarkWarning",
    "Previews",
    "Report",
    "UnknownSample",
    "UnknownScene",
    "frame_at",
    "grid",
    "poster",
    "preview_video",
    "publish_checks",
    "sample_bill",
    "site_html",
    "site_preview",
    "template_locales",
]
