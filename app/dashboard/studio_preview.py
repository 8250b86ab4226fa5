"""What the studio's preview shows, behind small functions: frames, the poster, the grid, a
sample's microsite. Drawn by the preview engine (`renderers.preview`: the render's own plan
and compose code) over synthetic sample bills, one per ending; never a customer's data.
"""

from __future__ import annotations

import base64
import copy
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from renderers.microsite import SitePage, render_html
from renderers.outputs import SiteLinks
from renderers.preview import Preview, Still
from renderers.story import TONES
from renderers.story import facts as bill_facts
from renderers.templates import TemplateBundle
from renderers.video.formats import FORMAT_NAMES

ENDINGS = TONES
GRID_WIDTH = 320  # px: a cell of the grid
_BASE: dict[str, Any] = {
    "customer": {"id": "SAMPLE-0001", "name": "Maria Esempio", "segment": "sample"},
    "bill": {
        "number": "S-2026-11-000042", "issued_on": "2026-11-01", "due_on": "2026-11-30",
        "period": {"start": "2026-10-01", "end": "2026-10-31"}, "currency": "EUR",
        "total": "84.20", "status": "open", "days_overdue": 0,
        "lines": [{"label": "Energy", "category": "energy", "amount": "52.10"},
                  {"label": "Network", "category": "network", "amount": "20.00"},
                  {"label": "Taxes", "category": "taxes", "amount": "12.10"}],
        "consumption": {"unit": "kWh", "peer_average": 230.0, "history": [
            {"month": f"{2025 + (m + 10) // 12}-{(m + 10) % 12 + 1:02d}", "value": 180.0 + 7 * m}
            for m in range(13)]},
    },
    "payment": {"url": "https://pay.example.com/i/S-2026-11-000042"},
}  # fmt: skip
_ENDING: dict[str, dict[str, Any]] = {
    "pay": {},
    "nudge": {"status": "overdue", "days_overdue": 6},
    "firm": {"status": "overdue", "days_overdue": 45},
    "thanks": {"status": "paid"},
    "credit": {"total": "-12.40", "lines": None},
}


class UnknownSample(ValueError):
    """No sample of that ending, or a locale the template has no strings for."""


def sample_bill(ending: str, locale: str | None = None) -> dict[str, Any]:
    """A synthetic bill whose ending is `ending`, in `locale`."""
    if ending not in _ENDING:
        raise UnknownSample(f"no sample bill {ending!r}; there are {', '.join(ENDINGS)}")
    bill = copy.deepcopy(_BASE)
    for key, value in _ENDING[ending].items():
        if value is None:
            bill["bill"].pop(key, None)
        else:
            bill["bill"][key] = value
    if locale is not None:
        bill["customer"]["locale"] = locale
    return bill


def template_locales(bundle: TemplateBundle) -> list[str]:
    return bundle.narration.locales


def check(bundle: TemplateBundle, ending: str, locale: str, video_format: str) -> None:
    if ending not in _ENDING:
        raise UnknownSample(f"no sample bill {ending!r}; there are {', '.join(ENDINGS)}")
    if locale not in template_locales(bundle):
        raise UnknownSample(f"the template has no strings for {locale!r}")
    if video_format not in FORMAT_NAMES:
        raise UnknownSample(f"the format is one of {', '.join(FORMAT_NAMES)}")


def png(image: Image.Image, width: int | None = None) -> str:
    """The image as base64 PNG (scaled to `width` when given)."""
    if width is not None and image.width > width:
        image = image.resize((width, round(image.height * width / image.width)))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=1)
    return base64.b64encode(out.getvalue()).decode()


def still_json(still: Still, width: int | None = None) -> dict[str, Any]:
    return {
        "image": png(still.image, width),
        "width": still.image.width,
        "height": still.image.height,
        "format": still.format,
        "time": still.time,
        "scene": still.scene,
        "duration": still.duration,
        "scenes": [{"id": s.id, "start": s.start, "end": s.end} for s in still.scenes],
        "marks": [_mark(m) for m in still.marks],
    }


def _mark(mark: Any) -> dict[str, Any]:
    data = mark.__dict__ if hasattr(mark, "__dict__") else {}
    return {k: (v if isinstance(v, str | int | float | bool | None) else str(v))
            for k, v in data.items()}  # fmt: skip


@dataclass(frozen=True)
class Frames:
    poster: dict[str, Any]
    frame: dict[str, Any]


def frames(bundle: TemplateBundle, ending: str, locale: str, fmt: str, t: float) -> Frames:
    """The poster and the frame at `t` seconds of a sample's video."""
    check(bundle, ending, locale, fmt)
    preview = Preview(sample_bill(ending, locale), bundle, fmt)
    return Frames(still_json(preview.poster()), still_json(preview.frame_at(t)))


def grid(bundle: TemplateBundle, scene_id: str) -> list[dict[str, Any]]:
    """One scene's settled frame for every ending x locale x format, with its marks; a cell
    where the scene does not show for that sample says so."""
    cells = []
    for ending in ENDINGS:
        for locale in template_locales(bundle):
            for fmt in FORMAT_NAMES:
                cell: dict[str, Any] = {"ending": ending, "locale": locale, "format": fmt}
                try:
                    preview = Preview(sample_bill(ending, locale), bundle, fmt)
                    planned = preview.scene(scene_id)
                    if planned is None:
                        cell["absent"] = True
                    else:
                        still = preview.settled(planned)
                        cell.update(image=png(still.image, GRID_WIDTH),
                                    marks=[_mark(m) for m in still.marks])  # fmt: skip
                except Exception as exc:  # a cell that fails is shown failing, not hidden
                    cell["error"] = f"{type(exc).__name__}: {exc}"
                cells.append(cell)
    return cells


def site_html(bundle: TemplateBundle, ending: str, locale: str) -> str:
    """The sample's microsite as one HTML document (styles and pictures inline)."""
    check(bundle, ending, locale, FORMAT_NAMES[0])
    bill = sample_bill(ending, locale)
    links = SiteLinks(video="", poster="", captions="", pay=bill["payment"]["url"])
    page = SitePage(bundle.microsite_dir, bundle.messages)
    return render_html(bill_facts(bill, bundle.locale), page, links, with_video=False, bill=bill)
