"""What the studio's preview shows, as JSON for its page: frames and the poster, the grid,
a sample's microsite and the publish checks, all drawn by `app.preview` (the render's own
plan and compose code, `renderers.preview`) over its synthetic sample bills, one per
ending: a preview never reads a customer's data.
"""

from __future__ import annotations

import base64
from typing import Any

from app.preview.checks import publish_outcome
from app.preview.samples import ENDINGS, UnknownSample, sample_bill, template_locales
from app.preview.site import site_html
from app.preview.stills import PREVIEWS, Frame
from renderers.templates import TemplateBundle
from renderers.video.formats import FORMAT_NAMES

__all__ = ["ENDINGS", "UnknownSample", "checks", "frames", "grid", "sample_bill", "site"]


def _check(bundle: TemplateBundle, ending: str, locale: str, video_format: str) -> None:
    if ending not in ENDINGS:
        raise UnknownSample(f"no sample bill {ending!r}; there are {', '.join(ENDINGS)}")
    if locale not in template_locales(bundle):
        raise UnknownSample(f"the template has no strings for {locale!r}")
    if video_format not in FORMAT_NAMES:
        raise UnknownSample(f"the format is one of {', '.join(FORMAT_NAMES)}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def frame_json(frame: Frame) -> dict[str, Any]:
    body = frame.as_dict()
    scene = body["scene"]
    assert isinstance(scene, dict)
    return {**body, "image": _b64(frame.png), "scene": scene["id"], "scene_span": scene}


def frames(bundle: TemplateBundle, ending: str, locale: str, fmt: str, t: float) -> dict[str, Any]:
    """The poster and the frame at `t` seconds of the sample's video."""
    _check(bundle, ending, locale, fmt)
    return {
        "poster": frame_json(PREVIEWS.poster(bundle, ending, locale, fmt)),
        "frame": frame_json(PREVIEWS.frame_at(bundle, ending, locale, fmt, t)),
    }


def grid(bundle: TemplateBundle, scene_id: str) -> list[dict[str, Any]]:
    """One scene for every ending x locale x format, each cell with its marks."""
    cells = []
    for cell in PREVIEWS.grid(bundle, scene_id):
        body = cell.as_dict()
        body["image"] = _b64(cell.png) if cell.png else None
        body["absent"] = not cell.shown and cell.error is None
        cells.append(body)
    return cells


def site(bundle: TemplateBundle, ending: str, locale: str) -> str:
    """The sample's microsite as one HTML document (styles and pictures inline)."""
    _check(bundle, ending, locale, FORMAT_NAMES[0])
    return site_html(bundle, ending, locale)


def checks(bundle: TemplateBundle, digest: str) -> dict[str, Any]:
    """The publish checks over every sample (once per content)."""
    return publish_outcome(bundle, digest)
